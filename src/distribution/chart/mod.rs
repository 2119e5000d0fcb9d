//! The textbook figure: distribution time against N, as SVG and as a terminal sketch.
//! The one chart writer of p2plab: `lab-problems` draws its scaling chart here too, on
//! logarithmic axes (`axis.rs`).
//!
//! Written by hand rather than with a plotting crate: an SVG is a short text file, and
//! a student can read this one to see where each curve comes from.

mod ascii;
mod axis;

pub use ascii::ascii;
pub use axis::Axis;
use axis::Scale;
use std::fmt::Write as _;
use std::path::Path;

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// A bound: a line through every point.
    Line,
    /// A measurement: a marker at every point.
    Points,
    /// A second measurement of the same series: a square at every point.
    Squares,
}

/// One named curve.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub color: &'static str,
    pub style: Style,
    pub points: Vec<(f64, f64)>,
}

impl Series {
    pub fn new(
        name: impl Into<String>,
        color: &'static str,
        style: Style,
        points: Vec<(f64, f64)>,
    ) -> Series {
        Series {
            name: name.into(),
            color,
            style,
            points,
        }
    }
}

/// Writes a chart `doc` to `path`, making its folder first; the error names the path.
pub fn save(path: &Path, doc: &str) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, doc).map_err(|e| format!("{}: {e}", path.display()))
}

const W: f64 = 720.0;
const H: f64 = 440.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 180.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An SVG document with axes, ticks, labels, a legend and every series. Each series is
/// a `<g class="series" data-name="...">` so that tools (and tests) can find it.
pub fn svg(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> String {
    svg_axes(title, x_label, y_label, series, Axis::Linear, Axis::Linear)
}

/// [`svg`] with a chosen kind of axis for x and for y.
pub fn svg_axes(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    x_axis: Axis,
    y_axis: Axis,
) -> String {
    let pts = || series.iter().flat_map(|s| s.points.iter());
    let xsc = Scale::new(x_axis, pts().map(|p| p.0).chain([1.0]), 1.0);
    let ysc = Scale::new(y_axis, pts().map(|p| p.1), 1.05);
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let sx = |x: f64| LEFT + xsc.frac(x) * pw;
    let sy = |y: f64| TOP + ph - ysc.frac(y) * ph;

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
    for t in xsc.ticks() {
        let _ = writeln!(
            o,
            r##"<line x1="{0:.1}" y1="{1}" x2="{0:.1}" y2="{2}" stroke="black"/><text x="{0:.1}" y="{3}" text-anchor="middle">{4}</text>"##,
            sx(t),
            TOP + ph,
            TOP + ph + 5.0,
            TOP + ph + 18.0,
            fmt_tick(t)
        );
    }
    for t in ysc.ticks() {
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
            Style::Squares => {
                for &(x, y) in s.points.iter().filter(|p| p.1.is_finite()) {
                    let _ = writeln!(
                        o,
                        r#"<rect x="{:.1}" y="{:.1}" width="8" height="8" fill="none" stroke-width="2"/>"#,
                        sx(x) - 4.0,
                        sy(y) - 4.0
                    );
                }
            }
        }
        let ly = TOP + 10.0 + 22.0 * i as f64;
        let lx = LEFT + pw + 15.0;
        // A bar for a bound, a dot-sized square for a measurement.
        let (w, h) = match s.style {
            Style::Line => (14.0, 4.0),
            Style::Points | Style::Squares => (8.0, 8.0),
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
