//! What one node knows: the pieces, the peers, the choker's decision. Owned by the
//! node's coordinator thread alone (`node/coordinator.rs`): no lock, no sharing.
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | [`State`]: the peer table, the slots, who is banned; choke and interest bookkeeping |
//! | `pieces.rs` | [`pieces::Pieces`]: the piece table, availability, the blocks of pieces in flight |
//!
//! Methods here change the tables and return the messages that follow from the change
//! ([`Sends`]); the coordinator hands them to the connections' queues.

pub mod pieces;

use super::conn::{Link, Out, PeerCounters, PeerKey, Request};
use super::msg::bitfield::Bitfield;
use super::msg::handshake::PeerId;
use super::msg::{encode_into, Message};
use super::policy::choke::{ChokePolicy, PeerView, Unchoke};
use crate::rng::Rng;
use pieces::Pieces;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A peer that sent this many pieces with a wrong SHA-1 is dropped and not called again.
pub const MAX_BAD_PIECES: u32 = 3;

/// Messages for connections, decided by a change of state.
pub type Sends = Vec<(PeerKey, Out)>;

/// One connected peer, as the coordinator sees it.
pub struct PeerEntry {
    pub link: Link,
    pub counters: Arc<PeerCounters>,
    /// Its bitmap (位图).
    pub has: Bitfield,
    /// Pieces it has that we lack: we are interested while this is above 0.
    pub wanted: usize,
    pub am_interested: bool,
    /// It wants pieces we have.
    pub interested: bool,
    /// We unchoke it (regular or optimistic slot).
    pub unchoked: bool,
    pub optimistic_slot: bool,
    /// It chokes us: our requests will not be answered.
    pub peer_choking: bool,
    /// Our block requests it has not answered yet.
    pub requests: Vec<Request>,
    pub bad_pieces: u32,
    /// Counter values at the last rechoke: rates are the difference over the period.
    pub last_down: u64,
    pub last_up: u64,
    pub connected_at: Instant,
    /// Last block it sent us, or when we became interested in it (for snubbing).
    pub last_block: Instant,
}

/// Everything the coordinator decides from.
pub struct State {
    pub pieces: Pieces,
    pub peers: BTreeMap<PeerKey, PeerEntry>,
    /// Addresses we are connected or connecting to.
    pub dialed: HashSet<SocketAddr>,
    /// Dropped for bad pieces: never called or accepted again.
    pub banned: HashSet<SocketAddr>,
    pub banned_ids: HashSet<PeerId>,
    /// Byte counters by peer id, kept after a peer disconnects.
    pub counters: HashMap<PeerId, Arc<PeerCounters>>,
    /// The choker's current decision.
    pub regular: Vec<PeerKey>,
    pub optimistic: Option<PeerKey>,
    pub last_rechoke: Instant,
    /// The choker's and the dialer's random choices, each a stream of its own.
    pub choke_rng: Rng,
    pub dial_rng: Rng,
}

fn bytes(m: &Message<'_>) -> Out {
    let mut b = Vec::with_capacity(17);
    encode_into(m, &mut b);
    Out::Bytes(b)
}

impl State {
    pub fn new(pieces: Pieces, choke_rng: Rng, dial_rng: Rng) -> State {
        State {
            pieces,
            peers: BTreeMap::new(),
            dialed: HashSet::new(),
            banned: HashSet::new(),
            banned_ids: HashSet::new(),
            counters: HashMap::new(),
            regular: Vec::new(),
            optimistic: None,
            last_rechoke: Instant::now(),
            choke_rng,
            dial_rng,
        }
    }

    /// Adds a connection after its handshake. `Err` says why it is refused (the
    /// link is handed back so that the caller can close it).
    pub fn register(
        &mut self,
        link: Link,
        max_peers: usize,
    ) -> Result<Sends, (Link, &'static str)> {
        if self.banned_ids.contains(&link.peer_id) {
            return Err((link, "peer was dropped for bad pieces"));
        }
        if self.peers.values().any(|p| p.link.peer_id == link.peer_id) {
            return Err((link, "already connected to this peer id"));
        }
        if self.peers.len() >= max_peers {
            return Err((link, "too many peers"));
        }
        let key = link.key;
        let counters = self.counters.entry(link.peer_id).or_default().clone();
        let mut sends = vec![(key, Out::Counters(counters.clone()))];
        if self.pieces.have_count > 0 {
            let mut have = Bitfield::new(self.pieces.len());
            (0..self.pieces.len())
                .filter(|&i| self.pieces.has(i))
                .for_each(|i| have.set(i));
            sends.push((key, bytes(&Message::Bitfield(have.as_bytes()))));
        }
        let now = Instant::now();
        let entry = PeerEntry {
            has: Bitfield::new(self.pieces.len()),
            wanted: 0,
            am_interested: false,
            interested: false,
            unchoked: false,
            optimistic_slot: false,
            peer_choking: true,
            requests: Vec::new(),
            bad_pieces: 0,
            last_down: counters.down.load(Ordering::Relaxed),
            last_up: counters.up.load(Ordering::Relaxed),
            counters,
            connected_at: now,
            last_block: now,
            link,
        };
        self.peers.insert(key, entry);
        Ok(sends)
    }

