//! One design, one workload, the numbers of notes 6.4: what searching costs, who carries
//! it, what joining and leaving cost, and what losing the special node does.
//!
//! [`run`] plays a [`Workload`] on a [`Design`]: the initial peers join, then every step
//! in order (searches, joins, polite leaves, crashes), then the special node is killed.
//! Each operation is measured from the outside, as a student with a stopwatch and a
//! packet counter would: the traffic of every node before and after, the time it took,
//! and its answer held against the truth the workload knows.
//!
//! What a design sends on its own meanwhile, its **upkeep** (a ring's stabilization,
//! KaZaA's and Gnutella's keep-alives), is counted apart where it crosses each node's
//! socket (`traffic.rs`), and taken off: a search, a join or a leave costs every
//! message the network sent while it ran, minus the upkeep messages. Upkeep has its own
//! figure, measured while the network is idle: the cost of keeping the structure.
//!
//! Where to look first: [`run`], then [`Column`] (one column of the lab's table).

mod churn;
mod kill;
mod load;

pub use kill::KillResult;
pub use load::{directory_load, threads_cpu, LoadPoint};

use super::workload::{Step, Workload};
use super::{
    busiest, delta, total_bytes, total_msgs, total_upkeep_msgs, Design, LocateError, NodeTraffic,
    PeerId,
};
use crate::report::quantile;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// How long the measurements wait, and how much they try after the special node dies.
#[derive(Debug, Clone)]
pub struct MeasureConfig {
    /// Whether the run ends by killing the special node (a scaling run needs not).
    pub kill: bool,
    /// After the first peers have joined, the network is left alone this long and its
    /// upkeep measured ([`Column::upkeep_per_node`]); zero skips it.
    pub idle: Duration,
    /// Longest wait for a newcomer's files to become findable, or a leaver's to go.
    pub settle_limit: Duration,
    /// Searches run at once after the special node is killed.
    pub kill_searches: usize,
    /// Longest wait for the first successful search after the kill.
    pub recover_limit: Duration,
    /// Songs held by one live peer that are checked for loss after the kill.
    pub loss_checks: usize,
}

impl Default for MeasureConfig {
    fn default() -> MeasureConfig {
        MeasureConfig {
            kill: true,
            idle: Duration::from_secs(1),
            settle_limit: Duration::from_secs(10),
            kill_searches: 20,
            recover_limit: Duration::from_secs(10),
            loss_checks: 16,
        }
    }
}

/// The mean of some measurements, and how many there were.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Mean {
    pub sum: f64,
    pub count: usize,
}

impl Mean {
    pub fn add(&mut self, x: f64) {
        self.sum += x;
        self.count += 1;
    }

    /// The mean, or NaN when nothing was measured (printed as "-").
    pub fn get(&self) -> f64 {
        if self.count == 0 {
            f64::NAN
        } else {
            self.sum / self.count as f64
        }
    }
}

/// One design's column of the lab's table.
#[derive(Debug, Clone, Default)]
pub struct Column {
    pub design: String,
    /// Searches whose song some live peer other than the searcher held: only these can
    /// succeed.
    pub answerable: usize,
    /// Of those, searches that named at least one live holder other than the searcher.
    pub found: usize,
    /// Providers named that do not hold the file (must stay 0).
    pub wrong: usize,
    /// Providers named that had left or crashed (allowed within the crash timeout).
    pub stale: usize,
    /// Search operations that returned an error.
    pub errors: usize,
    pub msgs_per_search: Mean,
    pub bytes_per_search: Mean,
    /// Search round trips, sorted.
    pub latencies: Vec<Duration>,
    /// The node that handled the most search messages (upkeep not included), and its
    /// share of all of them.
    pub busiest: Option<(String, f64)>,
    /// Messages of one join (publishing included), and seconds until findable.
    pub join_msgs: Mean,
    pub join_secs: Mean,
    /// Messages of one polite leave, and seconds until its files are gone.
    pub leave_msgs: Mean,
    pub leave_secs: Mean,
    /// Seconds from a crash until the crashed peer's files are gone.
    pub crash_secs: Mean,
    /// What killing the special node did; `None` when the design has none.
    pub kill: Option<KillResult>,
    /// Upkeep messages per second per live node while nobody searched, joined or left
    /// (each message counted once, at its sender): the cost of keeping the structure.
    /// NaN when not measured.
    pub upkeep_per_node: f64,
    /// Things that went wrong, in words, for the lab's story.
    pub notes: Vec<String>,
}

impl Column {
    /// Searches that found a live holder, among those that could.
    pub fn success_rate(&self) -> f64 {
        if self.answerable == 0 {
            f64::NAN
        } else {
            self.found as f64 / self.answerable as f64
        }
    }

    pub fn p50(&self) -> Duration {
        quantile(&self.latencies, 0.5)
    }

    pub fn p99(&self) -> Duration {
        quantile(&self.latencies, 0.99)
    }
}

/// Who is in the network, and what the workload knows about them.
pub(crate) struct World<'a> {
    pub w: &'a Workload,
    pub live: BTreeSet<PeerId>,
    pub gone: BTreeSet<PeerId>,
}

