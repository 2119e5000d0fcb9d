//! `p2plab dht node`: one ring node per terminal, with a prompt to put, get and look up.

use super::common::{parse, shown, shown_bytes};
use getopts::Options;
use p2plab::dht::{Config, Node, Routing};
use std::io::{BufRead, Write};

const BRIEF: &str = "Usage: p2plab dht node --listen ADDR [--join ADDR] [--bits m]";

const COMMANDS: &str = "\
commands:
  put K V     add value V to the set stored under key K
  get K       the values stored under K
  lookup K    who owns K, and the path the lookup took, hop by hop
  ring        walk the ring from here, successor by successor
  fingers     this node's finger table, predecessor and successor list
  leave       hand every key to the successor, tell the neighbours, exit
  quit        exit without a word (a crash, as the ring sees it)";

pub fn dht_node(args: &[String]) -> Result<(), String> {
    let mut opts = Options::new();
    opts.optopt(
        "l",
        "listen",
        "address to listen on; the id is the hash of it (default 127.0.0.1:0)",
        "ADDR",
    );
    opts.optopt("j", "join", "join the ring through this node", "ADDR");
    opts.optopt(
        "b",
        "bits",
        "ring size m: ids are 0..2^m (default 160)",
        "m",
    );
    opts.optopt(
        "r",
        "succs",
        "successor list length = replicas (default 3)",
        "R",
    );
    opts.optflag(
        "",
        "no-fingers",
        "route by successor only (the ring without shortcuts)",
    );
    opts.optopt(
        "",
        "time-scale",
        "multiply stabilize periods (default 1)",
        "X",
    );
    let Some(m) = parse(&mut opts, args, BRIEF)? else {
        return Ok(());
    };
    let listen = m.opt_str("listen").unwrap_or_else(|| "127.0.0.1:0".into());
    let mut cfg = Config::new(160);
    if let Some(b) = m.opt_str("bits") {
        cfg.bits = b
            .parse()
            .ok()
            .filter(|b| (1..=160).contains(b))
            .ok_or(format!("--bits must be 1..=160, got '{b}'"))?;
    }
    if let Some(r) = m.opt_str("succs") {
        cfg.r = r
            .parse()
            .ok()
            .filter(|r| (1..=16).contains(r))
            .ok_or(format!("--succs must be 1..=16, got '{r}'"))?;
    }
    if let Some(t) = m.opt_str("time-scale") {
        cfg.time_scale = t
            .parse()
            .ok()
            .filter(|t: &f64| *t > 0.0)
            .ok_or(format!("--time-scale must be > 0, got '{t}'"))?;
    }
    if m.opt_present("no-fingers") {
        cfg.routing = Routing::SuccessorOnly;
    }
    let join = match m.opt_str("join") {
        Some(j) => Some(p2plab::net::parse_addr(&j).map_err(|e| format!("--join: {e}"))?),
        None => None,
    };
    let node = Node::start_joining(&listen, cfg.clone(), join).map_err(|e| e.to_string())?;
    println!(
        "node {} id {} on a {}-bit ring ({})",
        node.addr(),
        node.id(),
        cfg.bits,
        match join {
            Some(j) => format!("joined through {j}"),
            None => "a new ring: others join with --join ".to_string() + &node.addr().to_string(),
        }
    );
    println!("{COMMANDS}");
    prompt(node)
}

fn prompt(node: Node) -> Result<(), String> {
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        print!("dht> ");
        let _ = std::io::stdout().flush();
        let Some(Ok(line)) = lines.next() else {
            return Ok(());
        };
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[..] {
            [] => {}
            ["put", k, v] => match node.put(k.as_bytes(), v.as_bytes()) {
                Ok(owner) => println!("stored on {} (id {})", owner.addr, owner.id),
                Err(e) => println!("put failed: {}", shown(&e.to_string())),
            },
            ["get", k] => match node.get(k.as_bytes()) {
                Ok(vals) if vals.is_empty() => println!("(no values)"),
                Ok(vals) => vals.iter().for_each(|v| println!("{}", shown_bytes(v))),
                Err(e) => println!("get failed: {}", shown(&e.to_string())),
            },
            ["lookup", k] => lookup(&node, k),
            ["ring"] => match node.walk_ring(4096) {
                Ok(ring) => {
                    for (i, n) in ring.iter().enumerate() {
                        println!("{i:>4}  id {:<14} {}", n.id.to_string(), n.addr);
                    }
                }
                Err(e) => println!("ring walk failed: {e}"),
            },
            ["fingers"] => fingers(&node),
            ["leave"] => {
                node.leave();
                println!("left the ring");
                return Ok(());
            }
            ["quit"] | ["exit"] => return Ok(()),
            _ => println!("{COMMANDS}"),
        }
    }
}

fn lookup(node: &Node, key: &str) {
    let id = node.key_id(key.as_bytes());
    match node.lookup(&id) {
        Ok(l) => {
            println!("key '{key}' has id {id}");
            for (i, hop) in l.path.iter().enumerate() {
                let verb = if i == 0 { "start at" } else { "ask" };
                println!("  hop {i}: {verb} {} (id {})", hop.addr, hop.id);
            }
            println!(
                "  owner: {} (id {}), {} hops",
                l.owner.addr,
                l.owner.id,
                l.hops()
            );
        }
        Err(e) => println!("lookup failed: {e}"),
    }
}

fn fingers(node: &Node) {
    let s = node.snapshot();
    let bits = node.config().bits;
    println!("me    id {} {}", s.me.id, s.me.addr);
    match s.pred {
        Some(p) => println!("pred  id {} {}", p.id, p.addr),
        None => println!("pred  (none)"),
    }
    for (i, n) in s.succs.iter().enumerate() {
        println!("succ{} id {} {}", i + 1, n.id, n.addr);
    }
    // Consecutive fingers usually point at the same node: print each run once.
    let mut i = 0;
    while i < s.fingers.len() {
        let f = s.fingers[i];
        let mut j = i;
        while j + 1 < s.fingers.len() && s.fingers[j + 1] == f {
            j += 1;
        }
        let start = p2plab::dht::policy::finger_start(&s.me.id, i as u32, bits);
        let target = f.map_or("(self)".to_string(), |n| format!("id {} {}", n.id, n.addr));
        let range = if i == j {
            format!("finger[{}]", i + 1)
        } else {
            format!("finger[{}..{}]", i + 1, j + 1)
        };
        println!("{range:<16} start {:<14} -> {target}", start.to_string());
        i = j + 1;
    }
    println!("{} keys held here (owned or replicated)", s.keys);
}
