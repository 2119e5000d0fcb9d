//! What one node knows: the pieces, the peers, the upload slots. Owned by the node's
//! coordinator thread alone (`src/bittorrent/node/coordinator.rs`): no lock, no sharing.
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | [`State`]: the peer table, who is called and who banned; what a message changes |
//! | `peer.rs` | [`peer::PeerEntry`]: one connected peer |
//! | `pieces.rs` | [`pieces::Pieces`]: the piece table, availability, which blocks to request next |
//! | `partial.rs` | one piece in flight: its blocks, who asked for them, what an arriving block changes |
//! | `slots.rs` | [`slots::Slots`]: who holds a regular or the optimistic upload slot |
//!
//! Methods here change the tables and return the messages that follow from the change
//! ([`Sends`]); the coordinator hands them to the connections' queues.

pub mod partial;
pub mod peer;
pub mod pieces;
pub mod slots;

pub use slots::Sends;

use super::conn::{Link, Out, PeerCounters, PeerKey};
use super::msg::bitfield::Bitfield;
use super::msg::handshake::PeerId;
use super::msg::Message;
use super::policy::pick::PieceState;
use crate::rng::Rng;
use log::warn;
use peer::{bytes, PeerEntry};
use pieces::{Finished, Pieces};
use slots::Slots;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// A peer that sent this many pieces with a wrong SHA-1 is dropped and not called again.
pub const MAX_BAD_PIECES: u32 = 3;

/// Everything the coordinator decides from.
pub struct State {
    pub pieces: Pieces,
    pub peers: BTreeMap<PeerKey, PeerEntry>,
    pub slots: Slots,
    /// Addresses we are connected or connecting to.
    pub dialed: HashSet<SocketAddr>,
    /// Dropped for bad pieces: never called or accepted again.
    pub banned: HashSet<SocketAddr>,
    pub banned_ids: HashSet<PeerId>,
    /// Byte counters by peer id, kept after a peer disconnects.
    pub counters: HashMap<PeerId, Arc<PeerCounters>>,
    /// The dialer's random choices, a stream of its own.
    pub dial_rng: Rng,
}

impl State {
    pub fn new(pieces: Pieces, choke_rng: Rng, dial_rng: Rng) -> State {
        State {
            pieces,
            peers: BTreeMap::new(),
            slots: Slots::new(choke_rng),
            dialed: HashSet::new(),
            banned: HashSet::new(),
            banned_ids: HashSet::new(),
            counters: HashMap::new(),
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
        let entry = PeerEntry::new(link, counters, self.pieces.len());
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
        self.slots.forget(key);
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
        p.interest().map(|o| (key, o)).into_iter().collect()
    }

    /// The peer sent its whole bitmap, replacing the old one.
    pub fn peer_bitfield(&mut self, key: PeerKey, new: Bitfield) -> Sends {
        let Some(p) = self.peers.get_mut(&key) else {
            return Vec::new();
        };
        for (i, a) in self.pieces.availability.iter_mut().enumerate() {
            match (p.has.has(i), new.has(i)) {
                (false, true) => *a += 1,
                (true, false) => *a = a.saturating_sub(1),
                _ => {}
            }
        }
        let state = &self.pieces.state;
        p.wanted = (0..new.len())
            .filter(|&i| new.has(i) && state[i] != PieceState::Have)
            .count();
        p.has = new;
        p.interest().map(|o| (key, o)).into_iter().collect()
    }

    /// We verified piece `i`: every peer hears `have`, and may stop being wanted.
    pub fn we_have(&mut self, i: usize) -> Sends {
        self.pieces.verified(i, true);
        let mut sends = Vec::new();
        for (&key, p) in self.peers.iter_mut() {
            sends.push((key, bytes(&Message::Have(i as u32))));
            if p.has.has(i) {
                p.wanted = p.wanted.saturating_sub(1);
            }
            sends.extend(p.interest().map(|o| (key, o)));
        }
        sends
    }

    /// A block arrived from `key`: counted, kept, and in the endgame the other
    /// requests for it cancelled. Returns the piece when this was its last block.
    /// `None`: we had not asked `key` for it (never, or no longer: cancelled in the
    /// endgame, released at a choke or a deadline), so it is dropped: not written into
    /// a piece in flight, and not credited to the sender's rate (unasked bytes must
    /// not earn an unchoke).
    pub fn block(
        &mut self,
        key: PeerKey,
        index: usize,
        begin: u32,
        data: Vec<u8>,
    ) -> Option<(Sends, Option<Finished>)> {
        let len = data.len() as u64;
        let p = self.peers.get_mut(&key)?;
        if !p.take_request((index as u32, begin, len as u32)) {
            return None;
        }
        p.counters.down.fetch_add(len, Ordering::Relaxed);
        let now = Instant::now();
        (p.last_block, p.last_useful, p.snubbed) = (now, now, false);
        p.waiting_since = (!p.requests.is_empty()).then_some(now);
        let arrival = self.pieces.receive_block(key, index, begin, data);
        let mut sends = Vec::new();
        for (other, (index, begin, length)) in arrival.cancel {
            if let Some(p) = self.peers.get_mut(&other) {
                if p.take_request((index, begin, length)) {
                    let m = Message::Cancel {
                        index,
                        begin,
                        length,
                    };
                    sends.push((other, bytes(&m)));
                }
            }
        }
        Some((sends, arrival.finished))
    }

    /// Piece `index` failed its SHA-1 check, sent by `from` alone. Returns the peer to
    /// drop once it has sent [`MAX_BAD_PIECES`] (it is banned).
    pub fn bad_piece(&mut self, from: PeerKey, index: usize) -> Option<PeerKey> {
        self.pieces.refused.entry(from).or_default().push(index);
        let p = self.peers.get_mut(&from)?;
        p.bad_pieces += 1;
        warn!(
            "piece {index} from {} failed its SHA-1 check ({} bad so far)",
            p.link.addr, p.bad_pieces
        );
        if p.bad_pieces < MAX_BAD_PIECES {
            return None;
        }
        self.banned.insert(p.link.addr);
        self.banned_ids.insert(p.link.peer_id);
        Some(from)
    }

    /// Whom of the tracker's `list` to call, to have `want` neighbours: a random
    /// subset, since peers that all called the same first few would make a lopsided
    /// overlay. The addresses returned are marked as called.
    pub fn choose_calls(&mut self, mut list: Vec<SocketAddr>, want: usize) -> Vec<SocketAddr> {
        self.dial_rng.shuffle(&mut list);
        let mut calls = Vec::new();
        for addr in list {
            // Handshakes finish later, on the new threads: count our calls.
            if self.peers.len() + calls.len() >= want {
                break;
            }
            if !self.banned.contains(&addr) && self.dialed.insert(addr) {
                calls.push(addr);
            }
        }
        calls
    }
}
