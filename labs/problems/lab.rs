//! The lab's steps, one method each, in the handout's order (README.md here).

use crate::designs::{Entry, Setup};
use p2plab::distribution::chart::{svg_axes, Axis, Series, Style};
use p2plab::locate::measure::{self, directory_load, threads_cpu, Column, MeasureConfig};
use p2plab::locate::workload::{Workload, WorkloadConfig};
use p2plab::locate::Design;
use p2plab::report::Table;
use std::path::PathBuf;

/// The largest network the lab starts (each design, one after the other, in one process).
pub const MAX_PEERS: usize = 256;
use std::time::{Duration, Instant};

/// Searches per design at each size of the scaling runs: enough for a stable mean.
const SCALING_SEARCHES: usize = 24;
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
}

/// One point of the scaling runs.
struct Scaled {
    n: usize,
    msgs_per_search: f64,
    busiest_share: f64,
}

pub struct Lab {
    pub a: Args,
    columns: Vec<Column>,
    scaled: Vec<Vec<Scaled>>,
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

/// A design's expected shape at `n`, scaled to pass through its first measured point:
/// the chart compares how costs grow, not their units.
fn expected(e: &Entry, measured: &[Scaled], n: usize) -> f64 {
    match measured.first() {
        Some(first) if first.msgs_per_search.is_finite() => {
            first.msgs_per_search / (e.expected_shape)(first.n) * (e.expected_shape)(n)
        }
        _ => f64::NAN,
    }
}

fn pct(x: f64) -> String {
    if x.is_nan() {
        "-".into()
    } else {
        format!("{:.0} %", 100.0 * x)
    }
}

fn num(x: f64, decimals: usize) -> String {
    if x.is_nan() {
        "-".into()
    } else {
        format!("{x:.decimals$}")
    }
}

impl Lab {
    pub fn new(a: Args) -> Lab {
        Lab {
            a,
            columns: Vec::new(),
            scaled: Vec::new(),
        }
    }

