//! lab-dht: a ring DHT (notes 6.3 DHT, 6.4) run for real on 127.0.0.1. See README.md.

mod churn;

use churn::{churn, lost_check};
use getopts::Options;
use p2plab::dht::{Config, Id, LocalRing, NodeRef, Rng, Routing};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const SETTLE: Duration = Duration::from_secs(120);

/// The lab's options (see `--help`).
pub struct Opts {
    pub seed: u64,
    pub nodes: usize,
    pub bits: u32,
    pub max: usize,
    pub lookups: usize,
    pub churn_nodes: usize,
    pub keys: usize,
}

fn main() {
    let Some(o) = options() else { return };
    let mut rng = Rng::new(o.seed);
    let mut results: Vec<(String, String)> = Vec::new();
    println!("lab-dht: a ring DHT with shortcuts (Chord), every node a TCP server on 127.0.0.1\n");

    // 1. A small ring, small ids, ports chosen by the seed so that a rerun prints the
    //    same ring (a port already in use is skipped).
    let mut cfg = fast(o.bits, Config::r_for(o.nodes));
    cfg.pool = 8;
    println!(
        "== 1. A ring of {} nodes, m = {} (ids 0..{})",
        o.nodes,
        o.bits,
        (1u64 << o.bits) - 1
    );
    println!(
        "   each id is SHA-1(\"ip:port\") mod 2^{}; a node whose id is taken is refused",
        o.bits
    );
    let mut ring = LocalRing::start(0, &cfg).expect("empty ring");
    let mut port = 20000 + rng.below(10000) as u16;
    while ring.nodes.len() < o.nodes {
        port += 1;
        if let Err(e) = ring.add(&format!("127.0.0.1:{port}")) {
            if matches!(e, p2plab::dht::DhtError::IdTaken { .. }) {
                println!("   refused 127.0.0.1:{port}: {e}");
            }
        }
    }
    assert!(ring.wait_settled(true, SETTLE), "small ring settles");
    results.push((
        "ids refused as taken".into(),
        ring.refused.len().to_string(),
    ));

    // 2. Keys: file hash -> addresses of peers holding the file.
    let files: Vec<String> = (0..o.keys).map(|i| format!("song-{i:03}.mp3")).collect();
    let mut expected: BTreeMap<Vec<u8>, BTreeSet<Vec<u8>>> = BTreeMap::new();
    for (i, f) in files.iter().enumerate() {
        let key = sha1_hex(f);
        let holder = format!("10.0.{}.{}:6346", i % 7, i % 5);
        ring.nodes[rng.below(ring.nodes.len())]
            .put(key.as_bytes(), holder.as_bytes())
            .expect("put");
        expected
            .entry(key.into_bytes())
            .or_default()
            .insert(holder.into_bytes());
    }
    print_ring(&ring);
    let key = sha1_hex(&files[0]);
    let id = Id::hash(key.as_bytes(), o.bits);
    let owner = ring.owner(&id);
    println!(
        "\n== 2. {} keys stored: a file's hash -> the addresses of peers holding it",
        o.keys
    );
    println!("   key {}… (hash of {}) has id {id}", &key[..12], files[0]);
    println!(
        "   its owner is the first node clockwise from {id}: id {} at {}",
        owner.id, owner.addr
    );

    // 3. One lookup, hop by hop, with and without shortcuts.
    let asker = &ring.nodes
        [ring.at_position((ring.sorted().iter().position(|n| *n == owner).unwrap() + 1) % o.nodes)];
    println!(
        "\n== 3. Node {} looks the key up (iterative: it asks each hop itself)",
        asker.id()
    );
    for routing in [Routing::Fingers, Routing::SuccessorOnly] {
        let l = asker.lookup_with(&id, routing).expect("lookup");
        let path: Vec<String> = l.path.iter().map(|n| n.id.to_string()).collect();
        println!(
            "   {:<15} {} -> owner {}   {} hops",
            label(routing),
            path.join(" -> "),
            l.owner.id,
            l.hops()
        );
        results.push((
            format!("hops of that lookup, {}", label(routing)),
            l.hops().to_string(),
        ));
    }

    // 4. A peer leaves and comes back on another port: another id, and its keys move.
    println!("\n== 4. A peer leaves gracefully and returns with another port (notes 6.1: its IP may change)");
    let idx = rng.below(ring.nodes.len());
    let (old, owned_before) = (ring.nodes[idx].me(), owned_by(&ring, &ring.nodes[idx].me()));
    let heir = ring.nodes[idx].snapshot().succs[0];
    println!(
        "   node {} at {} owns {} keys; it leaves, handing them to id {}",
        old.id, old.addr, owned_before, heir.id
    );
    ring.nodes.remove(idx).leave();
    assert!(ring.wait_settled(true, SETTLE));
    println!("   id {} now owns {} keys", heir.id, owned_by(&ring, &heir));
    let back = loop {
        port += 1;
        if let Ok(n) = ring.add(&format!("127.0.0.1:{port}")) {
            break n.me();
        }
    };
    assert!(ring.wait_settled(true, SETTLE));
    let moved = ring
        .all_values()
        .keys()
        .filter(|k| ring.owner(&Id::hash(k, o.bits)) == back)
        .count();
    let holds = ring
        .nodes
        .iter()
        .find(|n| n.me() == back)
        .map(|n| n.keys().len())
        .unwrap_or(0);
    println!("   it comes back at {} with id {} (was {}): it now owns {moved} keys, holds {holds} with replicas", back.addr, back.id, old.id);
    results.push(("keys moved to the returning peer".into(), moved.to_string()));
    lost_check(&ring, &expected, &mut results, "after leave and return");
    ring.stop();

    // 5. Mean hops against N.
    println!(
        "\n== 5. Mean hops of {} random lookups, m = 160 (½·log2 N is Chord's figure)",
        o.lookups
    );
    println!(
        "   {:>5} {:>12} {:>9} {:>15} {:>6}",
        "N", "with fingers", "½·log2 N", "successor only", "N/2"
    );
    let mut n = 8;
    while n <= o.max {
        let mut cfg = fast(160, Config::r_for(n));
        cfg.time_scale = if n > 64 { 0.1 } else { 0.05 };
        let ring = LocalRing::start(n, &cfg).expect("ring");
        assert!(ring.wait_settled(true, SETTLE), "ring of {n} settles");
        let with = ring
            .mean_hops(o.lookups, Routing::Fingers, &mut rng)
            .expect("lookups");
        let without = ring
            .mean_hops(o.lookups.min(200), Routing::SuccessorOnly, &mut rng)
            .expect("lookups");
        println!(
            "   {n:>5} {with:>12.2} {:>9.2} {without:>15.2} {:>6}",
            (n as f64).log2() / 2.0,
            n / 2
        );
        results.push((
            format!("mean hops N={n} (fingers / successor only)"),
            format!("{with:.2} / {without:.2}"),
        ));
        n *= 2;
    }

    // 6. Churn: a quarter of the ring crashes at once.
    churn(&o, &mut rng, &mut results);

    println!("\n== Measured");
    for (what, v) in &results {
        println!("   {what:<48} {v}");
    }
}

