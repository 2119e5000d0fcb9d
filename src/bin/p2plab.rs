//! `p2plab`: run one node of any architecture of the notes, one per terminal.
//!
//! `p2plab <architecture> <role> [options]`. `p2plab --help` lists every architecture and
//! role, `p2plab <architecture> --help` that architecture's roles, and
//! `p2plab <architecture> <role> --help` a role's options. The roles and their one-line
//! descriptions are one table, `cli::COMMANDS`; the dispatch and the help are read from it.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    p2plab::opts::finish("p2plab", cli::dispatch(&args))
}
