//! lab-distribution: the notes' distribution-time bounds (6.2), computed and measured.
//!
//! For N = 1, 2, 4 … 32 the same file goes from one server to N peers twice, over real
//! rate-limited sockets: (a) client-server, one HTTP server capped at u_s serving all N;
//! (b) P2P, a BitTorrent swarm whose seed is capped at u_s and every peer at u. Each
//! measured time is printed beside its lower bound, and both go on one SVG chart.
//! Handout: README.md here.

use getopts::Options;
use p2plab::bittorrent::swarm::{run_swarm, SwarmConfig};
use p2plab::distribution::chart::{ascii, svg, Series, Style};
use p2plab::distribution::cs::measure_cs;
use p2plab::distribution::{cs_bound, p2p_bound};
use p2plab::opts;
use p2plab::report::Table;
use p2plab::rng::Rng;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

const MIB: f64 = 1024.0 * 1024.0;

struct Args {
    file_mb: f64,
    server: f64,
    peer: f64,
    ns: Vec<usize>,
    svg: PathBuf,
    seed: u64,
    time_scale: f64,
    skip_cs: bool,
    skip_p2p: bool,
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let a = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => return opts::finish("lab-distribution", Err(e)),
    };
    let work = std::env::temp_dir().join(format!("p2plab-lab-distribution-{}", std::process::id()));
    let result = run(&a, &work);
    let _ = std::fs::remove_dir_all(&work);
    opts::finish("lab-distribution", result)
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut o = Options::new();
    o.optopt(
        "",
        "file-mb",
        "file size F in MiB (default 32: 128 pieces of 256 KiB)",
        "F",
    );
    o.optopt(
        "",
        "server-mibps",
        "server upload u_s in MiB/s (default 32)",
        "US",
    );
    o.optopt(
        "",
        "peer-mibps",
        "each peer's upload u in MiB/s (default 8)",
        "U",
    );
    o.optopt("", "peers", "values of N (default 1,2,4,8,16,32)", "LIST");
    o.optopt(
        "",
        "svg",
        "chart file (default target/distribution.svg)",
        "FILE",
    );
    o.optopt(
        "",
        "seed",
        "file contents and every random choice (default 7)",
        "S",
    );
    o.optopt(
        "",
        "time-scale",
        "BitTorrent's timers (rechoke 10 s ...) times this (default 0.03)",
        "X",
    );
    o.optflag("", "no-cs", "skip the client-server measurements");
    o.optflag("", "no-p2p", "skip the P2P measurements");
    let brief = "Usage: lab-distribution [options]   (make lab-distribution ARGS='--peers 1,4,16')";
    let Some(m) = opts::parse(&mut o, std::env::args().skip(1), brief)? else {
        return Ok(None);
    };
    let positive = |name: &str, d: f64| -> Result<f64, String> {
        let v = opts::value(&m, name, d)?;
        if v > 0.0 && v.is_finite() {
            Ok(v)
        } else {
            Err(format!("--{name} must be above 0"))
        }
    };
    let ns: Vec<usize> = opts::list(&m, "peers", &[1, 2, 4, 8, 16, 32])?;
    if ns.contains(&0) {
        return Err("--peers: every N must be 1 or more".into());
    }
    Ok(Some(Args {
        file_mb: positive("file-mb", 32.0)?,
        server: positive("server-mibps", 32.0)? * MIB,
        peer: positive("peer-mibps", 8.0)? * MIB,
        ns,
        svg: PathBuf::from(
            m.opt_str("svg")
                .unwrap_or_else(|| "target/distribution.svg".into()),
        ),
        seed: opts::value(&m, "seed", 7)?,
        time_scale: positive("time-scale", 0.03)?,
        skip_cs: m.opt_present("no-cs"),
        skip_p2p: m.opt_present("no-p2p"),
    }))
}

/// One row of the final table.
struct Row {
    n: usize,
    cs_bound: f64,
    cs: Option<f64>,
    p2p_bound: f64,
    binding: String,
    p2p: Option<f64>,
}

