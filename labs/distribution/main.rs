//! lab-distribution: the notes' distribution-time bounds (6.2), computed and measured.
//!
//! For N = 1, 2, 4 … 32 the same file goes from one server to N peers twice, over real
//! rate-limited sockets: (a) client-server, one HTTP server capped at u_s serving all N;
//! (b) P2P, a BitTorrent swarm whose seed is capped at u_s and every peer at u. Each
//! measured time is printed beside its lower bound, and both go on one SVG chart.
//!
//! Handout: README.md here. `run` calls the steps of `Lab` (`lab.rs`) in the handout's
//! order: `bounds`, `client_server` (step 1), `p2p` (step 2), `real_links` (step 3, with
//! `--netns`), then `table` and `chart`.

mod lab;
mod report;

use getopts::Options;
use lab::{Lab, MIB};
use p2plab::opts;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The options of one run.
pub struct Args {
    file_mb: f64,
    server: f64,
    peer: f64,
    ns: Vec<usize>,
    svg: PathBuf,
    seed: u64,
    time_scale: f64,
    skip_cs: bool,
    skip_p2p: bool,
    netns: bool,
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let a = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => return opts::finish("lab-distribution", Err(e)),
    };
    let work = std::env::temp_dir().join(format!("p2plab-lab-distribution-{}", std::process::id()));
    let result = run(a, &work);
    let _ = std::fs::remove_dir_all(&work);
    opts::finish("lab-distribution", result)
}

/// The handout's steps, in its order; the first failure ends the lab with what was expected.
fn run(a: Args, work: &Path) -> Result<(), String> {
    let mut lab = Lab::new(a, work);
    lab.bounds();
    if !lab.a.skip_cs {
        lab.client_server()?;
    }
    if !lab.a.skip_p2p {
        lab.p2p()?;
    }
    if lab.a.netns {
        lab.real_links()?;
    }
    lab.table();
    lab.chart()
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
    o.optflag(
        "",
        "netns",
        "also run both on real links: every peer on its own host (network namespaces; root)",
    );
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
        netns: m.opt_present("netns"),
    }))
}
