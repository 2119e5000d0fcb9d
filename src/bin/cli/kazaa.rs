//! `p2plab kazaa leader` and `p2plab kazaa node`: one peer of the hybrid per terminal.
//!
//! Both read commands from a prompt (stdin). Script flags, as `gnutella node` has them,
//! run commands first: `-r CMD` (repeatable) and `--script FILE` (one command a line);
//! `-b`/`--batch` exits after them instead of reading the prompt.

use super::common::{parse, shown, shown_path};
use getopts::{Matches, Options};
use p2plab::kazaa::{Hit, Leader, LeaderConfig, Node, NodeConfig, DEFAULT_TTL};
use p2plab::net::parse_addr;
use p2plab::share::ids;
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;

fn script_opts(opts: &mut Options) {
    opts.optmulti(
        "r",
        "run",
        "run a prompt command at start (repeatable)",
        "CMD",
    );
    opts.optopt("", "script", "run the commands in FILE first", "FILE");
    opts.optflag("b", "batch", "exit after the script instead of prompting");
}

/// Runs the script commands, then the prompt (unless --batch). `handle` returns false
/// to stop.
fn drive(m: &Matches, mut handle: impl FnMut(&str) -> bool) -> Result<(), String> {
    let mut script: Vec<String> = m.opt_strs("run");
    if let Some(f) = m.opt_str("script") {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("cannot read {f}: {e}"))?;
        script.extend(text.lines().map(str::to_string));
    }
    for line in script {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        println!("> {line}");
        if !handle(line) {
            return Ok(());
        }
    }
    if m.opt_present("batch") {
        return Ok(());
    }
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let line = line.trim();
        if !line.is_empty() && !handle(line) {
            break;
        }
    }
    Ok(())
}

fn addrs(m: &Matches, name: &str) -> Result<Vec<SocketAddr>, String> {
    m.opt_strs(name)
        .iter()
        .map(|a| parse_addr(a).map_err(|e| format!("--{name} {a}: {e}")))
        .collect()
}

fn number<T: std::str::FromStr>(m: &Matches, name: &str, default: T) -> Result<T, String> {
    match m.opt_str(name) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| format!("--{name}: '{v}' is not a number")),
    }
}

const LEADER_HELP: &str = "commands: stats | link ADDR | quit (leave with Bye) | help";

pub fn kazaa_leader(args: &[String]) -> Result<(), String> {
    let mut opts = Options::new();
    opts.optopt(
        "l",
        "listen",
        "address to listen on (default 127.0.0.1:1214, FastTrack's port)",
        "ADDR",
    );
    opts.optmulti("", "link", "another leader to link to (repeatable)", "ADDR");
    opts.optopt(
        "",
        "max-children",
        "promote a child above this many (default 16, 0 never)",
        "N",
    );
    opts.optopt(
        "",
        "index-limit",
        "files the index holds at most (default 0: no limit)",
        "N",
    );
    opts.optflag(
        "",
        "no-dedup",
        "forward queries already seen (the instructive mistake)",
    );
    opts.optopt(
        "",
        "mode",
        "reach other leaders' children by forwarding queries, copying indexes, or both (default forward)",
        "forward|copy|both",
    );
    script_opts(&mut opts);
    let brief = "Usage: p2plab kazaa leader [--listen ADDR] [--link ADDR]... [options]";
    let Some(m) = parse(&mut opts, args, brief)? else {
        return Ok(());
    };
    let mut cfg = LeaderConfig::new(&m.opt_str("listen").unwrap_or("127.0.0.1:1214".into()));
    cfg.links = addrs(&m, "link")?;
    cfg.max_children = number(&m, "max-children", cfg.max_children)?;
    cfg.index_limit = number(&m, "index-limit", 0)?;
    cfg.dedup = !m.opt_present("no-dedup");
    if let Some(mode) = m.opt_str("mode") {
        cfg.mode = mode.parse()?;
    }
    let mut leader = Leader::start(cfg.clone()).map_err(|e| format!("cannot start: {e}"))?;
    println!("group leader on {} ({LEADER_HELP})", leader.local_addr());
    drive(&m, |line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[..] {
            ["stats"] => println!("{:#?}", leader.stats()),
            ["link", a] => match parse_addr(a).and_then(|a| leader.link(a)) {
                Ok(()) => println!("linked to {a}"),
                Err(e) => println!("cannot link to {a}: {e}"),
            },
            ["quit"] | ["leave"] => return false,
            _ => println!("{LEADER_HELP}"),
        }
        true
    })?;
    leader.stop();
    Ok(())
}

