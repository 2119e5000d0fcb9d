//! What the lab prints and writes at the end: the side-by-side table, the bench figures
//! and the scaling chart.

use crate::designs::{Entry, Fit};
use p2plab::distribution::chart::{svg_axes, Axis, Series, Style};
use p2plab::locate::measure::Column;
use p2plab::report::Table;
use std::path::Path;
use std::time::Duration;

/// A design's expected messages per search at `n`: its shape as it is where the shape
/// counts every message, else scaled through its first measured point ([`Fit`]), so
/// the chart compares how costs grow.
pub fn expected(e: &Entry, measured: &[Scaled], n: usize) -> f64 {
    let shape = e.expected_shape;
    match (e.fit, measured.first()) {
        (Fit::Exact, _) => shape(n),
        (Fit::Ratio, Some(first)) if first.msgs_per_search.is_finite() => {
            first.msgs_per_search / shape(first.n) * shape(n)
        }
        _ => f64::NAN,
    }
}

/// The side-by-side table, one column per design.
pub fn table(columns: &[Column], peers: usize, seed: u64) {
    let mut header = vec!["measured".to_string()];
    header.extend(columns.iter().map(|c| c.design.clone()));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut t = Table::new(&header);
    let row = |t: &mut Table, name: &str, f: &dyn Fn(&Column) -> String| {
        let mut cells = vec![name.to_string()];
        cells.extend(columns.iter().map(f));
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
    row(&mut t, "upkeep: msgs/s per node", &|c| {
        num(c.upkeep_per_node, 1)
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
    println!("\n== the table ({} peers, seed {})", peers, seed);
    t.print();
}

/// Every figure of the side-by-side table, named `<design>_<figure>`, for the bench.
#[allow(dead_code)] // bench-problems writes them; lab-problems only prints
pub fn figures(
    designs: &[&Entry],
    columns: &[Column],
    scaled: &[Vec<Scaled>],
) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    for (e, c) in designs.iter().zip(columns) {
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
            (format!("{k}_upkeep_per_node"), c.upkeep_per_node),
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
    for (e, pts) in designs.iter().zip(scaled) {
        for p in pts {
            out.push((
                format!("{}_msgs_per_search_n{}", e.key, p.n),
                p.msgs_per_search,
            ));
            out.push((format!("{}_busiest_share_n{}", e.key, p.n), p.busiest_share));
            out.push((
                format!("{}_expected_msgs_per_search_n{}", e.key, p.n),
                expected(e, pts, p.n),
            ));
            out.push((
                format!("{}_upkeep_per_node_n{}", e.key, p.n),
                p.upkeep_per_node,
            ));
        }
    }
    out
}

/// The scaling chart: measured points beside each design's expected growth.
pub fn chart(
    designs: &[&Entry],
    scaled: &[Vec<Scaled>],
    sizes: &[usize],
    svg: &Path,
) -> Result<(), String> {
    const COLORS: [&str; 6] = [
        "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
    ];
    let mut series = Vec::new();
    for (i, (e, pts)) in designs.iter().zip(scaled).enumerate() {
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
            points: sizes
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
    if let Some(dir) = svg.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(svg, doc).map_err(|e| format!("{}: {e}", svg.display()))?;
    println!("\nchart: {}", svg.display());
    Ok(())
}

/// One point of the scaling runs.
pub struct Scaled {
    pub n: usize,
    pub msgs_per_search: f64,
    pub busiest_share: f64,
    /// Upkeep messages per second per node while idle.
    pub upkeep_per_node: f64,
}

pub fn pct(x: f64) -> String {
    if x.is_nan() {
        "-".into()
    } else {
        format!("{:.0} %", 100.0 * x)
    }
}

pub fn num(x: f64, decimals: usize) -> String {
    if x.is_nan() {
        "-".into()
    } else {
        format!("{x:.decimals$}")
    }
}
