//! The chart as characters, for the terminal: the same series, one letter each.

use std::fmt::Write as _;

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
    fn ascii_puts_letters_where_points_are() {
        let a = ascii(&[('c', &[(0.0, 0.0), (10.0, 10.0)][..])], 11, 5);
        let rows: Vec<&str> = a.lines().collect();
        assert!(rows[0].ends_with('c'), "{a}");
        assert!(rows[4].starts_with("         |c"), "{a}");
    }
}
