//! The lab's steps, one method each, in the handout's order (README.md here).

use crate::designs::{Entry, Setup};
use crate::report::{self, num, pct, Scaled};
use crate::trade;
use p2plab::locate::measure::{self, directory_load, threads_cpu, Column, MeasureConfig};
use p2plab::locate::workload::{Step, Workload, WorkloadConfig};
use p2plab::locate::Design;
use p2plab::report::Table;
use std::path::PathBuf;

use std::time::{Duration, Instant};

/// The largest network the lab starts (each design, one after the other, in one process).
pub const MAX_PEERS: usize = 256;
/// N of the scaling runs by default: up to the largest, where log2 N and N differ most.
pub const DEFAULT_SIZES: [usize; 5] = [16, 32, 64, 128, 256];

/// Searches per design at each size of the scaling runs: enough for a stable mean.
const SCALING_SEARCHES: usize = 24;
/// Idle time over which a scaling run measures the network's upkeep, per node.
const SCALING_IDLE: Duration = Duration::from_millis(500);
/// Joins plus leaves per second in the directory-load sweep, at a fixed search rate.
const CHURN_RATES: [f64; 4] = [0.0, 20.0, 80.0, 320.0];
const SEARCH_RATE: f64 = 50.0;
const LOAD_STEP: Duration = Duration::from_secs(1);

/// The lab's options.
pub struct Args {
    pub peers: usize,
    pub designs: Vec<&'static Entry>,
    pub sizes: Vec<usize>,
    pub svg: PathBuf,
    pub seed: u64,
    pub no_load: bool,
    pub no_scaling: bool,
    /// Skip step 1b, KaZaA's forward / copy / both.
    pub no_trade: bool,
}

pub struct Lab {
    pub a: Args,
    pub(crate) columns: Vec<Column>,
    pub(crate) scaled: Vec<Vec<Scaled>>,
    /// Step 1b: KaZaA's leaders in each mode.
    pub(crate) trade: Vec<trade::Trade>,
}

/// The workload with every search turned to a song one peer holds (song j ≥ N): every
/// design then returns one provider, and the messages count the locating alone, not
/// the answers, whose number grows with a popular song's copies.
fn rare_searches(mut w: Workload) -> Workload {
    let n = w.holds.len();
    let rare: Vec<String> = w.songs[n.min(w.songs.len())..]
        .iter()
        .filter_map(|s| p2plab::locate::keywords(&s.name).into_iter().next())
        .collect();
    if rare.is_empty() {
        return w;
    }
    let mut i = 0;
    for step in &mut w.steps {
        if let Step::Search { keyword, .. } = step {
            *keyword = rare[i % rare.len()].clone();
            i += 1;
        }
    }
    w
}

/// Starts a design, runs `body` on it, and stops it whatever happened.
fn with_design<T>(
    e: &Entry,
    setup: &Setup,
    body: impl FnOnce(&mut dyn Design) -> Result<T, String>,
) -> Result<T, String> {
    let mut d = (e.start)(setup).map_err(|why| format!("{}: could not start: {why}", e.key))?;
    let out = body(d.as_mut());
    d.stop();
    out
}

impl Lab {
    pub fn new(a: Args) -> Lab {
        Lab {
            a,
            columns: Vec::new(),
            scaled: Vec::new(),
            trade: Vec::new(),
        }
    }

    /// Every step the options ask for, in the handout's order.
    pub fn run(&mut self) -> Result<(), String> {
        self.side_by_side()?;
        report::table(&self.columns, self.a.peers, self.a.seed);
        let kazaa = self.a.designs.iter().any(|e| e.key == "kazaa");
        if kazaa && !self.a.no_trade {
            let w = Workload::generate(&WorkloadConfig::new(self.a.peers, self.a.seed));
            self.trade = trade::run(&w, self.a.peers)?;
        }
        if !self.a.no_load {
            self.directory_load()?;
        }
        if !self.a.no_scaling {
            self.scaling()?;
            report::chart(&self.a.designs, &self.scaled, &self.a.sizes, &self.a.svg)?;
        }
        Ok(())
    }

    fn setup(&self, peers: usize) -> Setup {
        Setup {
            peers,
            seed: self.a.seed,
        }
    }

