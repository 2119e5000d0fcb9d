//! The upload slots (一报还一报 tit-for-tat): who holds a regular slot, who the
//! optimistic one, and the Choke/Unchoke messages a change of mind sends. The choice
//! itself is `policy/choke.rs`; this file keeps it and measures the rates it ranks by.

use super::peer::{bytes, PeerEntry};
use crate::bittorrent::conn::PeerKey;
use crate::bittorrent::msg::Message;
use crate::bittorrent::policy::choke::{ChokePolicy, PeerView, Unchoke};
use crate::rng::Rng;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Messages for connections, decided by a change of state.
pub type Sends = Vec<(PeerKey, crate::bittorrent::conn::Out)>;

pub struct Slots {
    pub regular: Vec<PeerKey>,
    pub optimistic: Option<PeerKey>,
    last_rechoke: Instant,
    /// The choker's random choices, a stream of its own.
    pub rng: Rng,
}

impl Slots {
    pub fn new(rng: Rng) -> Slots {
        Slots {
            regular: Vec::new(),
            optimistic: None,
            last_rechoke: Instant::now(),
            rng,
        }
    }

    /// What the choker knows of each peer; rates over the period since the last call.
    pub fn views(
        &mut self,
        peers: &mut BTreeMap<PeerKey, PeerEntry>,
        snub: Duration,
        new: Duration,
    ) -> Vec<PeerView> {
        let now = Instant::now();
        let secs = now
            .duration_since(self.last_rechoke)
            .as_secs_f64()
            .max(1e-3);
        self.last_rechoke = now;
        let mut views = Vec::with_capacity(peers.len());
        for (&key, p) in peers.iter_mut() {
            let down = p.counters.down.load(Ordering::Relaxed);
            let up = p.counters.up.load(Ordering::Relaxed);
            views.push(PeerView {
                key,
                interested: p.interested,
                down_rate: down.saturating_sub(p.last_down) as f64 / secs,
                up_rate: up.saturating_sub(p.last_up) as f64 / secs,
                snubbed: p.am_interested && now.duration_since(p.last_block) > snub,
                is_new: now.duration_since(p.connected_at) < new,
            });
            (p.last_down, p.last_up) = (down, up);
        }
        views
    }

    /// A peer became interested: unchoke it now if a slot is free. A seed fills its
    /// regular slots; a leecher only offers its optimistic slot (regular slots are
    /// earned by uploading, at the next rechoke).
    pub fn on_interested(
        &mut self,
        peers: &mut BTreeMap<PeerKey, PeerEntry>,
        key: PeerKey,
        policy: ChokePolicy,
        (slots, seeding): (usize, bool),
    ) -> Sends {
        if self.regular.contains(&key) || self.optimistic == Some(key) {
            return Vec::new();
        }
        if policy == ChokePolicy::UnchokeAll || (seeding && self.regular.len() < slots) {
            self.regular.push(key);
        } else if self.optimistic.is_none() {
            self.optimistic = Some(key);
        } else {
            return Vec::new();
        }
        self.apply(peers)
    }

    /// A peer lost interest: a slot it held is free, and waiting for the next rechoke
    /// would leave that share of the uplink idle until then. The optimistic slot goes
    /// to another interested peer at random, and so does a seed's regular slot. A
    /// leecher's regular slot stays: it was earned by uploading, and only the rechoke
    /// ranks who earns it next.
    pub fn on_not_interested(
        &mut self,
        peers: &mut BTreeMap<PeerKey, PeerEntry>,
        key: PeerKey,
        policy: ChokePolicy,
        seeding: bool,
    ) -> Sends {
        if policy == ChokePolicy::UnchokeAll {
            return Vec::new();
        }
        let optimistic = self.optimistic == Some(key);
        if optimistic {
            self.optimistic = None;
        } else if seeding && self.regular.contains(&key) {
            self.regular.retain(|&k| k != key);
        } else {
            return Vec::new();
        }
        let holds = |k: &PeerKey| self.regular.contains(k) || self.optimistic == Some(*k);
        let waiting: Vec<PeerKey> = peers
            .iter()
            .filter(|&(k, p)| p.interested && !holds(k))
            .map(|(&k, _)| k)
            .collect();
        if let Some(&next) = waiting.get(self.rng.below(waiting.len().max(1))) {
            if optimistic {
                self.optimistic = Some(next);
            } else {
                self.regular.push(next);
            }
        }
        self.apply(peers)
    }

    /// Records the choker's decision and says Choke/Unchoke to the peers that change.
    pub fn set(&mut self, peers: &mut BTreeMap<PeerKey, PeerEntry>, u: Unchoke) -> Sends {
        self.regular = u.regular;
        self.optimistic = u.optimistic;
        self.apply(peers)
    }

    /// A peer left: its slot is free.
    pub fn forget(&mut self, key: PeerKey) {
        self.regular.retain(|&k| k != key);
        if self.optimistic == Some(key) {
            self.optimistic = None;
        }
    }

    fn apply(&self, peers: &mut BTreeMap<PeerKey, PeerEntry>) -> Sends {
        let mut sends = Vec::new();
        for (&key, p) in peers.iter_mut() {
            let opt = self.optimistic == Some(key);
            let want = opt || self.regular.contains(&key);
            p.optimistic_slot = opt;
            if want {
                p.link.gate.open(opt);
            }
            if want && !p.unchoked {
                sends.push((key, bytes(&Message::Unchoke)));
            } else if !want && p.unchoked {
                // Requests already queued at its writer are skipped from now on.
                p.link.gate.close();
                sends.push((key, bytes(&Message::Choke)));
            }
            p.unchoked = want;
        }
        sends
    }
}
