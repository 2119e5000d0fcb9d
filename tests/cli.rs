//! The CLI has one shape: `p2plab --help` lists architectures and roles, `p2plab <arch>
//! --help` (or `p2plab <arch>` alone) lists that architecture's roles, and `p2plab <arch>
//! <role> --help` prints the role's options. Runs the real binary; every call is `--help`
//! or an error, so nothing listens or waits, except the last test: names from the
//! network reach the terminal escaped (`bt show`, and `get` at a `dht node` prompt).

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

/// Issue #13: a name from the network reaches the terminal escaped. A torrent's name
/// and file paths (anyone can publish one), and a DHT value (anyone can put one), each
/// carry a terminal escape sequence, a forged line and a right-to-left override.
const HOSTILE: &str = "a\u{1b}]0;pwned\u{7}\nFAKE LINE \u{202e}3pm.exe";
const HOSTILE_SHOWN: &str = "a\\u{1b}]0;pwned\\u{7}\\nFAKE LINE \\u{202e}3pm.exe";

#[test]
fn names_from_the_network_are_printed_escaped() {
    use p2plab::bittorrent::metainfo::{FileEntry, Info, Metainfo};
    let dir = std::env::temp_dir().join(format!("p2plab-cli-escape-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let torrent = dir.join("hostile.torrent");
    let info = Info {
        name: HOSTILE.into(),
        piece_length: 16384,
        pieces: vec![[0; 20]],
        files: vec![FileEntry {
            path: vec!["dir".into(), HOSTILE.into()],
            length: 10,
        }],
        multi_file: true,
    };
    std::fs::write(&torrent, Metainfo::new(info, None).to_bytes()).unwrap();
    let o = p2plab(&["bt", "show", torrent.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = stdout(&o);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{202e}'),
        "{text:?}"
    );
    assert!(!text.lines().any(|l| l.starts_with("FAKE")), "{text}");
    assert!(
        text.contains(&format!("name:         {HOSTILE_SHOWN}")),
        "{text}"
    );
    assert!(text.contains(&format!("dir/{HOSTILE_SHOWN}")), "{text}");

    // A DHT value put by another node, read back through `p2plab dht node`.
    let mut cfg = p2plab::dht::Config::new(160);
    cfg.time_scale = 0.05;
    let ring = p2plab::dht::Node::start("127.0.0.1:0", cfg).unwrap();
    ring.put(b"evil", HOSTILE.as_bytes()).unwrap();
    let printed = dht_get_via_cli(&ring.addr().to_string(), "evil", "FAKE");
    assert!(!printed.contains('\u{1b}') && !printed.contains('\u{202e}'));
    assert!(printed.contains(HOSTILE_SHOWN), "{printed:?}");
}

/// Runs `p2plab dht node --join ring` and asks `get key` every 100 ms until a line of
/// its output contains `want` (the ring may still be settling), or 30 s pass. Returns
/// everything it printed.
fn dht_get_via_cli(ring: &str, key: &str, want: &str) -> String {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let mut child = Command::new(env!("CARGO_BIN_EXE_p2plab"))
        .args(["dht", "node", "--join", ring, "--time-scale", "0.05"])
        .env("RUST_LOG", "off")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("p2plab runs");
    let out = BufReader::new(child.stdout.take().unwrap());
    let (tx, lines) = crossbeam_channel::unbounded();
    let reader = std::thread::spawn(move || {
        for line in out.split(b'\n').map_while(Result::ok) {
            let _ = tx.send(String::from_utf8_lossy(&line).into_owned());
        }
    });
    let mut stdin = child.stdin.take().unwrap();
    let (mut all, mut found) = (String::new(), false);
    let end = Instant::now() + Duration::from_secs(30);
    while !found && Instant::now() < end {
        let _ = writeln!(stdin, "get {key}");
        while let Ok(l) = lines.recv_timeout(Duration::from_millis(100)) {
            found |= l.contains(want);
            all += &l;
            all.push('\n');
        }
    }
    let _ = writeln!(stdin, "quit");
    drop(stdin);
    let status = child.wait().unwrap();
    reader.join().unwrap();
    assert!(status.success() && found, "{all}");
    all
}
