//! Option parsing and waiting, shared by every subcommand.

use getopts::{Matches, Options};

/// Parses a subcommand's `args` (see [`p2plab::opts::parse`]); `Ok(None)` after `--help`.
pub fn parse(opts: &mut Options, args: &[String], brief: &str) -> Result<Option<Matches>, String> {
    p2plab::opts::parse(opts, args.iter().cloned(), brief)
}

/// Blocks until standard input closes or says `quit`: a foreground node's lifetime.
pub fn wait_for_quit() {
    let mut line = String::new();
    loop {
        line.clear();
        match std::io::stdin().read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line.trim() == "quit" => return,
            Ok(_) => println!("type 'quit' (or Ctrl-D) to stop"),
        }
    }
}

/// A server's lifetime: on a terminal until `quit` or Ctrl-D; in a script (standard
/// input not a terminal, e.g. `</dev/null`) until the process is killed.
pub fn run_until_stopped() {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        println!("type 'quit' (or Ctrl-D) to stop");
        wait_for_quit();
    } else {
        loop {
            std::thread::park();
        }
    }
}