    /// Every step the options ask for, in the handout's order.
    pub fn run(&mut self) -> Result<(), String> {
        self.side_by_side()?;
        self.table();
        if !self.a.no_load {
            self.directory_load()?;
        }
        if !self.a.no_scaling {
            self.scaling()?;
            self.chart()?;
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
                "   {:<22} {:.1} s: found {}/{} searches, {} messages each; {}",
                col.design,
                t.elapsed().as_secs_f64(),
                col.found,
                col.answerable,
                num(col.msgs_per_search.get(), 1),
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

    /// The side-by-side table, one column per design.
    fn table(&self) {
        let mut header = vec!["measured".to_string()];
        header.extend(self.columns.iter().map(|c| c.design.clone()));
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        let mut t = Table::new(&header);
        let row = |t: &mut Table, name: &str, f: &dyn Fn(&Column) -> String| {
            let mut cells = vec![name.to_string()];
            cells.extend(self.columns.iter().map(f));
            let refs: Vec<&dyn std::fmt::Display> =
                cells.iter().map(|c| c as &dyn std::fmt::Display).collect();
            t.row(&refs);
        };
        let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1000.0);
        row(&mut t, "searches found (定位)", &|c| pct(c.success_rate()));
        row(&mut t, "messages per search", &|c| {
            num(c.msgs_per_search.get(), 1)
        });
        row(&mut t, "bytes per search", &|c| {
            num(c.bytes_per_search.get(), 0)
        });
        row(&mut t, "search p50 / p99 ms", &|c| {
            format!("{} / {}", ms(c.p50()), ms(c.p99()))
        });
        row(&mut t, "busiest node's share", &|c| {
            c.busiest
                .as_ref()
                .map_or("-".into(), |(n, s)| format!("{} ({n})", pct(*s)))
        });
        row(&mut t, "join: messages", &|c| num(c.join_msgs.get(), 1));
        row(&mut t, "join: s until findable", &|c| {
            num(c.join_secs.get(), 3)
        });
        row(&mut t, "leave: messages", &|c| num(c.leave_msgs.get(), 1));
        row(&mut t, "leave: s until gone", &|c| {
            num(c.leave_secs.get(), 3)
        });
        row(&mut t, "crash: s until gone", &|c| {
            num(c.crash_secs.get(), 3)
        });
        row(&mut t, "wrong / stale providers", &|c| {
            format!("{} / {}", c.wrong, c.stale)
        });
        row(&mut t, "killed (单点故障)", &|c| {
            c.kill.as_ref().map_or("-".into(), |k| k.what.clone())
        });
        row(&mut t, "searches failed after", &|c| {
            c.kill
                .as_ref()
                .map_or("-".into(), |k| format!("{}/{}", k.failed, k.tried))
        });
        row(&mut t, "s to recover", &|c| {
            c.kill.as_ref().map_or("-".into(), |k| {
                k.recovered
                    .map_or("never".into(), |d| format!("{:.2}", d.as_secs_f64()))
            })
        });
        row(&mut t, "rare songs lost", &|c| {
            c.kill
                .as_ref()
                .map_or("-".into(), |k| format!("{}/{}", k.lost, k.checked))
        });
        println!(
            "\n== the table ({} peers, seed {})",
            self.a.peers, self.a.seed
        );
        t.print();
    }

    /// Every figure of the side-by-side table, named `<design>_<figure>`, for the bench.
    #[allow(dead_code)] // bench-problems writes them; lab-problems only prints
    pub fn figures(&self) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        for (e, c) in self.a.designs.iter().zip(&self.columns) {
            let k = e.key;
            let kill = c.kill.as_ref();
            out.extend([
                (format!("{k}_search_success"), c.success_rate()),
                (format!("{k}_msgs_per_search"), c.msgs_per_search.get()),
                (format!("{k}_bytes_per_search"), c.bytes_per_search.get()),
                (format!("{k}_search_p50_ms"), c.p50().as_secs_f64() * 1000.0),
                (format!("{k}_search_p99_ms"), c.p99().as_secs_f64() * 1000.0),
                (
                    format!("{k}_busiest_share"),
                    c.busiest.as_ref().map_or(f64::NAN, |b| b.1),
                ),
                (format!("{k}_join_msgs"), c.join_msgs.get()),
                (format!("{k}_join_secs"), c.join_secs.get()),
                (format!("{k}_leave_msgs"), c.leave_msgs.get()),
                (format!("{k}_leave_secs"), c.leave_secs.get()),
                (format!("{k}_crash_secs"), c.crash_secs.get()),
                (format!("{k}_wrong_providers"), c.wrong as f64),
                (
                    format!("{k}_kill_failed"),
                    kill.map_or(f64::NAN, |k| k.failed as f64),
                ),
                (
                    format!("{k}_kill_recover_secs"),
                    kill.and_then(|k| k.recovered)
                        .map_or(f64::NAN, |d| d.as_secs_f64()),
                ),
                (
                    format!("{k}_kill_lost"),
                    kill.map_or(f64::NAN, |k| k.lost as f64),
                ),
            ]);
        }
        for (e, pts) in self.a.designs.iter().zip(&self.scaled) {
            for p in pts {
                out.push((
                    format!("{}_msgs_per_search_n{}", e.key, p.n),
                    p.msgs_per_search,
                ));
                out.push((format!("{}_busiest_share_n{}", e.key, p.n), p.busiest_share));
            }
        }
        out
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
            ..MeasureConfig::default()
        };
        for e in self.a.designs.clone() {
            let mut points = Vec::new();
            for &n in &self.a.sizes {
                let w = Workload::generate(&WorkloadConfig {
                    searches: SCALING_SEARCHES,
                    churn: 0,
                    ..WorkloadConfig::new(n, self.a.seed)
                });
                let t = Instant::now();
                let setup = self.setup(n);
                let col = with_design(e, &setup, |d| measure::run(d, &w, &cfg))?;
                let share = col.busiest.as_ref().map_or(f64::NAN, |b| b.1);
                println!(
                    "   {:<22} N = {n:>4}: {:>8} messages per search (expected {:>8}), busiest {} ({:.1} s)",
                    e.key,
                    num(col.msgs_per_search.get(), 1),
                    num(expected(e, &points, n), 1),
                    pct(share),
                    t.elapsed().as_secs_f64()
                );
                points.push(Scaled {
                    n,
                    msgs_per_search: col.msgs_per_search.get(),
                    busiest_share: share,
                });
            }
            self.scaled.push(points);
        }
        Ok(())
    }

    /// The scaling chart: measured points beside each design's expected growth.
    fn chart(&self) -> Result<(), String> {
        const COLORS: [&str; 6] = [
            "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
        ];
        let mut series = Vec::new();
        for (i, (e, pts)) in self.a.designs.iter().zip(&self.scaled).enumerate() {
            let color = COLORS[i % COLORS.len()];
            series.push(Series {
                name: format!("{}: messages/search", e.key),
                color,
                style: Style::Points,
                points: pts
                    .iter()
                    .map(|p| (p.n as f64, p.msgs_per_search))
                    .collect(),
            });
            series.push(Series {
                name: format!("{}: {}", e.key, e.expected),
                color,
                style: Style::Line,
                points: self
                    .a
                    .sizes
                    .iter()
                    .map(|&n| (n as f64, expected(e, pts, n)))
                    .collect(),
            });
            series.push(Series {
                name: format!("{}: busiest node, %", e.key),
                color,
                style: Style::Squares,
                points: pts
                    .iter()
                    .map(|p| (p.n as f64, 100.0 * p.busiest_share))
                    .collect(),
            });
        }
        let doc = svg_axes(
            "notes 6.4: what one search costs as the network grows",
            "peers N (log)",
            "messages per search; busiest node's share in % (log)",
            &series,
            Axis::Log,
            Axis::Log,
        );
        if let Some(dir) = self.a.svg.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(&self.a.svg, doc).map_err(|e| format!("{}: {e}", self.a.svg.display()))?;
        println!("\nchart: {}", self.a.svg.display());
        Ok(())
    }
}
