//! Command-line options for `p2plab`, the labs and the benches.
//!
//! Every binary parses with getopts the same way: `--help` prints the usage and exits
//! cleanly, an unknown option prints the problem and the usage, and a value that does
//! not parse is an error naming the option (`--peers: 'x' is not a valid value`), never
//! a silent fall-back to the default. A size above what a lab was tested with is
//! clamped to it, and one line says so ([`clamp`]): a network the lab never ran could
//! exhaust the process's threads or files half-way, which teaches nothing.

use getopts::{Matches, Options};
use std::fmt::Display;
use std::process::ExitCode;
use std::str::FromStr;

/// Adds `-h/--help` and parses `args`. `Ok(None)`: help was asked for and printed.
pub fn parse<I>(opts: &mut Options, args: I, brief: &str) -> Result<Option<Matches>, String>
where
    I: IntoIterator<Item = String>,
{
    if !opts.usage("").contains("--help") {
        opts.optflag("h", "help", "print this help");
    }
    let m = opts
        .parse(args)
        .map_err(|e| format!("{e}\n\n{}", opts.usage(brief)))?;
    if m.opt_present("help") {
        // `writeln!`, not `println!`: a reader that closes the pipe early (`--help | head`)
        // must not turn help into a panic.
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), "{}", opts.usage(brief));
        return Ok(None);
    }
    Ok(Some(m))
}

/// The value of `--name`, or `default` when the option is absent.
pub fn value<T: FromStr>(m: &Matches, name: &str, default: T) -> Result<T, String> {
    match m.opt_str(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("--{name}: '{v}' is not a valid value")),
    }
}

/// A comma-separated `--name 1,2,4`, or `default` when the option is absent.
pub fn list<T: FromStr + Clone>(m: &Matches, name: &str, default: &[T]) -> Result<Vec<T>, String> {
    let Some(v) = m.opt_str(name) else {
        return Ok(default.to_vec());
    };
    let items = v
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| format!("--{name}: '{s}' is not a valid value"))
        })
        .collect::<Result<Vec<T>, String>>()?;
    if items.is_empty() {
        return Err(format!("--{name}: '{v}' names nothing"));
    }
    Ok(items)
}

/// `v` within `lo..=hi`, the tested range of `program`'s `--name`; prints what it did
/// when it had to change it (see [`clamp_note`]).
pub fn clamp<T: Ord + Copy + Display>(program: &str, name: &str, v: T, lo: T, hi: T) -> T {
    let (c, note) = clamp_note(program, name, v, lo, hi);
    if let Some(note) = note {
        println!("{note}");
    }
    c
}

/// [`clamp`]'s value, and its line when the value changed:
/// `lab-dht: --max 9000 is outside the tested 8..=4096; using 4096`.
pub fn clamp_note<T: Ord + Copy + Display>(
    program: &str,
    name: &str,
    v: T,
    lo: T,
    hi: T,
) -> (T, Option<String>) {
    let c = v.clamp(lo, hi);
    let note = (c != v)
        .then(|| format!("{program}: --{name} {v} is outside the tested {lo}..={hi}; using {c}"));
    (c, note)
}

/// The end of a binary's `main`: success, or the error after the program's name.
pub fn finish<E: std::fmt::Display>(program: &str, result: Result<(), E>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{program}: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Options {
        let mut o = Options::new();
        o.optopt("", "peers", "", "N");
        o.optopt("", "list", "", "L");
        o
    }

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn values_and_lists() {
        let m = parse(&mut opts(), args(&["--peers", "8", "--list", "1, 2,4"]), "")
            .unwrap()
            .unwrap();
        assert_eq!(value(&m, "peers", 3usize), Ok(8));
        assert_eq!(list(&m, "list", &[9u32]), Ok(vec![1, 2, 4]));
        let m = parse(&mut opts(), args(&[]), "").unwrap().unwrap();
        assert_eq!(value(&m, "peers", 3usize), Ok(3));
        assert_eq!(list(&m, "list", &[9u32]), Ok(vec![9]));
    }

    #[test]
    fn bad_values_name_the_option() {
        let m = parse(&mut opts(), args(&["--peers", "x", "--list", "1,y"]), "")
            .unwrap()
            .unwrap();
        assert_eq!(
            value(&m, "peers", 3usize),
            Err("--peers: 'x' is not a valid value".into())
        );
        assert!(list(&m, "list", &[9u32]).unwrap_err().contains("'y'"));
        assert!(parse(&mut opts(), args(&["--nope"]), "Usage: t")
            .unwrap_err()
            .contains("Usage: t"));
    }

    #[test]
    fn a_clamped_option_says_what_it_became() {
        assert_eq!(
            clamp_note("lab-dht", "max", 9000usize, 8, 4096),
            (
                4096,
                Some("lab-dht: --max 9000 is outside the tested 8..=4096; using 4096".into())
            )
        );
        assert_eq!(clamp_note("lab-x", "ttl", 0u8, 1, 7).0, 1);
        assert_eq!(
            clamp_note("lab-x", "ttl", 5u8, 1, 7),
            (5, None),
            "inside: silent"
        );
        assert_eq!(clamp("lab-x", "peers", 3u64, 3, 1000), 3);
    }

    #[test]
    fn help_is_not_an_error() {
        assert_eq!(
            parse(&mut opts(), args(&["--help"]), "Usage: t").unwrap(),
            None
        );
    }
}
