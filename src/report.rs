//! Tables of measured numbers, for labs and benches (STYLE.md rule 15: measured, not claimed).
//!
//! A lab ends with a [`Table`]; a bench prints one and also writes its figures to
//! `target/bench/<name>.json` with [`write_bench_json`], so two runs can be compared.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::PathBuf;

/// A plain-text table with a header row; columns are sized to fit.
#[derive(Debug, Clone, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; cells are anything printable.
    pub fn row(&mut self, cells: &[&dyn std::fmt::Display]) -> &mut Table {
        self.rows
            .push(cells.iter().map(|c| c.to_string()).collect());
        self
    }

    /// The table as text: first column left-aligned, the others right-aligned.
    pub fn render(&self) -> String {
        let cols = self.header.len();
        let mut width = vec![0; cols];
        for r in std::iter::once(&self.header).chain(&self.rows) {
            for (i, c) in r.iter().enumerate().take(cols) {
                width[i] = width[i].max(c.chars().count());
            }
        }
        let mut out = String::new();
        let line = |out: &mut String, r: &[String]| {
            for (i, c) in r.iter().enumerate().take(cols) {
                let pad = width[i] - c.chars().count();
                if i == 0 {
                    let _ = write!(out, "{c}{}", " ".repeat(pad));
                } else {
                    let _ = write!(out, "  {}{c}", " ".repeat(pad));
                }
            }
            out.push('\n');
        };
        line(&mut out, &self.header);
        let total: usize = width.iter().sum::<usize>() + 2 * (cols.saturating_sub(1));
        out.push_str(&"-".repeat(total));
        out.push('\n');
        for r in &self.rows {
            line(&mut out, r);
        }
        out
    }

    pub fn print(&self) {
        print!("{}", self.render());
    }
}

/// The value that a share `q` (0..=1) of `sorted` does not exceed: 0.5 the median,
/// 0.99 the p99. Zero for no values.
pub fn quantile(sorted: &[std::time::Duration], q: f64) -> std::time::Duration {
    let i = ((sorted.len() as f64 - 1.0) * q.clamp(0.0, 1.0)).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

/// Writes `{"figure": value, ...}` to `target/bench/<name>.json` and returns the path.
pub fn write_bench_json<K: AsRef<str>>(name: &str, figures: &[(K, f64)]) -> io::Result<PathBuf> {
    let dir = PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()))
        .join("bench");
    fs::create_dir_all(&dir)?;
    let body: Vec<String> = figures
        .iter()
        .map(|(k, v)| {
            format!(
                "  \"{}\": {}",
                k.as_ref().replace('"', "'"),
                json_number(*v)
            )
        })
        .collect();
    let path = dir.join(format!("{name}.json"));
    fs::write(&path, format!("{{\n{}\n}}\n", body.join(",\n")))?;
    Ok(path)
}

fn json_number(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        "null".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_aligned_columns() {
        let mut t = Table::new(&["clients", "searches/s"]);
        t.row(&[&1, &"12345"]).row(&[&64, &"9"]);
        assert_eq!(
            t.render(),
            "clients  searches/s\n-------------------\n1             12345\n64                9\n"
        );
    }

    #[test]
    fn json_figures() {
        assert_eq!(json_number(1.5), "1.5");
        assert_eq!(json_number(f64::NAN), "null");
    }
}