    /// Step 1: the same workload on every design.
    fn side_by_side(&mut self) -> Result<(), String> {
        let w = Workload::generate(&WorkloadConfig::new(self.a.peers, self.a.seed));
        println!(
            "== 1. one workload, {} designs: {} peers ({} at the start), {} songs, {} steps (searches and churn)",
            self.a.designs.len(),
            self.a.peers,
            w.initial.len(),
            w.songs.len(),
            w.steps.len()
        );
        for e in self.a.designs.clone() {
            let t = Instant::now();
            let setup = self.setup(self.a.peers);
            let col = with_design(e, &setup, |d| {
                measure::run(d, &w, &MeasureConfig::default())
            })?;
            println!(
                "   {:<22} {:.1} s: found {}/{} searches, {} messages each, upkeep {} messages/s per node; {}",
                col.design,
                t.elapsed().as_secs_f64(),
                col.found,
                col.answerable,
                num(col.msgs_per_search.get(), 1),
                num(col.upkeep_per_node, 1),
                match &col.kill {
                    Some(k) => format!(
                        "killed {}: {}/{} searches failed, {} of {} rare songs lost",
                        k.what, k.failed, k.tried, k.lost, k.checked
                    ),
                    None => "no special node to kill".into(),
                }
            );
            for n in &col.notes {
                println!("      note: {n}");
            }
            self.columns.push(col);
        }
        Ok(())
    }

    /// Step 2: the directory's second bottleneck, logins and logouts.
    fn directory_load(&mut self) -> Result<(), String> {
        for e in self.a.designs.clone() {
            let Some(prefix) = e.special_threads else {
                continue;
            };
            println!(
                "\n== 2. {}: {SEARCH_RATE} searches/s, joins+leaves/s rising; the special node's work",
                e.key
            );
            let w = Workload::generate(&WorkloadConfig::new(self.a.peers, self.a.seed));
            let setup = self.setup(self.a.peers);
            let cpu = || threads_cpu(prefix);
            let points = with_design(e, &setup, |d| {
                directory_load(d, &w, &CHURN_RATES, SEARCH_RATE, LOAD_STEP, &cpu)
            })?;
            let mut t = Table::new(&[
                "joins+leaves/s asked",
                "done",
                "searches/s",
                "its messages/s",
                "its CPU ms/s",
            ]);
            for p in &points {
                t.row(&[
                    &p.churn_asked,
                    &format!("{:.0}", p.churn_done),
                    &format!("{:.0}", p.searches_done),
                    &format!("{:.0}", p.special_msgs),
                    &format!("{:.1}", p.special_cpu_ms),
                ]);
            }
            t.print();
        }
        Ok(())
    }

    /// Step 3: how the cost of a search grows with N.
    fn scaling(&mut self) -> Result<(), String> {
        println!(
            "\n== 3. scaling: messages per search and the busiest node's share, N = {:?}",
            self.a.sizes
        );
        let cfg = MeasureConfig {
            kill: false,
            idle: SCALING_IDLE,
            ..MeasureConfig::default()
        };
        for e in self.a.designs.clone() {
            let mut points = Vec::new();
            for &n in &self.a.sizes {
                let w = rare_searches(Workload::generate(&WorkloadConfig {
                    searches: SCALING_SEARCHES,
                    churn: 0,
                    ..WorkloadConfig::new(n, self.a.seed)
                }));
                let t = Instant::now();
                let setup = self.setup(n);
                let col = with_design(e, &setup, |d| measure::run(d, &w, &cfg))?;
                let share = col.busiest.as_ref().map_or(f64::NAN, |b| b.1);
                points.push(Scaled {
                    n,
                    msgs_per_search: col.msgs_per_search.get(),
                    busiest_share: share,
                    upkeep_per_node: col.upkeep_per_node,
                });
                println!(
                    "   {:<9} N = {n:>4}: {:>7} messages per search (expected {:>7}), busiest {:>4}, upkeep {:>6} messages/s per node ({:.1} s)",
                    e.key,
                    num(col.msgs_per_search.get(), 1),
                    num(report::expected(e, &points, n), 1),
                    pct(share),
                    num(col.upkeep_per_node, 1),
                    t.elapsed().as_secs_f64()
                );
            }
            self.scaled.push(points);
        }
        Ok(())
    }
}
