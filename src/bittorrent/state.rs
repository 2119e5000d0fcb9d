//! What one node knows, shared by its threads: the pieces, the peers, the counters.
//!
//! One lock (`Shared::state`) guards the piece table, the partial pieces and the peer
//! table, and it is only ever held for a few lookups or one 16 KiB copy, never across a
//! read, a write or a hash. What the upload path checks per request (do we have piece
//! i?) is an atomic, so uploading takes no lock at all. Decisions reach a connection
//! thread as a [`Cmd`] on its channel. `blocks.rs` holds the block bookkeeping
//! (partial pieces, endgame), `choking.rs` the rechoke timer.

use super::bitfield::Bitfield;
use super::blocks::Partial;
use super::choker::ChokePolicy;
use super::handshake::PeerId;
use super::metainfo::{InfoHash, Metainfo};
use super::picker::{PickPolicy, PickReason, PieceState};
use super::storage::Storage;
use crate::net::TokenBucket;
use crate::rng::Rng;
use crossbeam_channel::{Receiver, Sender};
use log::{info, warn};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// A peer that sent this many pieces with a wrong SHA-1 is dropped and not called again.
pub const MAX_BAD_PIECES: u32 = 3;

/// Connections are numbered in the order they were made.
pub type PeerKey = u64;

/// What the node tells a connection thread to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cmd {
    /// We verified a piece: tell the peer.
    Have(u32),
    Choke,
    /// `optimistic`: which slot it holds (counted apart, for the free-rider test).
    Unchoke {
        optimistic: bool,
    },
    /// Another peer delivered this block first (endgame): cancel our request.
    Cancel {
        index: u32,
        begin: u32,
        length: u32,
    },
    /// Hang up, for this reason.
    Drop(&'static str),
}

/// What a node reports while it runs (labs draw it; tests check it).
#[derive(Debug, Clone, PartialEq)]
pub enum NodeEvent {
    Picked {
        piece: usize,
        reason: PickReason,
    },
    Rechoke {
        seeding: bool,
        regular: Vec<PeerId>,
        optimistic: Option<PeerId>,
    },
    Completed,
}

/// Byte counters of one remote peer, kept by peer id after it disconnects.
#[derive(Debug, Default)]
pub struct PeerCounters {
    /// Piece bytes it sent us.
    pub down: AtomicU64,
    /// Piece bytes we sent it.
    pub up: AtomicU64,
    /// ... of which while it held our optimistic slot.
    pub up_optimistic: AtomicU64,
    /// ... of which while it held a regular slot and we were still downloading.
    pub up_regular_leeching: AtomicU64,
}

pub(crate) struct PeerEntry {
    pub addr: SocketAddr,
    pub peer_id: PeerId,
    pub interested: bool,
    pub unchoked: bool,
    /// We want pieces it has (for snubbing).
    pub we_interested: bool,
    pub bad_pieces: u32,
    pub tx: Sender<Cmd>,
    pub counters: Arc<PeerCounters>,
    /// Counter values at the last rechoke: rates are the difference over the period.
    pub last_down: u64,
    pub last_up: u64,
    pub connected_at: Instant,
    /// Last block it sent us, or when we became interested in it.
    pub last_block: Instant,
}

pub(crate) struct State {
    pub pieces: Vec<PieceState>,
    /// How many connected peers have each piece (bitfields and haves).
    pub availability: Vec<u32>,
    /// Pieces some of whose blocks are requested or here.
    pub partials: BTreeMap<usize, Partial>,
    /// Pieces each peer sent us wrong: the picker asks someone else for them.
    pub refused: HashMap<PeerKey, Vec<usize>>,
    pub peers: BTreeMap<PeerKey, PeerEntry>,
    pub next_key: PeerKey,
    /// Addresses we are connected or connecting to, or must not call again.
    pub dialed: HashSet<SocketAddr>,
    pub banned: HashSet<SocketAddr>,
    pub banned_ids: HashSet<PeerId>,
    pub have_count: usize,
    pub counters: HashMap<PeerId, Arc<PeerCounters>>,
    /// The choker's current decision.
    pub regular: Vec<PeerKey>,
    pub optimistic: Option<PeerKey>,
    pub last_rechoke: Instant,
    /// The picker's random choices. Choker and announcer draw from streams of their
    /// own, so a rechoke timed differently cannot change which pieces are picked.
    pub rng: Rng,
    pub choke_rng: Rng,
    pub dial_rng: Rng,
}

