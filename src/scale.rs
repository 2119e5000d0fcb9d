//! A scale run (issue #16): one network at growing sizes N in this one process, what
//! each node costs, and how the run time grows from N to 4N. The notes' claims are about
//! growth (flooding grows with the overlay, a DHT lookup with log N, a directory with
//! every peer's requests); a student sees them where the curves separate.
//!
//! What every `--scale` run and every bench's `scale` section share lives here:
//! - the sizes: [`sizes_largest_first`] (a doubling series), [`times`] (any factor);
//! - [`run_sizes`]: measure each size in turn, saying each as it is done;
//! - the growth: [`growth`] pairs every N with its 4N, [`print_growth`] says the ratios;
//! - the cost per node ([`crate::usage::Usage`]): the columns of a [`CostTable`], and
//!   the bench figures of [`figures`] (`scale_n1000_threads_per_node`, ...);
//! - [`series`]: a chart's curves against N, [`cost_series`] the cost per node among
//!   them; the chart itself is drawn by the project's one writer,
//!   [`crate::distribution::chart`], and saved with its `save`.
//!
//! A lab's row says where it sits on the curve ([`Measured`]: its N, run time and cost
//! per node); the rest of the row (messages, hops, bounds) is the lab's own, and so is
//! its table's head.

use crate::distribution::chart::{Series, Style};
use crate::report::Table;
use crate::usage::Usage;
use std::fmt::Display;

/// Where one measured size sits on the growth curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Nodes of the network (N).
    pub n: usize,
    /// Seconds of the whole run at this size: what [`growth`] compares.
    pub run_s: f64,
    /// What one node cost: the process's growth divided by the nodes.
    pub per_node: Usage,
}

impl Point {
    pub fn new(n: usize, run_s: f64, per_node: Usage) -> Point {
        Point { n, run_s, per_node }
    }
}

/// One size of a scale run, as measured.
pub trait Measured {
    fn point(&self) -> Point;
}

/// The sizes of a scale run, largest first: `max`, then `first`, 2·`first`, 4·`first`
/// ... below it, in falling order. Largest first, because a process keeps freed memory
/// for reuse: the largest network's figures then come from a process that has run no
/// other network yet.
pub fn sizes_largest_first(first: usize, max: usize) -> Vec<usize> {
    let mut v = vec![max];
    v.extend(times(first, 2, max.saturating_sub(1)).into_iter().rev());
    v
}

/// `first`, `first`·`factor`, `first`·`factor`², ... up to `max`, smallest first.
pub fn times(first: usize, factor: usize, max: usize) -> Vec<usize> {
    let mut v = Vec::new();
    let mut n = first.max(1);
    while n <= max {
        v.push(n);
        n *= factor.max(2);
    }
    v
}

/// Measures every size of `sizes` with `measure`, calls `say` on each row as it is
/// done (a run of minutes should show it is alive), and returns the rows, smallest N
/// first. The first size that fails ends the run with its reason.
pub fn run_sizes<R: Measured>(
    sizes: &[usize],
    mut measure: impl FnMut(usize) -> Result<R, String>,
    say: impl Fn(&R),
) -> Result<Vec<R>, String> {
    let mut rows = Vec::with_capacity(sizes.len());
    for &n in sizes {
        let r = measure(n)?;
        say(&r);
        rows.push(r);
    }
    rows.sort_by_key(|r| r.point().n);
    Ok(rows)
}

/// Run time from N to 4N, for every such pair in `rows`: (N, 4N, ratio). A ratio of
/// 4 is a cost linear in N; less, a fixed part (start-up, a bound that levels off).
pub fn growth<R: Measured>(rows: &[R]) -> Vec<(usize, usize, f64)> {
    let points: Vec<Point> = rows.iter().map(Measured::point).collect();
    points
        .iter()
        .filter_map(|a| {
            let b = points.iter().find(|b| b.n == 4 * a.n)?;
            Some((a.n, b.n, b.run_s / a.run_s))
        })
        .collect()
}

