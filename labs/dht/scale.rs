//! `lab-dht --scale` (issue #16): rings of 64, 256, 1,024 and 4,096 nodes in this one
//! process, each built, settled and measured by `p2plab::dht::scale::measure`; the table,
//! and two charts written by the project's one chart writer
//! (`p2plab::distribution::chart`): hops against ½·log2 N, and what grows with N.

use super::Opts;
use p2plab::dht::scale::{measure, sizes, ScaleRow, SCALE_MAX};
use p2plab::distribution::chart::{svg_axes, Axis, Series, Style};
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
    let mut rows = Vec::new();
    for n in sizes(FIRST, max) {
        let row = measure(n, o.lookups, o.seed, LIMIT)?;
        println!("{}", row.line());
        rows.push(row);
    }
    println!("\n   build = start every node and link the ring; settle = until every successor list and finger is exact");
    println!("   threads, RSS and fds per node: growth of this process's /proc/self figures, divided by N");
    println!("   load = the machine's 1-minute load average when the ring was measured (2 cores, shared)");
    charts(&rows)
}

/// The two charts: hops (linear y), and build time, settle time, threads and memory per
/// node on log-log axes, where a flat line is a cost that does not grow with N.
fn charts(rows: &[ScaleRow]) -> Result<(), String> {
    let pts = |f: &dyn Fn(&ScaleRow) -> f64| -> Vec<(f64, f64)> {
        rows.iter().map(|r| (r.n as f64, f(r))).collect()
    };
    let series = |name: &str, color, style, points| Series {
        name: name.into(),
        color,
        style,
        points,
    };
    let hops = [
        series(
            "½·log2 N (Chord)",
            "#1f77b4",
            Style::Line,
            pts(&|r| r.half_log2),
        ),
        series("mean hops", "#d62728", Style::Points, pts(&|r| r.mean_hops)),
    ];
    let cost = [
        series("build s", "#2ca02c", Style::Points, pts(&|r| r.build_s)),
        series("settle s", "#9467bd", Style::Squares, pts(&|r| r.settle_s)),
        series(
            "threads/node",
            "#ff7f0e",
            Style::Line,
            pts(&|r| r.threads_per_node),
        ),
        series(
            "RSS KiB/node",
            "#8c564b",
            Style::Line,
            pts(&|r| r.rss_kib_per_node),
        ),
    ];
    write(
        HOPS_SVG,
        &svg_axes(
            "notes 6.3: a Chord lookup takes about ½·log2 N hops",
            "nodes N (log)",
            "hops per lookup",
            &hops,
            Axis::Log,
            Axis::Linear,
        ),
    )?;
    write(
        COST_SVG,
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

fn write(path: &str, doc: &str) -> Result<(), String> {
    if let Some(dir) = Path::new(path).parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, doc).map_err(|e| format!("{path}: {e}"))
}