impl World<'_> {
    /// Whether some live peer other than the searcher holds the song titled `keyword`
    /// (a design may leave the asker's own files out, as Napster's directory does).
    pub fn answerable(&self, keyword: &str, from: PeerId) -> bool {
        self.song(keyword).is_some_and(|j| {
            self.live
                .iter()
                .any(|p| *p != from && self.w.holds[*p].contains(&j))
        })
    }

    /// The song whose one-word title is `keyword`.
    pub fn song(&self, keyword: &str) -> Option<usize> {
        self.w
            .songs
            .iter()
            .position(|s| super::keywords(&s.name).first().map(String::as_str) == Some(keyword))
    }

    /// A live peer other than `not`, to search from.
    pub fn searcher(&self, not: PeerId) -> Option<PeerId> {
        self.live.iter().copied().find(|p| *p != not)
    }
}

/// One search, measured and judged: whether it found a live holder.
pub(crate) fn judged_search(
    d: &mut dyn Design,
    world: &World,
    col: &mut Column,
    from: PeerId,
    keyword: &str,
) -> Result<bool, LocateError> {
    let song = world.song(keyword);
    let providers = d.search(from, keyword)?;
    let mut found = false;
    for p in &providers {
        let holds =
            song.is_some_and(|j| world.w.songs[j].sha1 == p.sha1) && world.w.holds(p.peer, &p.sha1);
        if !holds {
            col.wrong += 1;
        } else if world.live.contains(&p.peer) {
            found |= p.peer != from;
        } else {
            col.stale += 1;
        }
    }
    Ok(found)
}

/// Plays `w` on `d` and measures it. `d` is left running: the caller stops it.
pub fn run(d: &mut dyn Design, w: &Workload, cfg: &MeasureConfig) -> Result<Column, String> {
    let mut col = Column {
        design: d.name(),
        upkeep_per_node: f64::NAN,
        ..Column::default()
    };
    let mut world = World {
        w,
        live: BTreeSet::new(),
        gone: BTreeSet::new(),
    };
    for &p in &w.initial {
        d.join(p, &w.files_of(p))
            .map_err(|e| format!("{}: peer {p} could not join: {e}", col.design))?;
        world.live.insert(p);
    }
    if !cfg.idle.is_zero() && !world.live.is_empty() {
        let before = d.traffic();
        let t = Instant::now();
        std::thread::sleep(cfg.idle); // the network alone: only upkeep, by definition
        let upkeep = total_upkeep_msgs(&delta(&d.traffic(), &before)) as f64;
        col.upkeep_per_node = upkeep / t.elapsed().as_secs_f64() / world.live.len() as f64;
    }
    let mut search_traffic: Vec<NodeTraffic> = Vec::new();
    for step in &w.steps {
        match step {
            Step::Search { from, keyword } => {
                let before = d.traffic();
                let t = Instant::now();
                let result = judged_search(d, &world, &mut col, *from, keyword);
                let took = t.elapsed();
                let spent = used(&d.traffic(), &before);
                match result {
                    Ok(found) => {
                        col.latencies.push(took);
                        if world.answerable(keyword, *from) {
                            col.answerable += 1;
                            col.found += usize::from(found);
                        }
                    }
                    Err(e) => {
                        col.errors += 1;
                        note(
                            &mut col,
                            format!("search '{keyword}' from peer {from}: {e}"),
                        );
                    }
                }
                col.msgs_per_search.add(total_msgs(&spent) as f64);
                col.bytes_per_search.add(total_bytes(&spent) as f64);
                add_into(&mut search_traffic, &spent);
            }
            Step::Join(p) => churn::join(d, &mut world, &mut col, *p, cfg),
            Step::Leave(p) => churn::leave(d, &mut world, &mut col, *p, cfg),
            Step::Crash(p) => churn::crash(d, &mut world, &mut col, *p, cfg),
        }
    }
    col.latencies.sort();
    col.busiest = busiest(&search_traffic).map(|(n, share)| (n.node.clone(), share));
    if cfg.kill {
        col.kill = kill::kill(d, &mut world, &mut col, cfg);
    }
    Ok(col)
}

/// What every node sent and received between `before` and `after`, minus its upkeep:
/// what the operation in between cost the network.
pub(crate) fn used(after: &[NodeTraffic], before: &[NodeTraffic]) -> Vec<NodeTraffic> {
    delta(after, before)
        .iter()
        .map(NodeTraffic::without_upkeep)
        .collect()
}

/// Keeps the first few problems in words; counts tell the rest.
pub(crate) fn note(col: &mut Column, what: String) {
    const KEEP: usize = 5;
    if col.notes.len() < KEEP {
        col.notes.push(what);
    }
}

/// Adds `more` into `sum`, node by node (matched by name).
fn add_into(sum: &mut Vec<NodeTraffic>, more: &[NodeTraffic]) {
    for m in more {
        match sum.iter_mut().find(|s| s.node == m.node) {
            Some(s) => *s = s.plus(m),
            None => sum.push(m.clone()),
        }
    }
}

#[cfg(test)]
mod tests;