fn print_ring(ring: &LocalRing) {
    let mut counts: BTreeMap<NodeRef, usize> = ring.nodes.iter().map(|n| (n.me(), 0)).collect();
    for k in ring.all_values().keys() {
        *counts
            .entry(ring.owner(&Id::hash(k, ring.cfg.bits)))
            .or_default() += 1;
    }
    println!("   the ring, clockwise (keys = keys owned; notes: keys per node are uneven)");
    for (i, n) in ring.sorted().iter().enumerate() {
        let node = ring.nodes.iter().find(|x| x.me() == *n).unwrap();
        // Distinct fingers in table order: the successor first, the farthest last.
        let mut f: Vec<String> = Vec::new();
        for x in node.snapshot().fingers.iter().flatten() {
            if f.last() != Some(&x.id.to_string()) {
                f.push(x.id.to_string());
            }
        }
        println!(
            "   {i:>3}  id {:>5}  {}  keys {:>3}  fingers {}",
            n.id.to_string(),
            n.addr,
            counts[n],
            f.join(" ")
        );
    }
}

fn owned_by(ring: &LocalRing, n: &NodeRef) -> usize {
    ring.all_values()
        .keys()
        .filter(|k| ring.owner(&Id::hash(k, ring.cfg.bits)) == *n)
        .count()
}

fn label(r: Routing) -> &'static str {
    match r {
        Routing::Fingers => "with fingers",
        Routing::SuccessorOnly => "successor only",
    }
}

/// A config whose maintenance runs 20 times faster than real time.
fn fast(bits: u32, r: usize) -> Config {
    let mut c = Config::new(bits);
    c.r = r;
    c.time_scale = 0.05;
    c
}

/// The hex SHA-1 of a name: the lab's stand-in for a file's content hash.
fn sha1_hex(name: &str) -> String {
    p2plab::share::ids::to_hex(&p2plab::share::ids::sha1_bytes(name.as_bytes()))
}

fn options() -> Option<Opts> {
    let mut opts = Options::new();
    opts.optopt(
        "",
        "seed",
        "random seed: ports, keys, victims (default 7)",
        "N",
    );
    opts.optopt("", "nodes", "nodes of the small ring (default 32)", "N");
    opts.optopt("", "bits", "m of the small ring, 6..=32 (default 8)", "m");
    opts.optopt(
        "",
        "max",
        "largest ring of the hops table (default 256)",
        "N",
    );
    opts.optopt(
        "",
        "lookups",
        "lookups per ring in the hops table (default 500)",
        "N",
    );
    opts.optopt(
        "",
        "churn-nodes",
        "nodes of the churn ring (default 64)",
        "N",
    );
    opts.optopt("", "keys", "keys stored (default 200)", "N");
    let usage = "Usage: lab-dht [options]   (make lab-dht ARGS='--seed 3')";
    let parsed = p2plab::opts::parse(&mut opts, std::env::args().skip(1), usage).and_then(|m| {
        let Some(m) = m else { return Ok(None) };
        let num = |k: &str, d: usize| p2plab::opts::value(&m, k, d);
        Ok(Some(Opts {
            seed: num("seed", 7)? as u64,
            nodes: num("nodes", 32)?.max(2),
            bits: (num("bits", 8)? as u32).clamp(6, 32),
            max: num("max", 256)?,
            lookups: num("lookups", 500)?.max(1),
            churn_nodes: num("churn-nodes", 64)?.max(8),
            keys: num("keys", 200)?.max(1),
        }))
    });
    parsed.unwrap_or_else(|e| {
        eprintln!("lab-dht: {e}");
        std::process::exit(2)
    })
}
