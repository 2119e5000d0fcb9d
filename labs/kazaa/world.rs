//! The lab's network: leaders in a full mesh, nodes sharing songs, and a workload
//! measured from the leaders' counters. Shared by `lab-kazaa` and `bench-kazaa`.
// Shared by lab-kazaa and bench-kazaa; each uses a part.
#![allow(dead_code)]

use super::catalog::{self, Rng, Song};
use p2plab::kazaa::{Leader, LeaderConfig, LeaderStats, Mode, Node, NodeConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub struct Setup {
    pub leaders: usize,
    pub nodes: usize,
    pub files: usize,
    pub max_children: usize,
    pub index_limit: usize,
    pub dedup: bool,
    /// Forward queries, copy indexes, or both (notes 6.4).
    pub mode: Mode,
}

pub struct World {
    pub leaders: Vec<Leader>,
    pub nodes: Vec<Node>,
    pub dir: PathBuf,
}

impl World {
    /// Starts the leaders (each linked to those before it: a full mesh), then the
    /// nodes, node i under leader i mod n. The Welcome tells each about the others.
    pub fn build(s: &Setup, songs: &[Song], rng: &mut Rng, tag: &str) -> Result<World, String> {
        let dir = std::env::temp_dir().join(format!("p2plab-{tag}-{}", std::process::id()));
        let mut w = World {
            leaders: Vec::new(),
            nodes: Vec::new(),
            dir,
        };
        for _ in 0..s.leaders {
            let mut cfg = LeaderConfig::new("127.0.0.1:0");
            cfg.links = w.leaders.iter().map(Leader::local_addr).collect();
            cfg.max_children = s.max_children;
            cfg.index_limit = s.index_limit;
            cfg.dedup = s.dedup;
            cfg.mode = s.mode;
            w.leaders
                .push(Leader::start(cfg).map_err(|e| e.to_string())?);
        }
        let all: Vec<SocketAddr> = w.leaders.iter().map(Leader::local_addr).collect();
        for i in 0..s.nodes {
            let share = w.dir.join(format!("node{i}"));
            catalog::fill(&share, songs, s.files, rng).map_err(|e| e.to_string())?;
            let mut cfg = NodeConfig::new(vec![all[i % all.len()]], &share, i as u64);
            cfg.capacity = catalog::capacity(rng);
            cfg.as_leader.max_children = s.max_children;
            cfg.as_leader.index_limit = s.index_limit;
            cfg.as_leader.dedup = s.dedup;
            cfg.as_leader.mode = s.mode;
            w.nodes.push(Node::start(cfg).map_err(|e| e.to_string())?);
        }
        Ok(w)
    }

    /// Every leader's counters, promoted nodes' leaders included.
    pub fn stats(&self) -> LeaderStats {
        let mut all: Vec<LeaderStats> = self.leaders.iter().map(Leader::stats).collect();
        all.extend(self.nodes.iter().filter_map(Node::led_stats));
        LeaderStats::sum(&all)
    }

    /// `L3` for started leader 3, `P12` for node 12 once promoted.
    pub fn name(&self, addr: SocketAddr) -> String {
        if let Some(i) = self.leaders.iter().position(|l| l.local_addr() == addr) {
            return format!("L{i}");
        }
        match self.nodes.iter().position(|n| n.led() == Some(addr)) {
            Some(i) => format!("P{i}"),
            None => addr.to_string(),
        }
    }

    /// Leaders serving now (killed ones have neither links nor children).
    pub fn live_leaders(&self) -> usize {
        let live = |s: LeaderStats| s.links > 0 || s.children > 0;
        self.leaders.iter().filter(|l| live(l.stats())).count()
            + self.nodes.iter().filter(|n| n.led().is_some()).count()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        Node::stop_all(&mut self.nodes);
        for l in &mut self.leaders {
            l.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Waits (up to 30 s) for something the network does on its own (reattaching, promotion).
pub fn wait_until(what: &str, cond: impl FnMut() -> bool) -> Result<(), String> {
    if p2plab::wait::until(Duration::from_secs(30), cond) {
        Ok(())
    } else {
        Err(format!("gave up after 30 s waiting for {what}"))
    }
}

/// What one run of a workload measured, per query.
#[derive(Debug, Clone, Default)]
pub struct Measure {
    pub messages: f64,
    pub touched: f64,
    pub duplicates: f64,
    pub hits: f64,
    pub found: f64,
    pub per_second: f64,
}

/// A workload: (asking node, query text) pairs, the same for every architecture.
pub fn queries(n: usize, nodes: usize, songs: &[Song], rng: &mut Rng) -> Vec<(usize, String)> {
    (0..n)
        .map(|_| (rng.below(nodes), catalog::query(songs, rng)))
        .collect()
}

/// Runs the queries one after the other and reads the leaders' counters around them.
pub fn workload(w: &World, work: &[(usize, String)], ttl: u8) -> Result<Measure, String> {
    let before = w.stats();
    let (mut hits, mut touched, mut found) = (0usize, 0usize, 0usize);
    let t = Instant::now();
    for (n, text) in work {
        let a = w.nodes[*n].query(text, ttl).map_err(|e| e.to_string())?;
        hits += a.hits.len();
        touched += a.leaders as usize;
        found += usize::from(!a.hits.is_empty());
    }
    let secs = t.elapsed().as_secs_f64();
    let after = w.stats();
    let q = work.len().max(1) as f64;
    Ok(Measure {
        messages: (after.query_messages() - before.query_messages()) as f64 / q,
        touched: touched as f64 / q,
        duplicates: (after.duplicates - before.duplicates) as f64 / q,
        hits: hits as f64 / q,
        found: found as f64 * 100.0 / q,
        per_second: q / secs,
    })
}
