//! Option parsing and waiting, shared by every subcommand.

use getopts::{Matches, Options};

/// Parses `args`; on `--help` prints the usage and returns `Ok(None)`.
pub fn parse(opts: &mut Options, args: &[String], brief: &str) -> Result<Option<Matches>, String> {
    opts.optflag("h", "help", "print this help");
    let m = opts
        .parse(args)
        .map_err(|e| format!("{e}\n\n{}", opts.usage(brief)))?;
    if m.opt_present("help") {
        println!("{}", opts.usage(brief));
        return Ok(None);
    }
    Ok(Some(m))
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
