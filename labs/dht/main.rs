//! lab-dht: a ring DHT (notes 6.3 DHT, 6.4) run for real on 127.0.0.1. See README.md.
//!
//! `main` parses the options and runs the steps of [`Lab`] in the handout's order:
//! 1 the ring and 2 keys (this file); 3 one lookup hop by hop and 5 mean hops against N
//! (`hops.rs`); 4 a peer leaves and returns and 6 a crash of [`churn::CRASH_PERCENT`] %
//! (`churn.rs`). `--scale` runs only the scale table (`scale.rs`). Options above what
//! the lab was tested with are clamped, with one line saying so (`options.rs`).

mod churn;
mod hops;
mod options;
mod scale;

use p2plab::dht::{Config, DhtError, Id, LocalRing, NodeRef, Rng, Routing};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// How long a ring may take to settle before the lab gives up.
const SETTLE: Duration = Duration::from_secs(120);
/// Ports tried per node of the small ring before the lab gives up (ports in use, ids taken).
const PORT_TRIES: usize = 64;

/// The lab's options (see `--help`).
pub struct Opts {
    pub seed: u64,
    pub nodes: usize,
    pub bits: u32,
    pub max: usize,
    pub lookups: usize,
    pub churn_nodes: usize,
    pub keys: usize,
    /// Run the scale table (`scale.rs`) instead of the steps.
    pub scale: bool,
}

/// What the steps share: the options, the seeded randomness, the small ring of steps
/// 1 to 4 and what was stored on it, and the rows of the final table.
pub struct Lab {
    o: Opts,
    rng: Rng,
    ring: LocalRing,
    /// The last port tried: the small ring's ports follow the seed.
    port: u16,
    /// Every value put in step 2, by key: what the ring must not lose.
    expected: BTreeMap<Vec<u8>, BTreeSet<Vec<u8>>>,
    /// The key followed in steps 2 and 3, and its id.
    key: (String, Id),
    results: Vec<(String, String)>,
}

fn main() {
    // A ring of thousands takes minutes to settle: its progress is logged at info.
    env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or("warn,p2plab::dht::scale=info"),
    )
    .init();
    let o = match options::options() {
        Ok(Some(o)) => o,
        Ok(None) => return,
        Err(e) => {
            eprintln!("lab-dht: {e}");
            std::process::exit(2)
        }
    };
    if let Err(e) = run(o) {
        eprintln!("lab-dht: {e}");
        std::process::exit(1)
    }
}

fn run(o: Opts) -> Result<(), String> {
    if o.scale {
        return scale::run(&o);
    }
    println!("lab-dht: a ring DHT with shortcuts (Chord), every node a UDP socket on 127.0.0.1\n");
    let mut lab = Lab::new(o)?;
    lab.ring_of_nodes()?;
    lab.store_keys()?;
    lab.one_lookup()?;
    lab.leave_and_return()?;
    lab.hops_against_n()?;
    lab.crash()?;
    println!("\n== Measured");
    for (what, v) in &lab.results {
        println!("   {what:<48} {v}");
    }
    Ok(())
}

impl Lab {
    fn new(o: Opts) -> Result<Lab, String> {
        let mut rng = Rng::new(o.seed);
        let cfg = fast(o.bits, Config::r_for(o.nodes));
        let ring = LocalRing::start(0, &cfg).map_err(|e| e.to_string())?;
        Ok(Lab {
            port: 20000 + rng.below(10000) as u16,
            o,
            rng,
            ring,
            expected: BTreeMap::new(),
            key: (String::new(), Id::default()),
            results: Vec::new(),
        })
    }

    fn row(&mut self, what: impl Into<String>, value: impl ToString) {
        self.results.push((what.into(), value.to_string()));
    }

    /// Adds one node to the small ring on the next free port whose id is free.
    fn add_node(&mut self) -> Result<NodeRef, String> {
        for _ in 0..PORT_TRIES {
            self.port = self.port.checked_add(1).ok_or("ran out of ports")?;
            match self.ring.add(&format!("127.0.0.1:{}", self.port)) {
                Ok(n) => return Ok(n.me()),
                Err(e @ DhtError::IdTaken { .. }) => {
                    println!("   refused 127.0.0.1:{}: {e}", self.port)
                }
                Err(_) => {} // port in use: try the next
            }
        }
        Err(format!(
            "no port among the {PORT_TRIES} after {} gave a node a free id",
            self.port - PORT_TRIES as u16
        ))
    }

    /// Waits until every successor, predecessor and finger is right.
    fn settle(&self, what: &str) -> Result<(), String> {
        if self.ring.wait_settled(true, SETTLE) {
            Ok(())
        } else {
            Err(format!(
                "{what}: expected every successor, predecessor and finger of the {} nodes \
                 to be right within {} s, but the ring had not settled",
                self.ring.nodes.len(),
                SETTLE.as_secs()
            ))
        }
    }

    /// 1. A small ring, small ids, ports chosen by the seed so that a rerun prints the
    ///    same ring (a port already in use is skipped).
    fn ring_of_nodes(&mut self) -> Result<(), String> {
        let (n, bits) = (self.o.nodes, self.o.bits);
        println!(
            "== 1. A ring of {n} nodes, m = {bits} (ids 0..{})",
            (1u64 << bits) - 1
        );
        println!(
            "   each id is SHA-1(\"ip:port\") mod 2^{bits}; a node whose id is taken is refused"
        );
        while self.ring.nodes.len() < n {
            self.add_node()?;
        }
        self.settle("step 1, the small ring")?;
        let refused = self.ring.refused.len();
        self.row("ids refused as taken", refused);
        Ok(())
    }

    /// 2. Keys: a file's hash -> the addresses of peers holding the file.
    fn store_keys(&mut self) -> Result<(), String> {
        let files: Vec<String> = (0..self.o.keys).map(song).collect();
        for (i, f) in files.iter().enumerate() {
            let key = sha1_hex(f);
            let holder = format!("10.0.{}.{}:6346", i % 7, i % 5);
            let from = self.rng.below(self.ring.nodes.len());
            self.ring.nodes[from]
                .put(key.as_bytes(), holder.as_bytes())
                .map_err(|e| format!("step 2: put of {f} should succeed, got: {e}"))?;
            let entry = self.expected.entry(key.into_bytes()).or_default();
            entry.insert(holder.into_bytes());
        }
        print_ring(&self.ring);
        let key = sha1_hex(&files[0]);
        let id = Id::hash(key.as_bytes(), self.o.bits);
        let owner = self.ring.owner(&id);
        println!(
            "\n== 2. {} keys stored: a file's hash -> the addresses of peers holding it",
            self.o.keys
        );
        println!("   key {}… (hash of {}) has id {id}", &key[..12], files[0]);
        println!(
            "   its owner is the first node clockwise from {id}: id {} at {}",
            owner.id, owner.addr
        );
        self.key = (key, id);
        Ok(())
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
        let Some(node) = ring.nodes.iter().find(|x| x.me() == *n) else {
            continue;
        };
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
            counts.get(n).copied().unwrap_or(0),
            f.join(" ")
        );
    }
}

/// Keys of the small ring owned by `n`.
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

/// The name of the lab's i-th file.
fn song(i: usize) -> String {
    format!("song-{i:03}.mp3")
}

/// The hex SHA-1 of a name: the lab's stand-in for a file's content hash.
fn sha1_hex(name: &str) -> String {
    p2plab::share::ids::to_hex(&p2plab::share::ids::sha1_bytes(name.as_bytes()))
}
