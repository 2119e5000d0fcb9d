//! `p2plab distribution`: the notes' two bounds for any F, u_s, u, d_min and N.

use super::common::parse;
use getopts::Options;
use p2plab::distribution::chart::{ascii, svg, Series, Style};
use p2plab::distribution::{cs_bound, p2p_bound};
use p2plab::opts;
use p2plab::report::Table;

/// Parses `1,2,4` or `1-30` (or a mix: `1-5,10,20`).
pub fn parse_counts(text: &str) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let num = |s: &str| {
            s.trim()
                .parse::<usize>()
                .map_err(|_| format!("'{s}' is not a count"))
        };
        match part.split_once('-') {
            Some((a, b)) => out.extend(num(a)?..=num(b)?),
            None => out.push(num(part)?),
        }
    }
    if out.is_empty() || out.contains(&0) {
        return Err("peer counts must be 1 or more".into());
    }
    Ok(out)
}

/// The parameters of one table, in bits and bits/s.
struct Params {
    f: f64,
    us: f64,
    u: f64,
    dmin: f64,
    ns: Vec<usize>,
    out: String,
}

pub fn run(args: &[String]) -> Result<(), String> {
    let Some(p) = params(args)? else {
        return Ok(());
    };
    println!("F = {:.0} Mbit, u_s = {:.1} Mbit/s, u = {:.1} Mbit/s, d_min = {:.1} Mbit/s (F/u = {:.2} h)\n", p.f / 1e6, p.us / 1e6, p.u / 1e6, p.dmin / 1e6, p.f / p.u / 3600.0);
    let (cs_pts, p2p_pts) = table(&p);
    println!("\n c = client-server bound, p = P2P bound (hours against N)\n");
    print!("{}", ascii(&[('c', &cs_pts), ('p', &p2p_pts)], 60, 16));
    let doc = svg(
        "Minimum distribution time, client-server vs P2P (notes 6.2)",
        "N (number of peers)",
        "minimum distribution time (hours)",
        &[
            Series {
                name: "client-server".into(),
                color: "#c0392b",
                style: Style::Line,
                points: cs_pts,
            },
            Series {
                name: "P2P".into(),
                color: "#2471a3",
                style: Style::Line,
                points: p2p_pts,
            },
        ],
    );
    std::fs::write(&p.out, doc).map_err(|e| format!("cannot write {}: {e}", p.out))?;
    println!("\nchart written to {} (open it in a browser)", p.out);
    Ok(())
}

/// The options, or `None` after `--help`.
fn params(args: &[String]) -> Result<Option<Params>, String> {
    let mut o = Options::new();
    o.optopt(
        "",
        "file-mb",
        "file size F in megabytes (default 450: F/u = 1 hour)",
        "F",
    );
    o.optopt(
        "",
        "server-mbps",
        "server upload u_s in Mbit/s (default 10 = 10u)",
        "US",
    );
    o.optopt(
        "",
        "peer-mbps",
        "each peer's upload u in Mbit/s (default 1)",
        "U",
    );
    o.optopt(
        "",
        "dmin",
        "slowest peer's download d_min in Mbit/s (default 10 = u_s)",
        "D",
    );
    o.optopt(
        "",
        "peers",
        "values of N: list or range (default 1-30)",
        "LIST",
    );
    o.optopt(
        "",
        "svg",
        "write the chart here (default distribution.svg)",
        "FILE",
    );
    let brief = "Usage: p2plab distribution [options]\n\nPrints D_cs >= max{NF/us, F/dmin} and D_p2p >= max{F/us, F/dmin, NF/(us+Σui)} (notes 6.2)";
    let Some(m) = parse(&mut o, args, brief)? else {
        return Ok(None);
    };
    let positive = |k: &str, d: f64| -> Result<f64, String> {
        let v: f64 = opts::value(&m, k, d)?;
        if v > 0.0 && v.is_finite() {
            Ok(v)
        } else {
            Err(format!("--{k}: '{v}' is not a positive number"))
        }
    };
    Ok(Some(Params {
        f: positive("file-mb", 450.0)? * 8e6,
        us: positive("server-mbps", 10.0)? * 1e6,
        u: positive("peer-mbps", 1.0)? * 1e6,
        dmin: positive("dmin", 10.0)? * 1e6,
        ns: parse_counts(&m.opt_str("peers").unwrap_or_else(|| "1-30".into()))?,
        out: m
            .opt_str("svg")
            .unwrap_or_else(|| "distribution.svg".into()),
    }))
}

/// Points (N, hours) of one curve.
type Points = Vec<(f64, f64)>;

/// Prints both bounds for every N; returns their points for the chart.
fn table(p: &Params) -> (Points, Points) {
    let mut t = Table::new(&[
        "N",
        "C/S bound (h)",
        "binding",
        "P2P bound (h)",
        "binding",
        "C/S ÷ P2P",
    ]);
    let (mut cs_pts, mut p2p_pts) = (Vec::new(), Vec::new());
    for &n in &p.ns {
        let cs = cs_bound(p.f, n, p.us, p.dmin);
        let p2p = p2p_bound(p.f, p.us, p.dmin, &vec![p.u; n]);
        let h = |s: f64| format!("{:.3}", s / 3600.0);
        t.row(&[
            &n,
            &h(cs.seconds),
            &cs.binding,
            &h(p2p.seconds),
            &p2p.binding,
            &format!("{:.2}", cs.seconds / p2p.seconds),
        ]);
        cs_pts.push((n as f64, cs.seconds / 3600.0));
        p2p_pts.push((n as f64, p2p.seconds / 3600.0));
    }
    t.print();
    (cs_pts, p2p_pts)
}

#[cfg(test)]
mod tests {
    use super::parse_counts;

    #[test]
    fn counts() {
        assert_eq!(parse_counts("1,2,4").unwrap(), [1, 2, 4]);
        assert_eq!(parse_counts("1-3,8").unwrap(), [1, 2, 3, 8]);
        assert!(parse_counts("0").is_err());
        assert!(parse_counts("x").is_err());
    }
}
