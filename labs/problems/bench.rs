//! bench-problems: the side-by-side table of notes 6.4 as bench figures.
//!
//! Runs `lab-problems`'s steps with its defaults (64 peers, seed 7, N = 16 … 256 for the
//! scaling runs), prints the same tables, and writes every figure of the side-by-side
//! table to `target/bench/problems.json` (`<design>_<figure>`: upkeep per node
//! included), and each scaling point's measured and expected messages per search,
//! busiest share and upkeep (`<design>_<figure>_n<N>`), so that a change to any design
//! shows up as a changed number.

mod designs;
mod lab;
mod report;
mod trade;

use lab::{Args, Lab};
use p2plab::opts;
use p2plab::report::write_bench_json;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let mut o = getopts::Options::new();
    let brief =
        "Usage: bench-problems   (make bench; the figures go to target/bench/problems.json)";
    match opts::parse(&mut o, std::env::args().skip(1), brief) {
        Ok(Some(_)) => {}
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => return opts::finish("bench-problems", Err(e)),
    }
    opts::finish("bench-problems", run())
}

fn run() -> Result<(), String> {
    let designs = designs::default_keys()
        .iter()
        .map(|k| designs::find(k))
        .collect::<Result<Vec<_>, String>>()?;
    let args = Args {
        peers: 64.min(lab::MAX_PEERS),
        designs,
        sizes: lab::DEFAULT_SIZES.to_vec(),
        svg: PathBuf::from("target/bench/problems.svg"),
        seed: 7,
        no_load: false,
        no_scaling: false,
        no_trade: false,
    };
    let mut lab = Lab::new(args);
    lab.run()?;
    let mut figures = report::figures(&lab.a.designs, &lab.columns, &lab.scaled);
    for t in &lab.trade {
        let (mode, c) = (t.mode, &t.col);
        figures.extend([
            (
                format!("kazaa_{mode}_leader_msgs_per_search"),
                t.leader_msgs_per_search,
            ),
            (
                format!("kazaa_{mode}_leader_msgs_per_churn"),
                t.leader_msgs_per_churn,
            ),
            (
                format!("kazaa_{mode}_msgs_per_search"),
                c.msgs_per_search.get(),
            ),
            (format!("kazaa_{mode}_msgs_per_join"), c.join_msgs.get()),
            (format!("kazaa_{mode}_msgs_per_leave"), c.leave_msgs.get()),
            (format!("kazaa_{mode}_search_success"), c.success_rate()),
        ]);
    }
    let path = write_bench_json("problems", &figures).map_err(|e| e.to_string())?;
    println!("wrote {}", path.display());
    Ok(())
}
