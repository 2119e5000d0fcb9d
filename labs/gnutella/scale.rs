//! `lab-gnutella --scale` (issue #16): random overlays of 125, 250, 500 and 1,000
//! servents in this one process (up to `--peers`), each flooding the TTL sweep. A flood
//! costs about one message per edge and direction once the TTL covers the overlay
//! (N·d), never more than the flood bound d + d(d-1) + ... ; the table and the chart
//! show where each size sits between the two. Shared with `bench-gnutella`.
// Shared by lab-gnutella and bench-gnutella; each uses a part.
#![allow(dead_code)]

use crossbeam_channel::unbounded;
use p2plab::distribution::chart::{save, svg, Style};
use p2plab::gnutella::overlay::{distances, random_regular};
use p2plab::gnutella::{observe, policy, Config, Servent, STACK_SIZE};
use p2plab::report::Table;
use p2plab::scale::{self, CostTable, Measured, Point};
use p2plab::share::Folder;
use p2plab::usage::{self, Usage};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The smallest overlay of the curve; each next one is twice as large, up to the max.
pub const FIRST: usize = 125;
/// How long one flood may take before the run gives up.
const FLOOD_LIMIT: Duration = Duration::from_secs(60);

/// One overlay's figures.
#[derive(Debug, Clone)]
pub struct Row {
    pub n: usize,
    pub d: usize,
    pub edges: usize,
    /// Seconds to start every servent and connect the overlay.
    pub build_s: f64,
    /// Seconds for the whole TTL sweep (one flood per TTL, each waited for).
    pub sweep_s: f64,
    /// Seconds to stop every servent.
    pub stop_s: f64,
    /// Per TTL 1..=t_max: (servents within TTL hops, reached, messages, duplicates).
    pub floods: Vec<(usize, usize, u64, u64)>,
    pub per_node: Usage,
    /// The deepest any servent thread's stack has been used, KiB.
    pub stack_kib: Option<u64>,
}

impl Measured for Row {
    fn point(&self) -> Point {
        let run_s = self.build_s + self.sweep_s + self.stop_s;
        Point::new(self.n, run_s, self.per_node)
    }
}

impl Row {
    /// The last flood of the sweep (the largest TTL).
    pub fn last(&self) -> (usize, usize, u64, u64) {
        self.floods.last().copied().unwrap_or_default()
    }
}

/// The sizes of a scale run up to `max`, largest first (see
/// `p2plab::scale::sizes_largest_first`).
pub fn sizes(max: usize) -> Vec<usize> {
    scale::sizes_largest_first(FIRST, max)
}

/// Starts `n` servents (no files, degree 0: the overlay is drawn here, from `seed`),
/// connects a random `d`-regular overlay, floods TTL 1..=t_max from servent 0, stops.
pub fn measure(n: usize, d: usize, t_max: u8, seed: u64) -> Result<Row, String> {
    let before = Usage::now();
    let dir = std::env::temp_dir().join(format!("p2plab-gnutella-scale-{}", std::process::id()));
    let share = Arc::new(Folder::empty(&dir));
    let (tx, trace) = unbounded();
    let t = Instant::now();
    let mut s = Vec::with_capacity(n);
    for i in 0..n {
        let mut cfg = Config::new(share.clone());
        cfg.degree = 0;
        cfg.trace = Some(tx.clone());
        cfg.seed = seed + i as u64;
        s.push(Servent::start(cfg).map_err(|e| format!("servent {i} of {n}: {e}"))?);
    }
    let edges = random_regular(n, d, seed);
    for &(a, b) in &edges {
        s[a].connect(s[b].addr())
            .map_err(|e| format!("N = {n}: #{a} -> #{b}: {e}"))?;
    }
    let build_s = t.elapsed().as_secs_f64();
    let dist = distances(n, &edges, 0);
    // Connection traces are not needed: drop them before the floods are read.
    while trace.try_recv().is_ok() {}
    let t = Instant::now();
    let mut floods = Vec::new();
    for ttl in 1..=t_max {
        let guid = s[0].query("abbey road", ttl);
        let f = observe::collect(&trace, guid, FLOOD_LIMIT)
            .map_err(|_| format!("N = {n}: the TTL {ttl} flood did not finish"))?;
        let in_range = dist
            .iter()
            .skip(1)
            .filter(|x| x.is_some_and(|x| x <= ttl as u32))
            .count();
        floods.push((in_range, f.reached.len(), f.messages, f.duplicates));
    }
    let sweep_s = t.elapsed().as_secs_f64();
    let per_node = Usage::now().per_node(&before, n);
    let stack_kib = usage::deepest_stack_kib(STACK_SIZE);
    drop(tx);
    let t = Instant::now();
    drop(s);
    let stop_s = t.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Row {
        n,
        d,
        edges: edges.len(),
        build_s,
        sweep_s,
        stop_s,
        floods,
        per_node,
        stack_kib,
    })
}

