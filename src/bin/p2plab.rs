//! `p2plab`: run one node of any architecture of the notes, one per terminal.
//!
//! `p2plab <architecture> <role> [options]`; `p2plab --help` lists them, and
//! `p2plab <architecture> <role> --help` lists a role's options.

mod cli;

use std::process::ExitCode;

const USAGE: &str = "\
p2plab: the P2P chapter of the notes, one node per terminal

Usage: p2plab <architecture> <role> [options]     (add --help after a role for its options)

  share serve      serve a folder over HTTP (/get/<index>/<name>, /uri-res/N2R?urn:sha1:...)
  gnutella node    a Gnutella servent with a prompt: query, ping, neighbours, get, leave
  gnutella cache   a GWebCache-style host cache for joining servents
  kazaa leader     a KaZaA group leader: indexes its children, forwards queries to leaders
  kazaa node       a KaZaA child: uploads its list to a leader, queries, downloads by hash

Logging: RUST_LOG=debug p2plab ...";

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().take(2).map(String::as_str).collect();
    let rest = args.get(2..).unwrap_or_default();
    let result = match words[..] {
        ["share", "serve"] => cli::share_serve(rest),
        ["gnutella", "node"] => cli::gnutella_node(rest),
        ["gnutella", "cache"] => cli::gnutella_cache(rest),
        ["kazaa", "leader"] => cli::kazaa_leader(rest),
        ["kazaa", "node"] => cli::kazaa_node(rest),
        [] | ["--help"] | ["-h"] | ["help"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown command '{}'\n\n{USAGE}", args.join(" "))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("p2plab: {e}");
            ExitCode::FAILURE
        }
    }
}
