//! The lab's report: the end table and the chart, from the rows measured (one per N).

use p2plab::distribution::chart::{ascii, svg, Series, Style};
use p2plab::report::Table;
use std::path::Path;

/// One row of the final table.
pub struct Row {
    pub n: usize,
    pub cs_bound: f64,
    pub cs: Option<f64>,
    pub p2p_bound: f64,
    pub binding: String,
    pub p2p: Option<f64>,
    /// The same two runs with every peer on its own host, rates set on the links.
    pub cs_real: Option<f64>,
    pub p2p_real: Option<f64>,
}

/// The end table: each measured time beside its bound, and how far above it.
pub fn table(rows: &[Row]) {
    let mut t = Table::new(&[
        "N",
        "C/S bound s",
        "C/S measured s",
        "÷ bound",
        "P2P bound s",
        "binding term",
        "P2P measured s",
        "÷ bound",
        "C/S real links s",
        "P2P real links s",
    ]);
    let opt = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.2}"));
    let ratio = |x: Option<f64>, b: f64| x.map_or("-".to_string(), |v| format!("{:.2}", v / b));
    for r in rows {
        t.row(&[
            &r.n,
            &format!("{:.2}", r.cs_bound),
            &opt(r.cs),
            &ratio(r.cs, r.cs_bound),
            &format!("{:.2}", r.p2p_bound),
            &r.binding,
            &opt(r.p2p),
            &ratio(r.p2p, r.p2p_bound),
            &opt(r.cs_real),
            &opt(r.p2p_real),
        ]);
    }
    println!("== What was measured\n");
    t.print();
    if let Some((lo, hi)) = spread(rows, |r| r.cs.map(|v| v / r.cs_bound)) {
        println!("\nC/S: measured ÷ bound from {lo:.3} to {hi:.3} (never below 1: the bound holds; within {:.1}% of it)", (hi - 1.0) * 100.0);
    }
    if let Some((lo, hi)) = spread(rows, |r| r.p2p.map(|v| v / r.p2p_bound)) {
        println!("P2P: measured ÷ bound from {lo:.2} to {hi:.2}");
    }
}

/// The smallest and largest of `ratio` over the rows that have one.
fn spread(rows: &[Row], ratio: impl Fn(&Row) -> Option<f64>) -> Option<(f64, f64)> {
    rows.iter().filter_map(ratio).fold(None, |acc, x| {
        Some(acc.map_or((x, x), |(lo, hi): (f64, f64)| (lo.min(x), hi.max(x))))
    })
}

/// The points (N, seconds) of one column of the table.
fn points(rows: &[Row], column: impl Fn(&Row) -> Option<f64>) -> Vec<(f64, f64)> {
    rows.iter()
        .filter_map(|r| column(r).map(|y| (r.n as f64, y)))
        .collect()
}

/// The figure: a sketch in the terminal, and the SVG file with bounds as lines and
/// measurements as dots.
pub fn chart(rows: &[Row], title: &str, path: &Path) -> Result<(), String> {
    let (cs_b, p2p_b) = (
        points(rows, |r| Some(r.cs_bound)),
        points(rows, |r| Some(r.p2p_bound)),
    );
    let (cs_m, p2p_m) = (points(rows, |r| r.cs), points(rows, |r| r.p2p));
    let (cs_r, p2p_r) = (points(rows, |r| r.cs_real), points(rows, |r| r.p2p_real));
    println!("\n c = C/S bound, p = P2P bound, C and P = measured (seconds against N)\n");
    print!(
        "{}",
        ascii(
            &[('c', &cs_b), ('p', &p2p_b), ('C', &cs_m), ('P', &p2p_m)],
            64,
            16
        )
    );
    let series = |name: &str, color: &'static str, style: Style, points: Vec<(f64, f64)>| Series {
        name: name.into(),
        color,
        style,
        points,
    };
    let doc = svg(
        title,
        "N (number of peers)",
        "time until every peer has the file (s)",
        &[
            series("C/S bound", "#c0392b", Style::Line, cs_b),
            series("C/S measured", "#c0392b", Style::Points, cs_m),
            series("P2P bound", "#2471a3", Style::Line, p2p_b),
            series("P2P measured", "#2471a3", Style::Points, p2p_m),
            series("C/S real links", "#c0392b", Style::Squares, cs_r),
            series("P2P real links", "#2471a3", Style::Squares, p2p_r),
        ],
    );
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {} for the chart: {e}", dir.display()))?;
    }
    std::fs::write(path, doc)
        .map_err(|e| format!("cannot write the chart {}: {e}", path.display()))?;
    println!("\nchart: {} (open it in a browser)", path.display());
    Ok(())
}