const NODE_HELP: &str =
    "commands: query WORDS | ttl N | get N | leader | files | quit (leave with Bye) | help";

pub fn kazaa_node(args: &[String]) -> Result<(), String> {
    let mut opts = Options::new();
    opts.optmulti(
        "",
        "leader",
        "a group leader to attach to (repeatable; at least one)",
        "ADDR",
    );
    opts.optopt("s", "share", "folder to share (default .)", "DIR");
    opts.optopt("o", "downloads", "folder for downloads (default .)", "DIR");
    opts.optopt(
        "l",
        "listen",
        "HTTP address for our files (default 127.0.0.1:0)",
        "ADDR",
    );
    opts.optopt(
        "",
        "capacity",
        "upload rate in KiB/s, announced and enforced (default 1024)",
        "KIB",
    );
    opts.optopt(
        "",
        "id",
        "this node's number (spreads orphans; default: the process id)",
        "N",
    );
    opts.optopt(
        "",
        "ttl",
        "leader-to-leader hops for queries (default 2)",
        "N",
    );
    opts.optopt(
        "",
        "lead-on",
        "address to lead on if promoted (default 127.0.0.1:0)",
        "ADDR",
    );
    script_opts(&mut opts);
    let brief = "Usage: p2plab kazaa node --leader ADDR [--share DIR] [--downloads DIR] [options]";
    let Some(m) = parse(&mut opts, args, brief)? else {
        return Ok(());
    };
    let leaders = addrs(&m, "leader")?;
    if leaders.is_empty() {
        return Err(format!(
            "give at least one --leader\n\n{}",
            opts.usage(brief)
        ));
    }
    let share = PathBuf::from(m.opt_str("share").unwrap_or(".".into()));
    let out = PathBuf::from(m.opt_str("downloads").unwrap_or(".".into()));
    let mut cfg = NodeConfig::new(
        leaders,
        &share,
        number(&m, "id", std::process::id() as u64)?,
    );
    cfg.share_listen = m.opt_str("listen").unwrap_or(cfg.share_listen);
    cfg.capacity = number(&m, "capacity", cfg.capacity)?;
    cfg.as_leader.listen = m.opt_str("lead-on").unwrap_or(cfg.as_leader.listen);
    let mut ttl: u8 = number(&m, "ttl", DEFAULT_TTL)?;
    let mut node = Node::start(cfg).map_err(|e| format!("cannot start: {e}"))?;
    println!(
        "node sharing {} files on http://{}, child of {} ({NODE_HELP})",
        node.files(),
        node.share_addr(),
        node.leader().map_or("nobody".into(), |a| a.to_string())
    );
    let mut results: Vec<Hit> = Vec::new();
    drive(&m, |line| {
        let (cmd, rest) = line.split_once(' ').unwrap_or((line, ""));
        match (cmd, rest.trim()) {
            ("query", words) if !words.is_empty() => match node.query(words, ttl) {
                Ok(a) => {
                    println!("{} hits from {} leaders", a.hits.len(), a.leaders);
                    for (i, h) in a.hits.iter().enumerate() {
                        println!(
                            "  [{i}] {}  {} bytes  sha1 {}  at {}",
                            shown(&h.name),
                            h.size,
                            ids::to_base32(&h.sha1),
                            h.holder
                        );
                    }
                    results = a.hits;
                }
                Err(e) => println!("query failed: {}", shown(&e.to_string())),
            },
            ("ttl", n) => match n.parse() {
                Ok(n) => ttl = n,
                Err(_) => println!("ttl N, with N from 0 to 7"),
            },
            ("get", n) => match n.parse::<usize>().ok().and_then(|i| results.get(i)) {
                Some(h) => match node.download(h, &out) {
                    Ok(p) => println!("saved {} (SHA-1 checked)", shown_path(&p)),
                    Err(e) => println!("download failed: {}", shown(&e.to_string())),
                },
                None => println!("get N: N is a result number from the last query"),
            },
            ("leader", _) => println!(
                "child of {}{}",
                node.leader().map_or("nobody".into(), |a| a.to_string()),
                node.led()
                    .map_or(String::new(), |a| format!("; promoted, leading at {a}"))
            ),
            ("files", _) => println!("{} files shared", node.files()),
            ("quit", _) | ("leave", _) => return false,
            _ => println!("{NODE_HELP}"),
        }
        true
    })?;
    node.stop();
    Ok(())
}
