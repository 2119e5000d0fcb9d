//! lab-problems: the two problems of notes 6.4 (问题) on the four designs, side by side.
//!
//! 如何定位所需资源 (locating content) and 如何处理对等方的加入和离开 (peers joining and
//! leaving), answered four ways: 集中 (Napster's directory), 分散 (Gnutella's flooding),
//! 半分散 (KaZaA's group leaders) and the ring DHT. Every design runs on its own real
//! nodes and sockets, under one workload: the same peers, songs, searches and churn.
//!
//! Handout: README.md here. `run` calls the steps of `Lab` (`lab.rs`) in the handout's
//! order (`Lab::run`); `report.rs` prints the table and draws the chart; `designs.rs` is the list of designs and how each one starts;
//! `trade.rs` is step 1b, KaZaA's leaders forwarding, copying and both.

mod designs;
mod lab;
mod report;
mod trade;

use getopts::Options;
use lab::{Args, Lab};
use p2plab::opts;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let a = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => return opts::finish("lab-problems", Err(e)),
    };
    opts::finish("lab-problems", Lab::new(a).run())
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut o = Options::new();
    o.optopt(
        "",
        "peers",
        "peers in the side-by-side run (default 64)",
        "N",
    );
    o.optopt(
        "",
        "designs",
        "which designs, in order (default napster,gnutella,kazaa,dht)",
        "LIST",
    );
    o.optopt(
        "",
        "sizes",
        "N for the scaling chart (default 16,32,64,128,256; at most 256)",
        "LIST",
    );
    o.optopt(
        "",
        "svg",
        "scaling chart (default target/problems.svg)",
        "FILE",
    );
    o.optopt(
        "",
        "seed",
        "the workload and every random choice (default 7)",
        "S",
    );
    o.optflag("", "no-load", "skip the directory's login/logout load");
    o.optflag("", "no-scaling", "skip the scaling runs and the chart");
    o.optflag(
        "",
        "no-trade",
        "skip step 1b, KaZaA's leaders forwarding, copying and both",
    );
    let brief = "Usage: lab-problems [options]   (make lab-problems ARGS='--peers 32')";
    let Some(m) = opts::parse(&mut o, std::env::args().skip(1), brief)? else {
        return Ok(None);
    };
    let peers: usize = opts::value(&m, "peers", 64)?;
    if !(8..=lab::MAX_PEERS).contains(&peers) {
        return Err(format!("--peers must be 8 to {}", lab::MAX_PEERS));
    }
    let sizes: Vec<usize> = opts::list(&m, "sizes", &lab::DEFAULT_SIZES)?;
    if let Some(bad) = sizes.iter().find(|n| !(8..=lab::MAX_PEERS).contains(*n)) {
        return Err(format!("--sizes: {bad} is not 8 to {}", lab::MAX_PEERS));
    }
    let keys: Vec<String> = opts::list(&m, "designs", &designs::default_keys())?;
    let designs = keys
        .iter()
        .map(|k| designs::find(k))
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Some(Args {
        peers,
        designs,
        sizes,
        svg: PathBuf::from(
            m.opt_str("svg")
                .unwrap_or_else(|| "target/problems.svg".into()),
        ),
        seed: opts::value(&m, "seed", 7)?,
        no_load: m.opt_present("no-load"),
        no_scaling: m.opt_present("no-scaling"),
        no_trade: m.opt_present("no-trade"),
    }))
}
