//! The CLI has one shape: `p2plab --help` lists architectures and roles, `p2plab <arch>
//! --help` (or `p2plab <arch>` alone) lists that architecture's roles, and `p2plab <arch>
//! <role> --help` prints the role's options. Runs the real binary; every call is `--help`
//! or an error, so nothing listens or waits.

use std::process::{Command, Output};

fn p2plab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_p2plab"))
        .args(args)
        .env("RUST_LOG", "off")
        .output()
        .expect("p2plab runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// (architecture, role) pairs as `p2plab --help` lists them: a header `arch: about` (or
/// `arch (or alias): about`), then `  arch role   about` per role.
fn listed() -> Vec<(String, String)> {
    let top = p2plab(&["--help"]);
    assert!(top.status.success());
    let text = stdout(&top);
    let archs: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with(' ') && l.contains(": ") && !l.starts_with("p2plab"))
        .filter_map(|l| l.split([':', ' ']).next())
        .collect();
    assert!(archs.contains(&"bt") && archs.contains(&"kazaa"), "{text}");
    let mut pairs = Vec::new();
    for line in text.lines().filter(|l| l.starts_with("  ")) {
        let mut words = line.split_whitespace();
        let (Some(arch), Some(role)) = (words.next(), words.next()) else {
            continue;
        };
        if archs.contains(&arch) {
            // `distribution` is one command: its second word is its description.
            let role = if line.contains(&format!("{arch} {role}  ")) {
                role
            } else {
                ""
            };
            pairs.push((arch.to_string(), role.to_string()));
        }
    }
    pairs
}

#[test]
fn every_architecture_lists_its_roles_with_help_or_alone() {
    let pairs = listed();
    assert!(pairs.len() >= 14, "{pairs:?}");
    for (arch, role) in pairs.iter().filter(|(_, r)| !r.is_empty()) {
        for args in [vec![arch.as_str(), "--help"], vec![arch.as_str()]] {
            let o = p2plab(&args);
            assert!(o.status.success(), "p2plab {args:?} failed");
            let text = stdout(&o);
            assert!(
                text.lines()
                    .any(|l| l.trim_start().starts_with(role.as_str())),
                "p2plab {args:?} does not list {role}:\n{text}"
            );
        }
    }
}

#[test]
fn every_role_prints_its_options() {
    for (arch, role) in listed() {
        let mut args = vec![arch.as_str()];
        if !role.is_empty() {
            args.push(role.as_str());
        }
        args.push("--help");
        let o = p2plab(&args);
        let text = stdout(&o);
        assert!(o.status.success(), "p2plab {args:?}: {text}");
        let usage = format!("Usage: p2plab {arch} {role}");
        assert!(text.contains(usage.trim_end()), "p2plab {args:?}:\n{text}");
        assert!(text.contains("--help"), "p2plab {args:?}:\n{text}");
    }
}

#[test]
fn bt_help_lists_the_roles_and_bittorrent_is_bt() {
    for word in ["bt", "bittorrent"] {
        let o = p2plab(&[word, "--help"]);
        assert!(o.status.success());
        let text = stdout(&o);
        for role in ["make", "show", "tracker", "seed", "get"] {
            assert!(
                text.contains(&format!("  {role} ")),
                "{word}: {role}:\n{text}"
            );
        }
    }
}

#[test]
fn unknown_words_fail_and_say_what_exists() {
    let o = p2plab(&["nope"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("unknown architecture 'nope'") && err.contains("gnutella"),
        "{err}"
    );
    let o = p2plab(&["kazaa", "nope"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("unknown role 'nope' for kazaa") && err.contains("leader"),
        "{err}"
    );
}
