//! One design, one workload, the numbers of notes 6.4: what searching costs, who carries
//! it, what joining and leaving cost, and what losing the special node does.
//!
//! [`run`] plays a [`Workload`] on a [`Design`]: the initial peers join, then every step
//! in order (searches, joins, polite leaves, crashes), then the special node is killed.
//! Each operation is measured from the outside, as a student with a stopwatch and a
//! packet counter would: the traffic of every node before and after, the time it took,
//! and its answer held against the truth the workload knows.
//!
//! Traffic deltas include whatever the design sends on its own meanwhile (a ring's
//! stabilization, Gnutella's pings): that background is part of what a design costs.
//!
//! Where to look first: [`run`], then [`Column`] (one column of the lab's table).

mod churn;
mod kill;
mod load;

pub use kill::KillResult;
pub use load::{directory_load, threads_cpu, LoadPoint};

use super::workload::{Step, Workload};
use super::{busiest, delta, total_bytes, total_msgs, Design, LocateError, NodeTraffic, PeerId};
use crate::report::quantile;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// How long the measurements wait, and how much they try after the special node dies.
#[derive(Debug, Clone)]
pub struct MeasureConfig {
    /// Whether the run ends by killing the special node (a scaling run needs not).
    pub kill: bool,
    /// When set, the network's own background traffic (a ring's stabilization,
    /// Gnutella's pings) is measured over this idle time after the joins and taken
    /// off each search's count: what is left is what locating costs.
    pub background: Option<Duration>,
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
            background: None,
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
    /// The node that handled the most search messages, and its share of all of them.
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
    // Messages per second the network sends while nobody does anything.
    let idle_rate = match cfg.background {
        Some(window) => {
            let before = total_msgs(&d.traffic());
            std::thread::sleep(window);
            (total_msgs(&d.traffic()) - before) as f64 / window.as_secs_f64()
        }
        None => 0.0,
    };
    let mut search_traffic: Vec<NodeTraffic> = Vec::new();
    for step in &w.steps {
        match step {
            Step::Search { from, keyword } => {
                let before = d.traffic();
                let t = Instant::now();
                let result = judged_search(d, &world, &mut col, *from, keyword);
                let took = t.elapsed();
                let spent = delta(&d.traffic(), &before);
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
                let background = idle_rate * took.as_secs_f64();
                col.msgs_per_search
                    .add((total_msgs(&spent) as f64 - background).max(0.0));
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
            Some(s) => {
                s.msgs_sent += m.msgs_sent;
                s.msgs_received += m.msgs_received;
                s.bytes_sent += m.bytes_sent;
                s.bytes_received += m.bytes_received;
            }
            None => sum.push(m.clone()),
        }
    }
}

#[cfg(test)]
mod tests;