fn run(a: &Args, work: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let f = (a.file_mb * MIB).round();
    println!("== Distribution time, client-server vs P2P (notes 6.2, 文件分发 C/S vs P2P)\n");
    println!(
        "F = {:.1} MiB, u_s = {:.1} MiB/s, u = {:.1} MiB/s per peer, d_min = loopback (far above u_s)",
        f / MIB,
        a.server / MIB,
        a.peer / MIB
    );
    println!("   D_cs  >= max{{N·F/u_s, F/d_min}}");
    println!("   D_p2p >= max{{F/u_s, F/d_min, N·F/(u_s + Σu_i)}}\n");
    let mut rows: Vec<Row> =
        a.ns.iter()
            .map(|&n| {
                let p = p2p_bound(f, a.server, f64::INFINITY, &vec![a.peer; n]);
                Row {
                    n,
                    cs_bound: cs_bound(f, n, a.server, f64::INFINITY).seconds,
                    cs: None,
                    p2p_bound: p.seconds,
                    binding: p.binding.to_string(),
                    p2p: None,
                }
            })
            .collect();

    if !a.skip_cs {
        println!("1. Client-server: one HTTP server, its upload capped at u_s, serves N clients at once.");
        let src = work.join("cs-src");
        std::fs::create_dir_all(&src)?;
        std::fs::write(src.join("lecture.mp4"), Rng::new(a.seed).bytes(f as usize))?;
        for r in &mut rows {
            let run = measure_cs(&src, r.n, a.server as u64, &work.join("cs"))?;
            let t = run.total.as_secs_f64();
            println!(
                "   N = {:>2}: every copy verified after {t:>6.2} s; bound N·F/u_s = {:>6.2} s",
                r.n, r.cs_bound
            );
            r.cs = Some(t);
        }
        println!();
    }

    if !a.skip_p2p {
        println!("2. P2P: a BitTorrent swarm; the seed uploads at u_s, every leecher at u (rarest first, tit-for-tat).");
        for r in &mut rows {
            let mut cfg = SwarmConfig::uniform(
                r.n,
                f as u64,
                Some(a.server as u64),
                Some(a.peer as u64),
                work.join(format!("p2p-{}", r.n)),
            );
            cfg.seed = a.seed;
            cfg.time_scale = a.time_scale;
            cfg.timeout = Duration::from_secs(300);
            let report = run_swarm(&cfg, None)?;
            let _ = std::fs::remove_dir_all(&cfg.work_dir); // N copies of F: free the disk
            let t = report
                .distribution_time
                .ok_or("the swarm did not finish")?
                .as_secs_f64();
            if !report.all_verified {
                return Err(format!("N = {}: a copy failed its SHA-1 check", r.n).into());
            }
            println!(
                "   N = {:>2}: every copy verified after {t:>6.2} s; bound {:>6.2} s ({}); seed uploaded {:.1} copies",
                r.n,
                r.p2p_bound,
                r.binding,
                report.seed_uploaded as f64 / f
            );
            r.p2p = Some(t);
        }
        println!();
    }

    let mut t = Table::new(&[
        "N",
        "C/S bound s",
        "C/S measured s",
        "÷ bound",
        "P2P bound s",
        "binding term",
        "P2P measured s",
        "÷ bound",
    ]);
    let opt = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.2}"));
    let ratio = |x: Option<f64>, b: f64| x.map_or("-".to_string(), |v| format!("{:.2}", v / b));
    for r in &rows {
        t.row(&[
            &r.n,
            &format!("{:.2}", r.cs_bound),
            &opt(r.cs),
            &ratio(r.cs, r.cs_bound),
            &format!("{:.2}", r.p2p_bound),
            &r.binding,
            &opt(r.p2p),
            &ratio(r.p2p, r.p2p_bound),
        ]);
    }
    println!("== What was measured\n");
    t.print();
    let worst = |m: &dyn Fn(&Row) -> Option<f64>, b: &dyn Fn(&Row) -> f64| {
        rows.iter().filter_map(|r| m(r).map(|v| v / b(r))).fold(
            None,
            |acc: Option<(f64, f64)>, x| {
                Some(acc.map_or((x, x), |(lo, hi)| (lo.min(x), hi.max(x))))
            },
        )
    };
    if let Some((lo, hi)) = worst(&|r| r.cs, &|r| r.cs_bound) {
        println!("\nC/S: measured ÷ bound from {lo:.3} to {hi:.3} (never below 1: the bound holds; within {:.1}% of it)", (hi - 1.0) * 100.0);
    }
    if let Some((lo, hi)) = worst(&|r| r.p2p, &|r| r.p2p_bound) {
        println!("P2P: measured ÷ bound from {lo:.2} to {hi:.2}");
    }

    let pts = |g: &dyn Fn(&Row) -> Option<f64>| -> Vec<(f64, f64)> {
        rows.iter()
            .filter_map(|r| g(r).map(|y| (r.n as f64, y)))
            .collect()
    };
    let (cs_b, p2p_b) = (pts(&|r| Some(r.cs_bound)), pts(&|r| Some(r.p2p_bound)));
    let (cs_m, p2p_m) = (pts(&|r| r.cs), pts(&|r| r.p2p));
    println!("\n c = C/S bound, p = P2P bound, C and P = measured (seconds against N)\n");
    print!(
        "{}",
        ascii(
            &[('c', &cs_b), ('p', &p2p_b), ('C', &cs_m), ('P', &p2p_m)],
            64,
            16
        )
    );
    let doc = svg(
        &format!(
            "Distribution time of a {:.0} MiB file, u_s = {:.0} MiB/s, u = {:.0} MiB/s",
            f / MIB,
            a.server / MIB,
            a.peer / MIB
        ),
        "N (number of peers)",
        "time until every peer has the file (s)",
        &[
            Series {
                name: "C/S bound".into(),
                color: "#c0392b",
                style: Style::Line,
                points: cs_b,
            },
            Series {
                name: "C/S measured".into(),
                color: "#c0392b",
                style: Style::Points,
                points: cs_m,
            },
            Series {
                name: "P2P bound".into(),
                color: "#2471a3",
                style: Style::Line,
                points: p2p_b,
            },
            Series {
                name: "P2P measured".into(),
                color: "#2471a3",
                style: Style::Points,
                points: p2p_m,
            },
        ],
    );
    if let Some(dir) = a.svg.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&a.svg, doc)?;
    println!("\nchart: {} (open it in a browser)", a.svg.display());
    Ok(())
}