/// A piece whose blocks have all arrived, on its way to the verifier.
pub(crate) struct Finished {
    pub index: usize,
    pub data: Vec<u8>,
    /// Every peer that sent a block of it.
    pub from: Vec<PeerKey>,
}

/// The node's behaviour switches (copied from `ClientConfig`).
pub(crate) struct Policy {
    pub pick: PickPolicy,
    pub choke: ChokePolicy,
    pub time_scale: f64,
    pub neighbours: usize,
    /// Upload nothing, ever (a free-rider).
    pub free_rider: bool,
    /// Flip a byte in every block we upload (a corrupt peer, for tests).
    pub corrupt: bool,
}

pub(crate) struct Shared {
    pub meta: Metainfo,
    pub peer_id: PeerId,
    /// Set once the listening socket is bound.
    pub listen: OnceLock<SocketAddr>,
    pub storage: Storage,
    pub have: Vec<AtomicBool>,
    pub state: Mutex<State>,
    pub pipeline: usize,
    pub upload_slots: usize,
    pub max_peers: usize,
    pub policy: Policy,
    /// The node's upload capacity u_i, shared by all its connections.
    pub upload_bucket: Option<Arc<TokenBucket>>,
    pub download_bucket: Option<Arc<TokenBucket>>,
    pub downloaded: AtomicU64,
    pub uploaded: AtomicU64,
    pub verify_tx: Sender<Finished>,
    /// Piece buffers handed back by the verifier, reused instead of allocated.
    pub pool_tx: Sender<Vec<u8>>,
    pub pool_rx: Receiver<Vec<u8>>,
    pub complete: Mutex<bool>,
    pub complete_cv: Condvar,
    pub completed_at: OnceLock<Instant>,
    /// Wakes the announcer when the download completes.
    pub completed_tx: Sender<()>,
    /// Stop without telling the tracker (a killed peer).
    pub silent: AtomicBool,
    pub events: Option<Sender<(PeerId, NodeEvent)>>,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn listen(&self) -> SocketAddr {
        *self.listen.get().expect("set right after bind")
    }

    pub fn info_hash(&self) -> InfoHash {
        self.meta.info_hash
    }

    pub fn num_pieces(&self) -> usize {
        self.have.len()
    }

    pub fn has_piece(&self, i: usize) -> bool {
        self.have.get(i).is_some_and(|h| h.load(Ordering::Acquire))
    }

    pub fn bitfield(&self) -> Bitfield {
        let mut b = Bitfield::new(self.num_pieces());
        (0..self.num_pieces())
            .filter(|&i| self.has_piece(i))
            .for_each(|i| b.set(i));
        b
    }

    pub fn is_complete(&self) -> bool {
        *self.complete.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A period of the notes (10 s, 30 s) scaled by the node's `time_scale`.
    pub fn scaled(&self, d: Duration) -> Duration {
        d.mul_f64(self.policy.time_scale)
            .max(Duration::from_millis(20))
    }

    pub fn emit(&self, e: NodeEvent) {
        if let Some(tx) = &self.events {
            let _ = tx.send((self.peer_id, e));
        }
    }

    /// Bytes still missing, for the tracker's `left`.
    pub fn left(&self) -> u64 {
        (0..self.num_pieces())
            .filter(|&i| !self.has_piece(i))
            .map(|i| self.storage.piece_size(i) as u64)
            .sum()
    }

    /// Adds a connection after its handshake. `Err` says why it is refused.
    pub fn register(
        &self,
        addr: SocketAddr,
        peer_id: PeerId,
        tx: Sender<Cmd>,
    ) -> Result<(PeerKey, Arc<PeerCounters>), &'static str> {
        let mut st = self.lock();
        if peer_id == self.peer_id {
            return Err("connected to ourselves");
        }
        if st.banned_ids.contains(&peer_id) {
            return Err("peer was dropped for bad pieces");
        }
        if st.peers.values().any(|p| p.peer_id == peer_id) {
            return Err("already connected to this peer id");
        }
        if st.peers.len() >= self.max_peers {
            return Err("too many peers");
        }
        let key = st.next_key;
        st.next_key += 1;
        let counters = st.counters.entry(peer_id).or_default().clone();
        let (down, up) = (
            counters.down.load(Ordering::Relaxed),
            counters.up.load(Ordering::Relaxed),
        );
        let now = Instant::now();
        st.peers.insert(
            key,
            PeerEntry {
                addr,
                peer_id,
                interested: false,
                unchoked: false,
                we_interested: false,
                bad_pieces: 0,
                tx,
                counters: counters.clone(),
                last_down: down,
                last_up: up,
                connected_at: now,
                last_block: now,
            },
        );
        Ok((key, counters))
    }

