//! `lab-dht --scale` (issue #16): rings of 64, 256, 1,024 and 4,096 nodes in this one
//! process, each built, settled and measured by `p2plab::dht::scale::measure`; the table,
//! and two charts written by the project's one chart writer
//! (`p2plab::distribution::chart`): hops against ½·log2 N, and what grows with N.

use super::Opts;
use p2plab::dht::scale::{measure, sizes, ScaleRow, SCALE_MAX};
use p2plab::distribution::chart::{save, svg_axes, Axis, Style};
use p2plab::scale;
use std::path::Path;
use std::time::Duration;

/// Longest a ring may take to settle; issue #16 asks 60 s for 1,024 and 5 min for 4,096.
const LIMIT: Duration = Duration::from_secs(600);
/// The smallest ring of the table; each next one is four times larger.
const FIRST: usize = 64;
/// Where the charts go.
const HOPS_SVG: &str = "target/dht-scale-hops.svg";
const COST_SVG: &str = "target/dht-scale-cost.svg";

pub fn run(o: &Opts) -> Result<(), String> {
    println!(
        "lab-dht --scale: Chord rings in one process, m = 160, r = log2 N, every node a UDP socket"
    );
    println!(
        "   maintenance periods grow with N (Config::lab_time_scale); {} random lookups per ring",
        o.lookups
    );
    let max = if o.max < FIRST {
        println!(
            "lab-dht: --max {} is below the table's first ring; using {FIRST}",
            o.max
        );
        FIRST
    } else {
        o.max
    };
    println!(
        "   sizes: {:?} (at most {SCALE_MAX}, the tested maximum)\n",
        sizes(FIRST, max)
    );
    println!("{}", ScaleRow::HEADER);
    let rows = scale::run_sizes(
        &sizes(FIRST, max),
        |n| measure(n, o.lookups, o.seed, LIMIT),
        |row| println!("{}", row.line()),
    )?;
    println!("\n   build = start every node and link the ring; settle = until every successor list and finger is exact");
    println!("   threads, RSS and fds per node: growth of this process's /proc/self figures, divided by N");
    println!("   load = the machine's 1-minute load average when the ring was measured (2 cores, shared)");
    charts(&rows)
}

/// The two charts: hops (linear y), and build time, settle time, threads and memory per
/// node on log-log axes, where a flat line is a cost that does not grow with N.
fn charts(rows: &[ScaleRow]) -> Result<(), String> {
    let hops = scale::series(
        rows,
        &[
            ("½·log2 N (Chord)", "#1f77b4", Style::Line, &|r| {
                r.half_log2
            }),
            ("mean hops", "#d62728", Style::Points, &|r| r.mean_hops),
        ],
    );
    let mut cost = scale::series(
        rows,
        &[
            ("build s", "#2ca02c", Style::Points, &|r| r.build_s),
            ("settle s", "#9467bd", Style::Squares, &|r| r.settle_s),
        ],
    );
    cost.extend(scale::cost_series(rows));
    save(
        Path::new(HOPS_SVG),
        &svg_axes(
            "notes 6.3: a Chord lookup takes about ½·log2 N hops",
            "nodes N (log)",
            "hops per lookup",
            &hops,
            Axis::Log,
            Axis::Linear,
        ),
    )?;
    save(
        Path::new(COST_SVG),
        &svg_axes(
            "one process, N nodes: what grows with N and what stays flat",
            "nodes N (log)",
            "seconds; threads and KiB per node (log)",
            &cost,
            Axis::Log,
            Axis::Log,
        ),
    )?;
    println!("\ncharts: {HOPS_SVG}, {COST_SVG}");
    Ok(())
}
