//! The subcommands of `p2plab`, one file per architecture. Each parses its options
//! with getopts, starts nodes through the library, and waits for Ctrl-C or `quit`.
//!
//! [`COMMANDS`] (in `table.rs`) is the one table of what `p2plab` can run: architecture, role, one line
//! saying what it is, and the function. [`dispatch`] and every help text are read from it,
//! so the help cannot list a role that does not run, nor miss one that does.

mod bittorrent;
mod common;
mod dht;
pub mod distribution;
mod gnutella;
mod kazaa;
pub mod napster;
mod net;
mod share;
mod table;

pub use bittorrent::{bt_get, bt_make, bt_seed, bt_show, bt_tracker};
pub use dht::dht_node;
pub use gnutella::{gnutella_cache, gnutella_node};
pub use kazaa::{kazaa_leader, kazaa_node};
pub use net::{net_down, net_up};
pub use share::share_serve;
pub use table::{Architecture, Command, ARCHITECTURES, COMMANDS, LABS};

const HELP: [&str; 3] = ["--help", "-h", "help"];

/// The architecture called `word`, by name or alias.
fn architecture(word: &str) -> Option<&'static Architecture> {
    ARCHITECTURES
        .iter()
        .find(|a| a.name == word || a.aliases.contains(&word))
}

fn roles(arch: &str) -> impl Iterator<Item = &'static Command> + '_ {
    COMMANDS.iter().filter(move |c| c.arch == arch)
}

/// `bt (or bittorrent)`: the name and its aliases.
fn names(a: &Architecture) -> String {
    match a.aliases {
        [] => a.name.to_string(),
        more => format!("{} (or {})", a.name, more.join(", ")),
    }
}

/// `p2plab --help`: every architecture and each of its roles.
pub fn usage() -> String {
    let mut out = String::from(
        "p2plab: the P2P chapter of the notes, one node per terminal\n\n\
         Usage: p2plab <architecture> <role> [options]\n\
         \x20      p2plab <architecture> --help          its roles\n\
         \x20      p2plab <architecture> <role> --help   a role's options\n",
    );
    for a in ARCHITECTURES {
        out.push_str(&format!("\n{}: {}\n", names(a), a.about));
        for c in roles(a.name) {
            let command = format!("{} {}", c.arch, c.role);
            out.push_str(&format!("  {:<18} {}\n", command.trim_end(), c.about));
        }
    }
    out.push_str("\nLabs, in the notes' order (make lab-<name>, ARGS='--help' for options):\n");
    for (section, name, about) in LABS {
        out.push_str(&format!(
            "  {section}  {:<18} {about}\n",
            format!("lab-{name}")
        ));
    }
    out.push_str("\nLogging: RUST_LOG=debug p2plab ...");
    out
}

/// `p2plab <architecture> --help`: its roles, one line each.
pub fn arch_usage(a: &Architecture) -> String {
    let mut out = format!(
        "p2plab {}: {}\n\nUsage: p2plab {} <role> [options]   (p2plab {} <role> --help: its options)\n\n",
        names(a),
        a.about,
        a.name,
        a.name
    );
    for c in roles(a.name) {
        out.push_str(&format!("  {:<10} {}\n", c.role, c.about));
    }
    out.trim_end().to_string()
}

/// Prints a help text; a closed pipe (`p2plab --help | head`) is not an error.
fn show(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{text}");
}

/// Runs `p2plab <args>`: looks the architecture and the role up in [`COMMANDS`].
pub fn dispatch(args: &[String]) -> Result<(), String> {
    let Some(first) = args.first() else {
        show(&usage());
        return Ok(());
    };
    if HELP.contains(&first.as_str()) {
        show(&usage());
        return Ok(());
    }
    let Some(arch) = architecture(first) else {
        return Err(format!("unknown architecture '{first}'\n\n{}", usage()));
    };
    // An architecture that is one command takes every word after it as its options.
    if let Some(only) = roles(arch.name).find(|c| c.role.is_empty()) {
        return (only.run)(&args[1..]);
    }
    match args.get(1).map(String::as_str) {
        None => {
            show(&arch_usage(arch));
            Ok(())
        }
        Some(word) if HELP.contains(&word) => {
            show(&arch_usage(arch));
            Ok(())
        }
        Some(word) => match roles(arch.name).find(|c| c.role == word) {
            Some(c) => (c.run)(&args[2..]),
            None => Err(format!(
                "unknown role '{word}' for {}\n\n{}",
                arch.name,
                arch_usage(arch)
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_belongs_to_an_architecture_and_every_architecture_has_a_role() {
        for c in COMMANDS {
            assert!(
                ARCHITECTURES.iter().any(|a| a.name == c.arch),
                "{} {}",
                c.arch,
                c.role
            );
        }
        for a in ARCHITECTURES {
            assert!(roles(a.name).count() > 0, "{} has no role", a.name);
        }
    }

    #[test]
    fn no_role_is_listed_twice_and_a_single_command_is_alone() {
        for (i, c) in COMMANDS.iter().enumerate() {
            let twice = COMMANDS[i + 1..]
                .iter()
                .any(|d| d.arch == c.arch && d.role == c.role);
            assert!(!twice, "{} {} is listed twice", c.arch, c.role);
            if c.role.is_empty() {
                assert_eq!(roles(c.arch).count(), 1, "{} mixes roles", c.arch);
            }
        }
    }

    #[test]
    fn every_help_text_lists_every_role() {
        let top = usage();
        for a in ARCHITECTURES {
            let mine = arch_usage(a);
            assert!(top.contains(a.about) && mine.contains(a.about));
            for c in roles(a.name) {
                let line = format!("{} {}", c.arch, c.role);
                assert!(top.contains(line.trim_end()), "{line} missing");
                assert!(mine.contains(c.about), "{line}: its line is missing");
            }
        }
    }

    #[test]
    fn the_help_lists_every_lab_of_the_makefile_in_its_order() {
        let makefile = include_str!("../../../Makefile");
        let labs: Vec<&str> = makefile
            .lines()
            .filter_map(|l| l.strip_prefix("LABS "))
            .filter_map(|l| l.split_whitespace().last())
            .collect();
        let mut listed: Vec<&str> = LABS.iter().map(|l| l.1).collect();
        let mut made = labs.clone();
        listed.sort();
        made.sort();
        assert_eq!(
            listed, made,
            "cli/table.rs LABS and the Makefile's LABS differ"
        );
        let sections: Vec<&str> = LABS.iter().map(|l| l.0).collect();
        let mut sorted = sections.clone();
        sorted.sort();
        assert_eq!(sections, sorted, "labs are listed in the notes' order");
        for (_, name, _) in LABS {
            assert!(usage().contains(&format!("lab-{name}")));
        }
    }

    #[test]
    fn aliases_and_unknown_words() {
        assert_eq!(architecture("bittorrent").map(|a| a.name), Some("bt"));
        assert!(architecture("napster").is_some());
        assert!(architecture("nope").is_none());
        let args = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        let err = dispatch(&args(&["nope"])).unwrap_err();
        assert!(err.starts_with("unknown architecture 'nope'"), "{err}");
        let err = dispatch(&args(&["bt", "nope"])).unwrap_err();
        assert!(err.starts_with("unknown role 'nope' for bt"), "{err}");
        assert!(err.contains("tracker"), "{err}");
    }
}