    /// Removes a connection: its requests are released, its pieces no longer counted.
    pub fn unregister(&self, key: PeerKey, peer_has: &Bitfield, requests: &[(u32, u32, u32)]) {
        let mut st = self.lock();
        self.release_locked(&mut st, key, requests);
        for i in (0..peer_has.len()).filter(|&i| peer_has.has(i)) {
            st.availability[i] = st.availability[i].saturating_sub(1);
        }
        st.refused.remove(&key);
        st.regular.retain(|&k| k != key);
        if st.optimistic == Some(key) {
            st.optimistic = None;
        }
        if let Some(p) = st.peers.remove(&key) {
            st.dialed.remove(&p.addr);
        }
    }

    /// A peer announced a piece (`have`): one more neighbour has it.
    pub fn peer_has(&self, i: usize) {
        self.lock().availability[i] += 1;
    }

    /// A peer sent its whole bitmap, replacing `old`.
    pub fn peer_bitfield(&self, old: &Bitfield, new: &Bitfield) {
        let mut st = self.lock();
        for i in 0..new.len() {
            match (old.has(i), new.has(i)) {
                (false, true) => st.availability[i] += 1,
                (true, false) => st.availability[i] = st.availability[i].saturating_sub(1),
                _ => {}
            }
        }
    }

    /// The verifier's decision on one finished piece: keep it or throw it away.
    pub fn verify_one(&self, f: Finished) {
        let ok = self.storage.verify(f.index, &f.data);
        let written = ok && {
            match self.storage.write_piece(f.index, &f.data) {
                Ok(()) => true,
                Err(e) => {
                    warn!("cannot write piece {}: {e}", f.index);
                    false
                }
            }
        };
        let _ = self.pool_tx.send(f.data);
        let mut st = self.lock();
        if written {
            self.have[f.index].store(true, Ordering::Release);
            st.pieces[f.index] = PieceState::Have;
            st.have_count += 1;
            for p in st.peers.values() {
                let _ = p.tx.send(Cmd::Have(f.index as u32));
            }
            if st.have_count == self.num_pieces() {
                drop(st);
                if let Err(e) = self.storage.finish() {
                    warn!("all pieces verified, but the files keep their .part names: {e}");
                }
                let _ = self.completed_at.set(Instant::now());
                info!(
                    "download complete: all {} pieces verified",
                    self.num_pieces()
                );
                *self.complete.lock().unwrap_or_else(|p| p.into_inner()) = true;
                self.complete_cv.notify_all();
                let _ = self.completed_tx.send(());
                self.emit(NodeEvent::Completed);
            }
            return;
        }
        st.pieces[f.index] = PieceState::Missing;
        if ok {
            return; // a disk error: the piece will simply be fetched again
        }
        // Blame only a peer that sent the whole piece alone: in a piece two peers
        // filled (endgame, a choke mid-piece) we cannot tell who lied, so it is
        // simply fetched again and the liar is caught on one of its own pieces.
        let [from] = f.from[..] else {
            warn!("piece {} failed its SHA-1 check (several senders)", f.index);
            return;
        };
        st.refused.entry(from).or_default().push(f.index);
        if let Some(p) = st.peers.get_mut(&from) {
            p.bad_pieces += 1;
            warn!(
                "piece {} from {} failed its SHA-1 check ({} bad so far)",
                f.index, p.addr, p.bad_pieces
            );
            if p.bad_pieces >= MAX_BAD_PIECES {
                let (addr, id) = (p.addr, p.peer_id);
                let _ = p.tx.send(Cmd::Drop("sent too many bad pieces"));
                st.banned.insert(addr);
                st.banned_ids.insert(id);
            }
        }
    }
}
