//! What one node knows, shared by its threads: the pieces, the peers, the counters.
//!
//! One lock (`Shared::state`) guards the piece table and the peer table, and it is
//! only ever held for a few lookups, never across a read, a write or a hash. What the
//! upload path checks per request (do we have piece i?) is an atomic, so uploading
//! takes no lock at all. Decisions reach a connection thread as a [`Cmd`] on its channel.

use super::bitfield::Bitfield;
use super::choker::{choose_unchoked, PeerView};
use super::handshake::PeerId;
use super::metainfo::{InfoHash, Metainfo};
use super::picker::PieceState;
use super::storage::Storage;
use crossbeam_channel::{Receiver, Sender};
use log::{info, warn};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

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
    Unchoke,
    /// Hang up, for this reason.
    Drop(&'static str),
}

pub(crate) struct PeerEntry {
    pub addr: SocketAddr,
    pub peer_id: PeerId,
    pub interested: bool,
    pub unchoked: bool,
    pub bad_pieces: u32,
    pub tx: Sender<Cmd>,
}

pub(crate) struct State {
    pub pieces: Vec<PieceState>,
    /// Pieces each peer sent us wrong: the picker asks someone else for them.
    pub refused: HashMap<PeerKey, Vec<usize>>,
    pub peers: BTreeMap<PeerKey, PeerEntry>,
    pub next_key: PeerKey,
    /// Addresses we are connected or connecting to, or must not call again.
    pub dialed: HashSet<SocketAddr>,
    pub banned: HashSet<SocketAddr>,
    pub banned_ids: HashSet<PeerId>,
    pub have_count: usize,
}

/// A piece whose blocks have all arrived, on its way to the verifier.
pub(crate) struct Finished {
    pub index: usize,
    pub data: Vec<u8>,
    pub from: PeerKey,
}

pub(crate) struct Shared {
    pub meta: Metainfo,
    pub peer_id: PeerId,
    /// Set once the listening socket is bound.
    pub listen: std::sync::OnceLock<SocketAddr>,
    pub storage: Storage,
    pub have: Vec<AtomicBool>,
    pub state: Mutex<State>,
    pub pipeline: usize,
    pub upload_slots: usize,
    pub max_peers: usize,
    pub downloaded: AtomicU64,
    pub uploaded: AtomicU64,
    pub verify_tx: Sender<Finished>,
    /// Piece buffers handed back by the verifier, reused instead of allocated.
    pub pool_tx: Sender<Vec<u8>>,
    pub pool_rx: Receiver<Vec<u8>>,
    pub complete: Mutex<bool>,
    pub complete_cv: Condvar,
    /// Wakes the announcer when the download completes.
    pub completed_tx: Sender<()>,
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
    ) -> Result<PeerKey, &'static str> {
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
        st.peers.insert(
            key,
            PeerEntry {
                addr,
                peer_id,
                interested: false,
                unchoked: false,
                bad_pieces: 0,
                tx,
            },
        );
        Ok(key)
    }

    /// Removes a connection; its unfinished pieces become fetchable again.
    pub fn unregister(&self, key: PeerKey, in_flight: &[usize]) {
        let mut st = self.lock();
        for &i in in_flight {
            if st.pieces[i] == PieceState::InFlight {
                st.pieces[i] = PieceState::Missing;
            }
        }
        st.refused.remove(&key);
        if let Some(p) = st.peers.remove(&key) {
            st.dialed.remove(&p.addr);
        }
        self.rechoke(&mut st);
    }

    /// Runs the choker and sends Choke/Unchoke to the peers whose state changes.
    pub fn rechoke(&self, st: &mut State) {
        let views: Vec<PeerView> = st
            .peers
            .iter()
            .map(|(&key, p)| PeerView {
                key,
                interested: p.interested,
            })
            .collect();
        let unchoke = choose_unchoked(&views, self.upload_slots);
        for (key, p) in st.peers.iter_mut() {
            let want = unchoke.contains(key);
            if want != p.unchoked {
                p.unchoked = want;
                let _ = p.tx.send(if want { Cmd::Unchoke } else { Cmd::Choke });
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
                info!(
                    "download complete: all {} pieces verified",
                    self.num_pieces()
                );
                *self.complete.lock().unwrap_or_else(|p| p.into_inner()) = true;
                self.complete_cv.notify_all();
                let _ = self.completed_tx.send(());
            }
            return;
        }
        st.pieces[f.index] = PieceState::Missing;
        if ok {
            return; // a disk error: the piece will simply be fetched again
        }
        st.refused.entry(f.from).or_default().push(f.index);
        if let Some(p) = st.peers.get_mut(&f.from) {
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
