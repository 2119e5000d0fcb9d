//! The textbook figure: distribution time against N, as SVG and as a terminal sketch.
//!
//! Written by hand rather than with a plotting crate: an SVG is a short text file, and
//! a student can read this one to see where each curve comes from.

use std::fmt::Write as _;

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// A bound: a line through every point.
    Line,
    /// A measurement: a marker at every point.
    Points,
}

/// One named curve.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub color: &'static str,
    pub style: Style,
    pub points: Vec<(f64, f64)>,
}

const W: f64 = 720.0;
const H: f64 = 440.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 180.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;

/// A tick step of 1, 2 or 5 times a power of ten giving about five ticks up to `max`.
fn tick_step(max: f64) -> f64 {
    let raw = (max / 5.0).max(f64::MIN_POSITIVE);
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * p)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An SVG document with axes, ticks, labels, a legend and every series. Each series is
/// a `<g class="series" data-name="...">` so that tools (and tests) can find it.
pub fn svg(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> String {
    let pts = || series.iter().flat_map(|s| s.points.iter());
    let x_max = pts().map(|p| p.0).fold(1.0, f64::max);
    let y_max = pts()
        .map(|p| p.1)
        .filter(|y| y.is_finite())
        .fold(0.0, f64::max)
        .max(1e-9)
        * 1.05;
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let sx = |x: f64| LEFT + x / x_max * pw;
    let sy = |y: f64| TOP + ph - y / y_max * ph;

    let mut o = String::new();
    let _ = writeln!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(o, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        o,
        r#"<text x="{}" y="22" font-size="15" text-anchor="middle">{}</text>"#,
        LEFT + pw / 2.0,
        escape(title)
    );
    // Axes with ticks.
    let _ = writeln!(
        o,
        r#"<g class="axes" stroke="black"><line x1="{LEFT}" y1="{}" x2="{}" y2="{}"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{}"/></g>"#,
        TOP + ph,
        LEFT + pw,
        TOP + ph,
        TOP + ph
    );
    let (xs, ys) = (tick_step(x_max), tick_step(y_max));
    let mut t = 0.0;
    while t <= x_max + 1e-9 {
        let _ = writeln!(
            o,
            r##"<line x1="{0:.1}" y1="{1}" x2="{0:.1}" y2="{2}" stroke="black"/><text x="{0:.1}" y="{3}" text-anchor="middle">{4}</text>"##,
            sx(t),
            TOP + ph,
            TOP + ph + 5.0,
            TOP + ph + 18.0,
            fmt_tick(t)
        );
        t += xs;
    }
    let mut t = 0.0;
    while t <= y_max + 1e-9 {
        let _ = writeln!(
            o,
            r##"<line x1="{0}" y1="{1:.1}" x2="{2}" y2="{1:.1}" stroke="#ddd"/><text x="{3}" y="{4:.1}" text-anchor="end">{5}</text>"##,
            LEFT,
            sy(t),
            LEFT + pw,
            LEFT - 6.0,
            sy(t) + 4.0,
            fmt_tick(t)
        );
        t += ys;
    }
    let _ = writeln!(
        o,
        r#"<text class="x-label" x="{}" y="{}" text-anchor="middle">{}</text>"#,
        LEFT + pw / 2.0,
        H - 15.0,
        escape(x_label)
    );
    let _ = writeln!(
        o,
        r#"<text class="y-label" transform="translate(20,{}) rotate(-90)" text-anchor="middle">{}</text>"#,
        TOP + ph / 2.0,
        escape(y_label)
    );
    // Series and legend.
    for (i, s) in series.iter().enumerate() {
        let _ = writeln!(
            o,
            r#"<g class="series" data-name="{}" stroke="{}" fill="{}">"#,
            escape(&s.name),
            s.color,
            s.color
        );
        match s.style {
            Style::Line => {
                let p: Vec<String> = s
                    .points
                    .iter()
                    .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
                    .collect();
                let _ = writeln!(
                    o,
                    r#"<polyline fill="none" stroke-width="2" points="{}"/>"#,
                    p.join(" ")
                );
            }
            Style::Points => {
                for &(x, y) in &s.points {
                    let _ = writeln!(o, r#"<circle cx="{:.1}" cy="{:.1}" r="4"/>"#, sx(x), sy(y));
                }
            }
        }
        let ly = TOP + 10.0 + 22.0 * i as f64;
        let lx = LEFT + pw + 15.0;
        // A bar for a bound, a dot-sized square for a measurement.
        let (w, h) = match s.style {
            Style::Line => (14.0, 4.0),
            Style::Points => (8.0, 8.0),
        };
        let _ = writeln!(
            o,
            r#"<rect x="{}" y="{}" width="{w}" height="{h}"/><text x="{}" y="{}" stroke="none" fill="black">{}</text></g>"#,
            lx + (14.0 - w) / 2.0,
            ly - h / 2.0,
            lx + 20.0,
            ly + 4.0,
            escape(&s.name)
        );
    }
    o.push_str("</svg>\n");
    o
}

fn fmt_tick(v: f64) -> String {
    if v.fract().abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}").trim_end_matches('0').to_string()
    }
}

/// A character plot of the same series: each series draws with its own letter.
pub fn ascii(series: &[(char, &[(f64, f64)])], width: usize, height: usize) -> String {
    let all = || series.iter().flat_map(|s| s.1.iter());
    let x_max = all().map(|p| p.0).fold(1.0, f64::max);
    let y_max = all()
        .map(|p| p.1)
        .filter(|y| y.is_finite())
        .fold(0.0, f64::max)
        .max(1e-9);
    let mut grid = vec![vec![' '; width]; height];
    for (c, pts) in series {
        for &(x, y) in pts.iter() {
            let col = ((x / x_max) * (width - 1) as f64).round() as usize;
            let row = height
                - 1
                - ((y / y_max) * (height - 1) as f64)
                    .round()
                    .min((height - 1) as f64) as usize;
            grid[row][col.min(width - 1)] = *c;
        }
    }
    let mut out = String::new();
    for (i, row) in grid.iter().enumerate() {
        let label = if i == 0 {
            format!("{y_max:>8.1} |")
        } else {
            "         |".to_string()
        };
        let _ = writeln!(out, "{label}{}", row.iter().collect::<String>());
    }
    let _ = writeln!(out, "       0 +{}", "-".repeat(width));
    let _ = writeln!(
        out,
        "          0{:>w$}",
        format!("N = {x_max:.0}"),
        w = width - 1
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(30.0), 10.0);
        assert_eq!(tick_step(3.2), 1.0);
        assert_eq!(tick_step(11.0), 5.0);
    }

    #[test]
    fn ascii_puts_letters_where_points_are() {
        let a = ascii(&[('c', &[(0.0, 0.0), (10.0, 10.0)][..])], 11, 5);
        let rows: Vec<&str> = a.lines().collect();
        assert!(rows[0].ends_with('c'), "{a}");
        assert!(rows[4].starts_with("         |c"), "{a}");
    }
}