    /// Removes a connection: its requests are released, its pieces no longer counted.
    pub fn unregister(&mut self, key: PeerKey) -> Option<PeerEntry> {
        let p = self.peers.remove(&key)?;
        self.pieces.release(key, &p.requests);
        for i in (0..p.has.len()).filter(|&i| p.has.has(i)) {
            self.pieces.availability[i] = self.pieces.availability[i].saturating_sub(1);
        }
        self.pieces.refused.remove(&key);
        self.regular.retain(|&k| k != key);
        if self.optimistic == Some(key) {
            self.optimistic = None;
        }
        if p.link.outgoing {
            self.dialed.remove(&p.link.addr);
        }
        Some(p)
    }

    /// The peer announced piece `i` (`have`).
    pub fn peer_has(&mut self, key: PeerKey, i: usize) -> Sends {
        let lack = !self.pieces.has(i);
        let Some(p) = self.peers.get_mut(&key) else {
            return Vec::new();
        };
        if !p.has.has(i) {
            p.has.set(i);
            self.pieces.availability[i] += 1;
            p.wanted += lack as usize;
        }
        self.interest(key)
    }

    /// The peer sent its whole bitmap, replacing the old one.
    pub fn peer_bitfield(&mut self, key: PeerKey, new: Bitfield) -> Sends {
        let Some(p) = self.peers.get_mut(&key) else {
            return Vec::new();
        };
        let avail = &mut self.pieces.availability;
        for (i, a) in avail.iter_mut().enumerate() {
            match (p.has.has(i), new.has(i)) {
                (false, true) => *a += 1,
                (true, false) => *a = a.saturating_sub(1),
                _ => {}
            }
        }
        p.wanted = (0..new.len())
            .filter(|&i| {
                new.has(i) && self.pieces.state[i] != super::policy::pick::PieceState::Have
            })
            .count();
        p.has = new;
        self.interest(key)
    }

    /// Interested while the peer has a piece we lack; say so when that changes.
    pub fn interest(&mut self, key: PeerKey) -> Sends {
        let Some(p) = self.peers.get_mut(&key) else {
            return Vec::new();
        };
        let want = p.wanted > 0;
        if want == p.am_interested {
            return Vec::new();
        }
        p.am_interested = want;
        if want {
            p.last_block = Instant::now(); // snubbed counts from now
        }
        let m = if want {
            Message::Interested
        } else {
            Message::NotInterested
        };
        vec![(key, bytes(&m))]
    }

    /// We verified piece `i`: every peer hears `have`, and may stop being wanted.
    pub fn we_have(&mut self, i: usize) -> Sends {
        self.pieces.verified(i, true);
        let mut sends = Vec::new();
        let keys: Vec<PeerKey> = self.peers.keys().copied().collect();
        for key in keys {
            sends.push((key, bytes(&Message::Have(i as u32))));
            if let Some(p) = self.peers.get_mut(&key) {
                if p.has.has(i) {
                    p.wanted = p.wanted.saturating_sub(1);
                }
            }
            sends.extend(self.interest(key));
        }
        sends
    }

    /// What the choker knows of each peer; rates over the period since the last call.
    pub fn choke_views(&mut self, snub: Duration, new: Duration) -> Vec<PeerView> {
        let now = Instant::now();
        let secs = now
            .duration_since(self.last_rechoke)
            .as_secs_f64()
            .max(1e-3);
        self.last_rechoke = now;
        let mut views = Vec::with_capacity(self.peers.len());
        for (&key, p) in self.peers.iter_mut() {
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
    pub fn on_interested(&mut self, key: PeerKey, policy: ChokePolicy, slots: usize) -> Sends {
        if self.regular.contains(&key) || self.optimistic == Some(key) {
            return Vec::new();
        }
        if policy == ChokePolicy::UnchokeAll
            || (self.pieces.is_complete() && self.regular.len() < slots)
        {
            self.regular.push(key);
        } else if self.optimistic.is_none() {
            self.optimistic = Some(key);
        } else {
            return Vec::new();
        }
        self.apply_choke()
    }

    /// Records the choker's decision and says Choke/Unchoke to the peers that change.
    pub fn set_unchoked(&mut self, u: Unchoke) -> Sends {
        self.regular = u.regular;
        self.optimistic = u.optimistic;
        self.apply_choke()
    }

    fn apply_choke(&mut self) -> Sends {
        let mut sends = Vec::new();
        for (&key, p) in self.peers.iter_mut() {
            let opt = self.optimistic == Some(key);
            let want = opt || self.regular.contains(&key);
            p.optimistic_slot = opt;
            if want && !p.unchoked {
                sends.push((key, bytes(&Message::Unchoke)));
            } else if !want && p.unchoked {
                // Requests already queued at its writer are skipped from now on.
                p.link.gen.fetch_add(1, Ordering::AcqRel);
                sends.push((key, bytes(&Message::Choke)));
            }
            p.unchoked = want;
        }
        sends
    }
}
