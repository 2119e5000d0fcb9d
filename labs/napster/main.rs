//! lab-napster: the central directory of notes 6.3 (集中化目录) and its problems (6.4).
//!
//! Starts a directory server and N peers on real sockets, then tells the story:
//! announce, search, download straight from a peer, the bottleneck, the single point
//! of failure. Every number printed is measured in this run. Handout: README.md here.
//! This file parses the options and calls the steps; `steps.rs` holds them, `folders.rs`
//! makes the peers' share folders, `offline.rs` tries the directory once it is gone.
//! `--scale` runs only the growth curve (`scale.rs`).

mod folders;
mod offline;
mod scale;
mod steps;

use folders::Args;
use getopts::Options;
use p2plab::opts;
use std::path::Path;
use std::process::ExitCode;
use steps::{Lab, LabResult};

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => return opts::finish("lab-napster", Err(e)),
    };
    if args.scale {
        let svg = Path::new("target/napster-scale.svg");
        return opts::finish("lab-napster", scale::run(args.peers, args.seed, svg));
    }
    let dir = std::env::temp_dir().join(format!("p2plab-lab-napster-{}", std::process::id()));
    let result = run(&args, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    opts::finish("lab-napster", result)
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut o = Options::new();
    o.optopt(
        "",
        "peers",
        "peers sharing files (default 8, at least 4; with --scale the largest, default 1000, at most 3000)",
        "N",
    );
    o.optflag(
        "",
        "scale",
        "only the growth curve: a directory with 125, 250, 500, 1000 peers (scale.rs)",
    );
    o.optopt("", "files", "files per peer (default 4)", "N");
    o.optopt(
        "",
        "file-kb",
        "size of each file in KiB (default 256)",
        "KB",
    );
    o.optopt(
        "",
        "big-mb",
        "size of the file in flight when the server dies (default 16)",
        "MB",
    );
    o.optopt(
        "",
        "catalogue",
        "extra files in the directory for the bottleneck test (default 10000)",
        "N",
    );
    o.optopt(
        "",
        "clients",
        "searching peers for the bottleneck test (default 1,2,4,8,16,32,64)",
        "LIST",
    );
    o.optopt(
        "",
        "seed",
        "random seed: same seed, same story (default 7)",
        "S",
    );
    let brief = "Usage: lab-napster [options]   (make lab-napster ARGS='--peers 16')";
    let Some(m) = opts::parse(&mut o, std::env::args().skip(1), brief)? else {
        return Ok(None);
    };
    let scale = m.opt_present("scale");
    let peers = if scale {
        let max = opts::value(&m, "peers", 1000usize)?;
        opts::clamp("lab-napster", "peers", max, 4, scale::MAX_PEERS)
    } else {
        opts::value(&m, "peers", 8usize)?.max(4)
    };
    Ok(Some(Args {
        peers,
        files: opts::value(&m, "files", 4usize)?.max(1),
        file_kb: opts::value(&m, "file-kb", 256usize)?.max(1),
        big_mb: opts::value(&m, "big-mb", 16usize)?.max(1),
        seed: opts::value(&m, "seed", 7)?,
        catalogue: opts::value(&m, "catalogue", 10_000)?,
        levels: opts::list(&m, "clients", &[1, 2, 4, 8, 16, 32, 64])?,
        scale,
    }))
}

fn run(a: &Args, root: &Path) -> LabResult<()> {
    println!("== Napster: a central directory (notes 6.3 集中化目录, 6.4 问题)\n");
    let mut lab = Lab::start(a, root)?;
    lab.announce()?;
    let hit = lab.search()?;
    lab.download(&hit)?;
    lab.bottleneck()?;
    lab.single_point_of_failure()?;
    lab.finish();
    Ok(())
}