/// Prints one line per [`growth`] pair.
pub fn print_growth<R: Measured>(rows: &[R]) {
    for (a, b, ratio) in growth(rows) {
        println!("   run time from N = {a} to {b}: × {ratio:.2}");
    }
}

/// The growth section that ends a lab's `--scale` run: the table, the N -> 4N ratios,
/// and how the cost per node was read (`per_node`: "growth of ..., divided by N").
pub fn print_growth_section<R: Measured>(table: &CostTable, rows: &[R], per_node: &str) {
    println!("\n== growth");
    table.print();
    print_growth(rows);
    println!("   threads, RSS and fds per node: {per_node}");
}

/// The bench figures of a scale section: per row `scale_n{N}_run_s` and the cost per
/// node (`_threads_per_node`, `_rss_kib_per_node`, `_fds_per_node`); per growth pair
/// `scale_run_growth_n{N}_to_n{4N}`. A bench adds its own figures beside them.
pub fn figures<R: Measured>(rows: &[R]) -> Vec<(String, f64)> {
    let mut fig = Vec::new();
    for r in rows {
        let Point {
            n,
            run_s,
            per_node: u,
        } = r.point();
        fig.push((format!("scale_n{n}_run_s"), run_s));
        fig.push((format!("scale_n{n}_threads_per_node"), u.threads));
        fig.push((format!("scale_n{n}_rss_kib_per_node"), u.rss_kib));
        fig.push((format!("scale_n{n}_fds_per_node"), u.fds));
    }
    for (a, b, ratio) in growth(rows) {
        fig.push((format!("scale_run_growth_n{a}_to_n{b}"), ratio));
    }
    fig
}

/// One curve of a chart: its name, colour, style, and the y of a row (x is N).
pub type Curve<'a, R> = (&'a str, &'static str, Style, &'a dyn Fn(&R) -> f64);

/// The (N, y) points of each curve.
pub fn series<R: Measured>(rows: &[R], curves: &[Curve<R>]) -> Vec<Series> {
    curves
        .iter()
        .map(|&(name, color, style, y)| {
            let points = rows.iter().map(|r| (r.point().n as f64, y(r))).collect();
            Series::new(name, color, style, points)
        })
        .collect()
}

/// Threads and resident KiB per node: on log axes, flat lines where a node's cost does
/// not grow with N.
pub fn cost_series<R: Measured>(rows: &[R]) -> Vec<Series> {
    series(
        rows,
        &[
            ("threads/node", "#ff7f0e", Style::Line, &|r| {
                r.point().per_node.threads
            }),
            ("RSS KiB/node", "#8c564b", Style::Line, &|r| {
                r.point().per_node.rss_kib
            }),
        ],
    )
}

/// A growth table: the lab's own columns, then what a node costs (threads, resident
/// KiB and open files per node), then the lab's last columns.
pub struct CostTable {
    table: Table,
}

/// The cost columns every scale table shows.
pub const COST_COLUMNS: [&str; 3] = ["threads/node", "RSS KiB/node", "fds/node"];

impl CostTable {
    pub fn new(head: &[&str], tail: &[&str]) -> CostTable {
        let cols: Vec<&str> = head
            .iter()
            .chain(&COST_COLUMNS)
            .chain(tail)
            .copied()
            .collect();
        CostTable {
            table: Table::new(&cols),
        }
    }

    /// One row: `head` cells, the cost of `per_node`, `tail` cells.
    pub fn row(&mut self, head: &[&dyn Display], per_node: &Usage, tail: &[&dyn Display]) {
        let cost = [
            format!("{:.1}", per_node.threads),
            format!("{:.0}", per_node.rss_kib),
            format!("{:.1}", per_node.fds),
        ];
        let cost: Vec<&dyn Display> = cost.iter().map(|c| c as &dyn Display).collect();
        let cells: Vec<&dyn Display> = head.iter().chain(&cost).chain(tail).copied().collect();
        self.table.row(&cells);
    }