/// The growth table: one row per overlay.
pub fn table(rows: &[Row], t_max: u8) -> CostTable {
    let mut t = CostTable::new(
        &[
            "N",
            "edges",
            "build s",
            "sweep s",
            "stop s",
            &format!("reached (TTL {t_max})"),
            "messages",
            "N·d",
            "flood bound",
        ],
        &["stack KiB"],
    );
    for r in rows {
        let (_, reached, msgs, _) = r.last();
        t.row(
            &[
                &r.n,
                &r.edges,
                &format!("{:.1}", r.build_s),
                &format!("{:.1}", r.sweep_s),
                &format!("{:.1}", r.stop_s),
                &reached,
                &msgs,
                &(r.n * r.d),
                &policy::flood_bound(r.d as u64, t_max as u32),
            ],
            &r.per_node,
            &[&r.stack_kib.map_or("-".into(), |k| k.to_string())],
        );
    }
    t
}

/// The chart: messages of the largest-TTL flood per N, beside N·d and the flood bound.
pub fn chart(rows: &[Row], t_max: u8, path: &Path) -> Result<(), String> {
    let d = rows.first().map_or(4, |r| r.d);
    let bound = |r: &Row| policy::flood_bound(r.d as u64, t_max as u32) as f64;
    let name = [
        format!("messages of one TTL {t_max} flood"),
        format!("N·d = {d}N: each edge both ways"),
        format!("flood bound, TTL {t_max}"),
    ];
    let series = scale::series(
        rows,
        &[
            (&name[0], "#d62728", Style::Points, &|r| r.last().2 as f64),
            ("servents reached", "#1f77b4", Style::Squares, &|r| {
                r.last().1 as f64
            }),
            (&name[1], "#2ca02c", Style::Line, &|r| (r.n * r.d) as f64),
            (&name[2], "#9467bd", Style::Line, &bound),
        ],
    );
    let doc = svg(
        &format!("Gnutella: what one TTL {t_max} flood costs as the overlay grows"),
        "servents N",
        "messages (Query copies sent); servents reached",
        &series,
    );
    save(path, &doc)
}

/// `lab-gnutella --scale`: measure every size, print the sweep of the largest, the
/// growth table and the N -> 4N ratios, and write the chart.
pub fn run(max: usize, d: usize, t_max: u8, seed: u64, path: &Path) -> Result<(), String> {
    println!("lab-gnutella --scale: random overlays of degree {d} in this one process, TTL 1..{t_max} from #0");
    println!(
        "   servents N = {:?}; each servent's threads have {} KiB stacks (gnutella::STACK_SIZE)\n",
        sizes(max),
        STACK_SIZE / 1024
    );
    let rows = scale::run_sizes(
        &sizes(max),
        |n| measure(n, d, t_max, seed),
        |r| {
            println!(
                "   N = {:>5}: built in {:.1} s, swept in {:.1} s, stopped in {:.1} s",
                r.n, r.build_s, r.sweep_s, r.stop_s
            )
        },
    )?;
    if let Some(big) = rows.last() {
        println!("\n== the TTL sweep at N = {}", big.n);
        let mut t = Table::new(&[
            "TTL",
            "in range",
            "reached",
            "messages",
            "bound",
            "duplicates",
        ]);
        for (i, (in_range, reached, msgs, dups)) in big.floods.iter().enumerate() {
            let ttl = i as u32 + 1;
            t.row(&[
                &ttl,
                in_range,
                reached,
                msgs,
                &policy::flood_bound(d as u64, ttl),
                dups,
            ]);
        }
        t.print();
    }
    let how = "growth of this process's /proc/self figures, divided by N";
    scale::print_growth_section(&table(&rows, t_max), &rows, how);
    println!(
        "   stack KiB: the deepest any servent thread's stack was touched (of {} KiB)",
        STACK_SIZE / 1024
    );
    chart(&rows, t_max, path)?;
    println!("\nchart: {}", path.display());
    Ok(())
}
