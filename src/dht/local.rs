//! A whole ring in one process, for the lab, the bench and the tests.
//!
//! Every node is a real [`Node`] on its own 127.0.0.1 port, talking UDP; this module
//! only starts them, and answers the questions a student would check by hand: is every
//! successor the next node clockwise, is every finger right, is every key on its owner
//! and the r nodes after it? Tests wait on these conditions instead of sleeping.

use super::error::DhtError;
use super::id::Id;
use super::node::Node;
use super::policy::{owner_of, NodeRef, Routing};
use super::state::Config;
pub use crate::rng::Rng;
use crate::wait::{until as wait, until_every, POLL};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Attempts to find a free id for a new node before giving up (small rings collide).
pub const ID_TRIES: usize = 64;
/// How long a join wave may take to link up before `start` gives up.
pub const JOIN_WAVE_LIMIT: Duration = Duration::from_secs(60);
/// Threads that join one wave's newcomers at the same time.
pub const JOINERS: usize = 4;
/// Members a newcomer tries to join through before its join fails.
pub const JOIN_TRIES: usize = 4;

/// How often a ring of `n` nodes is checked while waiting: every [`POLL`] up to 16
/// nodes, then proportionally longer. A check asks every node for a snapshot, so on a
/// ring of 4,096 it costs a good fraction of a second of CPU that the ring needs.
pub fn poll_every(n: usize) -> Duration {
    POLL * (n / 16).max(1) as u32
}

/// Joins `node` through member `first` of `via`, or the next ones when a lookup finds
/// no route or no answer: on a machine too busy to answer within the RPC's retries (a
/// ring of 4,096 while other programs compile) one unlucky path must not end the build.
fn join_through(node: &Node, via: &[std::net::SocketAddr], first: usize) -> Result<(), DhtError> {
    let mut tries = 0;
    loop {
        // Members spread over the ring, so a retry goes by another path.
        let through = via[(first + tries * via.len() / JOIN_TRIES) % via.len()];
        match node.join(through) {
            Err(DhtError::NoRoute(_) | DhtError::NoAnswer(_)) if tries + 1 < JOIN_TRIES => {
                log::info!(
                    "{}: join through {through} failed; trying another member",
                    node.addr()
                );
                tries += 1;
            }
            r => return r,
        }
    }
}

pub struct LocalRing {
    pub nodes: Vec<Node>,
    pub cfg: Config,
    /// Ids refused because another node had them, with the address that tried.
    pub refused: Vec<(Id, std::net::SocketAddr)>,
}

impl LocalRing {
    /// Starts `n` nodes on 127.0.0.1 port 0.
    ///
    /// Nodes join in waves that double the ring, and each wave waits until successors
    /// and predecessors are right again. Joining all at once also works, but every
    /// newcomer then finds its successor on a ring that does not know the previous
    /// newcomers yet, and stabilization untangles them one round at a time: O(N) rounds
    /// instead of O(log N) waves of a few rounds. Within a wave the newcomers join at the
    /// same time ([`JOINERS`] threads), each through a different member of the ring
    /// before the wave: one join is a lookup of a few hops, and one after the other
    /// they were most of the time a ring of 4,096 took to build.
    pub fn start(n: usize, cfg: &Config) -> Result<LocalRing, DhtError> {
        let mut ring = LocalRing {
            nodes: Vec::new(),
            cfg: cfg.clone(),
            refused: Vec::new(),
        };
        while ring.nodes.len() < n {
            let target = n.min((ring.nodes.len() * 2).max(1));
            ring.join_wave(target)?;
            let poll = poll_every(ring.nodes.len());
            if ring.nodes.len() < n && !until_every(JOIN_WAVE_LIMIT, poll, || ring.linked()) {
                return Err(DhtError::Config("ring did not link up after a join wave"));
            }
        }
        Ok(ring)
    }

    /// Starts nodes until the ring has `target`, and joins them all at once through the
    /// members already there. An id taken by a member or another newcomer is refused
    /// before it joins, and a new port tried, as in [`LocalRing::add`].
    fn join_wave(&mut self, target: usize) -> Result<(), DhtError> {
        let members = self.nodes.len();
        let mut fresh: Vec<Node> = Vec::new();
        let mut tries = 0;
        while members + fresh.len() < target {
            let node = Node::start("127.0.0.1:0", self.cfg.clone())?;
            let taken = self
                .nodes
                .iter()
                .chain(&fresh)
                .find(|o| o.id() == node.id());
            if let Some(other) = taken {
                self.refused.push((node.id(), node.addr()));
                tries += 1;
                if tries >= ID_TRIES {
                    return Err(DhtError::IdTaken {
                        id: node.id(),
                        by: other.addr(),
                    });
                }
                continue;
            }
            fresh.push(node);
            tries = 0;
        }
        if members == 0 {
            self.nodes.append(&mut fresh); // the first node joins nobody
            return Ok(());
        }
        let via: Vec<std::net::SocketAddr> = self.nodes.iter().map(Node::addr).collect();
        let per = fresh.len().div_ceil(JOINERS);
        std::thread::scope(|s| {
            let joins: Vec<_> = fresh
                .chunks(per)
                .enumerate()
                .map(|(c, chunk)| {
                    let via = &via;
                    s.spawn(move || {
                        chunk
                            .iter()
                            .enumerate()
                            .try_for_each(|(k, node)| join_through(node, via, c * per + k))
                    })
                })
                .collect();
            joins
                .into_iter()
                .try_for_each(|j| j.join().expect("a joining thread panicked"))
        })?;
        self.nodes.append(&mut fresh);
        Ok(())
    }

