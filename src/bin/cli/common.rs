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

/// Text that came from the network (a file name, a nick, a DHT value, a peer's error
/// message), made safe to print: control characters (a terminal escape sequence starts
/// with ESC; a newline forges a line of output), the bidirectional overrides that make
/// `exe.txt` read as `txt.exe`, and backslashes are written as Rust escapes (`\u{1b}`,
/// `\n`, `\\`). Every other character, Chinese included, prints as itself. Issue #13:
/// names from the network are printed escaped, here and nowhere else.
pub fn shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}');
        if c == '\\' || c.is_control() || bidi {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// [`shown`] for bytes: invalid UTF-8 becomes U+FFFD first.
pub fn shown_bytes(bytes: &[u8]) -> String {
    shown(&String::from_utf8_lossy(bytes))
}

/// [`shown`] for a path built from a name that came from the network.
pub fn shown_path(path: &std::path::Path) -> String {
    shown(&path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_bidi_overrides_are_escaped_and_the_rest_is_kept() {
        assert_eq!(shown("lab song.mp3"), "lab song.mp3");
        assert_eq!(shown("对等方 ü"), "对等方 ü");
        assert_eq!(shown("a\x1b[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(shown("x\nFAKE LINE"), "x\\nFAKE LINE");
        assert_eq!(
            shown("a\\n"),
            "a\\\\n",
            "a real backslash is told from an escape"
        );
        assert_eq!(shown("gpj\u{202e}exe.txt"), "gpj\\u{202e}exe.txt");
        assert_eq!(shown_bytes(b"v\xff\x07"), "v\u{fffd}\\u{7}");
    }
}
