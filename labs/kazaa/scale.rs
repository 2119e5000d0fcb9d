//! `lab-kazaa --scale` (issue #16): networks of 125, 250, 500 and 1,000 nodes with one
//! group leader per ~31 nodes (4, 8, 16, 32 leaders), in this one process. A query
//! reaches every leader, never a child, so what it costs grows with the leaders, not the
//! nodes: the table and the chart show it beside the nodes. Shared with `bench-kazaa`.
// Shared by lab-kazaa and bench-kazaa; each uses a part.
#![allow(dead_code)]

use super::catalog::{self, Rng};
use super::world::{self, Measure, Setup, World};
use p2plab::distribution::chart::{save, svg, Style};
use p2plab::kazaa::Mode;
use p2plab::scale::{self, CostTable, Measured, Point};
use p2plab::usage::Usage;
use std::path::Path;
use std::time::Instant;

/// The largest network the lab is tested with.
pub const MAX_NODES: usize = 1000;
/// The smallest network of the curve; each next one is twice as large.
pub const FIRST: usize = 125;
/// Nodes per leader at every size: 1,000 nodes under 32 leaders.
pub const NODES_PER_LEADER: f64 = 1000.0 / 32.0;
/// Leader-to-leader hops: 1 reaches the full mesh, 2 is the lab's default.
pub const TTL: u8 = 2;

/// One network's figures.
#[derive(Debug, Clone)]
pub struct Row {
    pub nodes: usize,
    pub leaders: usize,
    /// Seconds to start the leaders, link them, and join and index every node.
    pub build_s: f64,
    /// Seconds for the workload (queries one at a time).
    pub work_s: f64,
    pub stop_s: f64,
    pub queries: usize,
    pub m: Measure,
    pub per_node: Usage,
}

impl Measured for Row {
    fn point(&self) -> Point {
        let run_s = self.build_s + self.work_s + self.stop_s;
        Point::new(self.nodes, run_s, self.per_node)
    }
}

/// Leaders the lab is tested with (the full mesh of 32 is 496 links).
pub const MAX_LEADERS: usize = 64;

/// `v` within `lo..=hi` (the tested range of option `--name`), saying so when it had to
/// change it.
pub fn clamp(name: &str, v: usize, lo: usize, hi: usize) -> usize {
    p2plab::opts::clamp("lab-kazaa", name, v, lo, hi)
}

/// Leaders for `nodes` at [`NODES_PER_LEADER`].
pub fn leaders_for(nodes: usize) -> usize {
    ((nodes as f64 / NODES_PER_LEADER).round() as usize).max(1)
}

/// The sizes of a scale run up to `max`, largest first (see
/// `p2plab::scale::sizes_largest_first`).
pub fn sizes(max: usize) -> Vec<usize> {
    scale::sizes_largest_first(FIRST, max)
}

/// Builds `nodes` nodes under [`leaders_for`] leaders (full mesh, no promotion), runs
/// `queries` queries from random nodes, reads the cost per node, stops.
pub fn measure(nodes: usize, queries: usize, seed: u64) -> Result<Row, String> {
    let leaders = leaders_for(nodes);
    let before = Usage::now();
    let mut rng = Rng::new(seed);
    let songs = catalog::songs(60, &mut rng);
    let setup = Setup {
        leaders,
        nodes,
        files: 3,
        max_children: 0, // no promotion: the leaders stay the ones counted
        index_limit: 0,
        dedup: true,
        mode: Mode::Forward,
    };
    let t = Instant::now();
    let w = World::build(&setup, &songs, &mut rng, "kazaa-scale")?;
    let build_s = t.elapsed().as_secs_f64();
    let work = world::queries(queries, nodes, &songs, &mut rng);
    let t = Instant::now();
    let m = world::workload(&w, &work, TTL)?;
    let work_s = t.elapsed().as_secs_f64();
    let per_node = Usage::now().per_node(&before, nodes + leaders);
    let t = Instant::now();
    drop(w);
    Ok(Row {
        nodes,
        leaders,
        build_s,
        work_s,
        stop_s: t.elapsed().as_secs_f64(),
        queries,
        m,
        per_node,
    })
}

pub fn table(rows: &[Row]) -> CostTable {
    let mut t = CostTable::new(
        &[
            "nodes",
            "leaders",
            "build s",
            "queries s",
            "stop s",
            "messages/query",
            "leaders touched",
            "duplicates/query",
            "hits/query",
            "queries/s",
        ],
        &[],
    );
    for r in rows {
        t.row(
            &[
                &r.nodes,
                &r.leaders,
                &format!("{:.1}", r.build_s),
                &format!("{:.1}", r.work_s),
                &format!("{:.1}", r.stop_s),
                &format!("{:.1}", r.m.messages),
                &format!("{:.1}", r.m.touched),
                &format!("{:.1}", r.m.duplicates),
                &format!("{:.1}", r.m.hits),
                &format!("{:.1}", r.m.per_second),
            ],
            &r.per_node,
            &[],
        );
    }
    t
}

/// Messages per query and leaders per N, beside the nodes themselves.
pub fn chart(rows: &[Row], path: &Path) -> Result<(), String> {
    let series = scale::series(
        rows,
        &[
            ("messages per query", "#d62728", Style::Points, &|r| {
                r.m.messages
            }),
            ("duplicates per query", "#ff7f0e", Style::Squares, &|r| {
                r.m.duplicates
            }),
            ("leaders L (all searched)", "#1f77b4", Style::Line, &|r| {
                r.leaders as f64
            }),
            ("nodes N (never asked)", "#2ca02c", Style::Line, &|r| {
                r.nodes as f64
            }),
        ],
    );
    let doc = svg(
        "KaZaA: what one query costs as the network grows (L = N/31)",
        "nodes N",
        "messages per query; leaders; nodes",
        &series,
    );
    save(path, &doc)
}

/// `lab-kazaa --scale`: measure every size, print the growth table and the N -> 4N
/// ratios, write the chart.
pub fn run(max: usize, queries: usize, seed: u64, path: &Path) -> Result<(), String> {
    println!(
        "lab-kazaa --scale: one leader per {NODES_PER_LEADER:.0} nodes, leaders in a full mesh, ttl {TTL}, {queries} queries one at a time"
    );
    println!("   nodes N = {:?}\n", sizes(max));
    let rows = scale::run_sizes(
        &sizes(max),
        |n| measure(n, queries, seed),
        |r| {
            println!(
                "   N = {:>5} under {:>2} leaders: built in {:.1} s, queries in {:.1} s, stopped in {:.1} s",
                r.nodes, r.leaders, r.build_s, r.work_s, r.stop_s
            )
        },
    )?;
    let how = "growth of this process's /proc/self figures, divided by nodes + leaders";
    scale::print_growth_section(&table(&rows), &rows, how);
    chart(&rows, path)?;
    println!("\nchart: {}", path.display());
    Ok(())
}