    pub fn print(&self) {
        self.table.print();
    }

    pub fn render(&self) -> String {
        self.table.render()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Row(usize, f64);

    const COST: Usage = Usage {
        threads: 2.0,
        rss_kib: 40.0,
        fds: 3.0,
    };

    impl Measured for Row {
        fn point(&self) -> Point {
            Point::new(self.0, self.1, COST)
        }
    }

    #[test]
    fn growth_pairs_every_n_with_its_4n_only() {
        let rows = [Row(125, 1.0), Row(250, 2.0), Row(500, 3.0), Row(1000, 10.0)];
        assert_eq!(growth(&rows), vec![(125, 500, 3.0), (250, 1000, 5.0)]);
        assert_eq!(growth(&rows[..2]), vec![], "no 4N, no pair");
    }

    #[test]
    fn sizes_double_up_to_the_max_which_comes_first() {
        assert_eq!(sizes_largest_first(125, 1000), vec![1000, 500, 250, 125]);
        assert_eq!(sizes_largest_first(125, 300), vec![300, 250, 125]);
        assert_eq!(times(64, 4, 4096), vec![64, 256, 1024, 4096]);
        assert_eq!(times(8, 2, 20), vec![8, 16]);
        assert_eq!(times(64, 4, 63), vec![]);
    }

    #[test]
    fn run_sizes_returns_the_rows_smallest_first_and_stops_at_a_failure() {
        let said = std::cell::Cell::new(0);
        let rows = run_sizes(
            &[1000, 250],
            |n| Ok(Row(n, n as f64)),
            |_| said.set(said.get() + 1),
        )
        .unwrap();
        assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), [250, 1000]);
        assert_eq!(said.get(), 2);
        let failed = run_sizes(&[4, 8], |n| Err::<Row, _>(format!("N = {n}")), |_| ());
        assert_eq!(failed.err().as_deref(), Some("N = 4"));
    }

    #[test]
    fn the_bench_figures_name_n_and_the_growth() {
        let fig = figures(&[Row(250, 2.0), Row(1000, 9.0)]);
        let get = |k: &str| fig.iter().find(|(name, _)| name == k).map(|f| f.1);
        assert_eq!(get("scale_n1000_run_s"), Some(9.0));
        assert_eq!(get("scale_n250_threads_per_node"), Some(2.0));
        assert_eq!(get("scale_n250_rss_kib_per_node"), Some(40.0));
        assert_eq!(get("scale_n1000_fds_per_node"), Some(3.0));
        assert_eq!(get("scale_run_growth_n250_to_n1000"), Some(4.5));
        assert_eq!(fig.len(), 9);
    }

    #[test]
    fn a_curve_is_drawn_against_n() {
        let rows = [Row(250, 2.0), Row(1000, 9.0)];
        let s = series(&rows, &[("run s", "#000000", Style::Points, &|r| r.1)]);
        assert_eq!(s[0].points, vec![(250.0, 2.0), (1000.0, 9.0)]);
        let cost = cost_series(&rows);
        assert_eq!(cost[0].points, vec![(250.0, 2.0), (1000.0, 2.0)], "flat");
    }

    #[test]
    fn a_cost_table_puts_the_cost_between_the_labs_columns() {
        let mut t = CostTable::new(&["N"], &["sha1"]);
        t.row(&[&8], &COST, &[&"ok"]);
        let text = t.render();
        let mut lines = text.lines();
        let head: Vec<&str> = lines
            .next()
            .unwrap()
            .split("  ")
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(
            head.iter().map(|c| c.trim()).collect::<Vec<_>>(),
            ["N", "threads/node", "RSS KiB/node", "fds/node", "sha1"]
        );
        let row: Vec<&str> = lines.nth(1).unwrap().split_whitespace().collect();
        assert_eq!(row, ["8", "2.0", "40", "3.0", "ok"]);
    }
}