    /// Starts one node on `listen` and joins it. When its id is taken it is refused,
    /// and (for port 0 only) retried on a new port, as a real peer would restart.
    pub fn add(&mut self, listen: &str) -> Result<&Node, DhtError> {
        let mut last = None;
        let tries = if listen.ends_with(":0") { ID_TRIES } else { 1 };
        for _ in 0..tries {
            let node = Node::start(listen, self.cfg.clone())?;
            // Checked here first because a node that joined a moment ago may not be
            // reachable by lookups yet; the protocol's own check is in `Node::join`.
            if let Some(other) = self.nodes.iter().find(|o| o.id() == node.id()) {
                self.refused.push((node.id(), node.addr()));
                last = Some(DhtError::IdTaken {
                    id: node.id(),
                    by: other.addr(),
                });
                continue;
            }
            if let Some(known) = self.nodes.last() {
                match node.join(known.addr()) {
                    Ok(()) => {}
                    Err(e @ DhtError::IdTaken { .. }) => {
                        self.refused.push((node.id(), node.addr()));
                        last = Some(e);
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            self.nodes.push(node);
            return Ok(self.nodes.last().expect("just pushed"));
        }
        Err(last.unwrap_or(DhtError::Config("no free id found")))
    }

    /// The members in ring order (ascending ids).
    pub fn sorted(&self) -> Vec<NodeRef> {
        let mut v: Vec<NodeRef> = self.nodes.iter().map(Node::me).collect();
        v.sort_by_key(|n| n.id);
        v
    }

    /// Index in `nodes` of the node at ring position `pos` (0 = smallest id).
    pub fn at_position(&self, pos: usize) -> usize {
        let target = self.sorted()[pos];
        self.nodes
            .iter()
            .position(|n| n.me() == target)
            .expect("member")
    }

    /// The true owner of `id`: the first member at or after it.
    pub fn owner(&self, id: &Id) -> NodeRef {
        *owner_of(&self.sorted(), id).expect("ring is not empty")
    }

    /// Every value of every key, gathered from every store: what the ring must not lose.
    pub fn all_values(&self) -> BTreeMap<Vec<u8>, BTreeSet<Vec<u8>>> {
        let mut all: BTreeMap<Vec<u8>, BTreeSet<Vec<u8>>> = BTreeMap::new();
        for node in &self.nodes {
            for k in node.keys() {
                let v = node.holds(&k).unwrap_or_default();
                all.entry(k).or_default().extend(v);
            }
        }
        all
    }

    /// True when each of `keys` (with its values) sits on its owner and the owner's r
    /// successors.
    pub fn replicated(&self, keys: &BTreeMap<Vec<u8>, BTreeSet<Vec<u8>>>) -> bool {
        let sorted = self.sorted();
        let copies = (self.cfg.r + 1).min(sorted.len());
        keys.iter().all(|(k, vals)| {
            let id = Id::hash(k, self.cfg.bits);
            let owner = owner_of(&sorted, &id).expect("ring is not empty");
            let pos = sorted.iter().position(|x| x == owner).expect("member");
            (0..copies).all(|c| {
                let holder = sorted[(pos + c) % sorted.len()];
                let node = self
                    .nodes
                    .iter()
                    .find(|n| n.me() == holder)
                    .expect("member");
                node.holds(k).is_some_and(|v| v.is_superset(vals))
            })
        })
    }

    pub fn wait_replicated(
        &self,
        keys: &BTreeMap<Vec<u8>, BTreeSet<Vec<u8>>>,
        limit: Duration,
    ) -> bool {
        wait(limit, || self.replicated(keys))
    }

    /// Mean hops of `count` lookups of random ids, each from a random member.
    pub fn mean_hops(
        &self,
        count: usize,
        routing: Routing,
        rng: &mut Rng,
    ) -> Result<f64, DhtError> {
        let mut total = 0;
        for _ in 0..count {
            let node = &self.nodes[rng.below(self.nodes.len())];
            let id = Id::hash(&rng.next_u64().to_be_bytes(), self.cfg.bits);
            total += node.lookup_with(&id, routing)?.hops();
        }
        Ok(total as f64 / count.max(1) as f64)
    }

    /// Stops nodes (a crash: no hand-over) by index in `nodes`; returns their refs.
    pub fn kill(&mut self, mut idx: Vec<usize>) -> Vec<NodeRef> {
        idx.sort_unstable_by(|a, b| b.cmp(a));
        idx.dedup();
        let mut gone: Vec<Node> = idx.into_iter().map(|i| self.nodes.remove(i)).collect();
        // Stop them all first, then report: a simultaneous failure.
        gone.iter().for_each(Node::shut_calls);
        gone.iter_mut().for_each(Node::stop);
        gone.iter().map(Node::me).collect()
    }

    /// Stops every node, joining all their threads.
    pub fn stop(&mut self) {
        self.nodes.iter().for_each(Node::shut_calls);
        self.nodes.iter_mut().for_each(Node::stop);
        self.nodes.clear();
    }
}
