//! A BitTorrent node: one torrent, a listening socket, its peers, a verifier and an
//! announcer. The same node downloads and uploads: a seed is a node that has it all.
//!
//! ```text
//!   bt-accept ─┐                          ┌─► bt-verify  (SHA-1, write, have to all)
//!   connect() ─┴─► bt-peer-<addr> (×N) ───┘
//!   bt-announce: started ─► peers ─► connect() ... completed ... stopped
//!   bt-choke:    every 10 s (× time_scale) rank the peers, unchoke 4 + 1 optimistic
//! ```

use super::choker::ChokePolicy;
use super::handshake::PeerId;
use super::metainfo::Metainfo;
use super::peer;
use super::picker::{PickPolicy, PieceState};
use super::state::{Finished, NodeEvent, Policy, Shared, State};
use super::storage::Storage;
use crate::net::{Conns, Server, ServerConfig, TokenBucket};
use crate::rng::Rng;
use crossbeam_channel::{bounded, select, unbounded, Receiver, Sender};
use log::info;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Block requests kept outstanding per peer: 64 × 16 KiB = 1 MiB in flight, enough
/// to keep a loopback connection busy while the other side answers.
pub const PIPELINE: usize = 64;
/// Finished pieces waiting for the verifier; peers wait when it is this far behind.
pub const VERIFY_QUEUE: usize = 8;

/// How a node runs.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Where peers reach us (port 0 picks one).
    pub listen: String,
    pub pipeline: usize,
    pub upload_slots: usize,
    pub max_peers: usize,
    /// Talk to the torrent's tracker (off in tests that connect peers directly).
    pub use_tracker: bool,
    /// Fixed peer id (tests); random `-PL0001-…` otherwise.
    pub peer_id: Option<PeerId>,
    /// Peers we call from the tracker's list (a random subset); below this many we
    /// ask the tracker again soon, to replace neighbours that left.
    pub neighbours: usize,
    pub picker: PickPolicy,
    pub choker: ChokePolicy,
    /// Multiplies the notes' periods (rechoke 10 s, optimistic 30 s, snub 30 s):
    /// 0.1 runs the same algorithm ten times faster. Byte rates are not scaled.
    pub time_scale: f64,
    /// Upload capacity u_i in bytes/s, shared by all connections (None: unlimited).
    pub upload_rate: Option<u64>,
    /// Download capacity d_i in bytes/s (None: unlimited).
    pub download_rate: Option<u64>,
    /// Never unchoke anybody: a free-rider.
    pub free_rider: bool,
    /// Send one wrong byte in every block: a corrupt peer (tests, labs).
    pub corrupt: bool,
    /// Seed of this node's random choices (None: from the peer id).
    pub rng_seed: Option<u64>,
    /// Where to report picks, rechokes and completion (labs, tests).
    pub events: Option<Sender<(PeerId, NodeEvent)>>,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            listen: "127.0.0.1:0".into(),
            pipeline: PIPELINE,
            upload_slots: super::choker::UPLOAD_SLOTS,
            max_peers: 50,
            use_tracker: true,
            peer_id: None,
            neighbours: 30,
            picker: PickPolicy::RarestFirst,
            choker: ChokePolicy::TitForTat,
            time_scale: 1.0,
            upload_rate: None,
            download_rate: None,
            free_rider: false,
            corrupt: false,
            rng_seed: None,
            events: None,
        }
    }
}

/// Where a download stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub pieces: usize,
    pub total_pieces: usize,
    pub left: u64,
    pub total: u64,
    pub downloaded: u64,
    pub uploaded: u64,
    pub peers: usize,
    pub complete: bool,
}

/// What this node exchanged with one remote peer (by peer id, over all connections).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerStats {
    pub peer_id: PeerId,
    /// Piece bytes it sent us.
    pub down: u64,
    /// Piece bytes we sent it ...
    pub up: u64,
    /// ... of which in our optimistic slot,
    pub up_optimistic: u64,
    /// ... of which in a regular slot while we were still downloading.
    pub up_regular_leeching: u64,
    pub connected: bool,
    /// Dropped for bad pieces and not to be called again.
    pub banned: bool,
}

/// Files of a download under `dir`: `dir/name` or `dir/name/…`.
pub fn download_paths(meta: &Metainfo, dir: &Path) -> Vec<PathBuf> {
    meta.info.file_paths(dir)
}

/// Files of a seed's data: the file itself, or inside the folder given.
pub fn seed_paths(meta: &Metainfo, data: &Path) -> Vec<PathBuf> {
    if meta.info.multi_file {
        meta.info
            .files
            .iter()
            .map(|f| f.path.iter().fold(data.to_path_buf(), |p, c| p.join(c)))
            .collect()
    } else {
        vec![data.to_path_buf()]
    }
}

/// A random peer id in the BEP 20 style: `-PL0001-` and 12 random characters.
pub fn new_peer_id() -> PeerId {
    let mut x = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        ^ ((std::process::id() as u64) << 32)
        | 1;
    let mut id = *b"-PL0001-000000000000";
    for b in &mut id[8..] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = b"0123456789abcdefghijklmnopqrstuvwxyz"[(x % 36) as usize];
    }
    id
}

/// A running node; dropping it stops it.
pub struct Client {
    shared: Arc<Shared>,
    server: Server,
    conns: Conns,
    stop_tx: Option<Sender<()>>,
}

impl Client {
    /// Opens the torrent's files at `paths` (`writable`: a download), checks what is
    /// already there (resume), listens, and announces to the tracker.
    pub fn start(
        meta: Metainfo,
        paths: &[PathBuf],
        writable: bool,
        cfg: ClientConfig,
    ) -> io::Result<Client> {
        let storage = Storage::open(&meta.info, paths, writable)?;
        let have = storage.check_existing()?;
        let have_count = have.iter().filter(|&&h| h).count();
        let pieces = have
            .iter()
            .map(|&h| {
                if h {
                    PieceState::Have
                } else {
                    PieceState::Missing
                }
            })
            .collect();
        let (verify_tx, verify_rx) = bounded(VERIFY_QUEUE);
        let (pool_tx, pool_rx) = unbounded();
        let (completed_tx, completed_rx) = unbounded();
        let (stop_tx, stop_rx) = bounded::<()>(0);
        let conns = Conns::new();
        let peer_id = cfg.peer_id.unwrap_or_else(new_peer_id);
        let rng_seed = cfg.rng_seed.unwrap_or_else(|| {
            peer_id
                .iter()
                .fold(0u64, |h, &b| h.rotate_left(8) ^ b as u64)
        });
        let n = meta.info.num_pieces();
        let shared = Arc::new(Shared {
            peer_id,
            listen: OnceLock::new(),
            storage,
            have: have.iter().map(|&h| AtomicBool::new(h)).collect(),
            state: Mutex::new(State {
                pieces,
                availability: vec![0; n],
                partials: BTreeMap::new(),
                refused: HashMap::new(),
                peers: BTreeMap::new(),
                next_key: 0,
                dialed: HashSet::new(),
                banned: HashSet::new(),
                banned_ids: HashSet::new(),
                have_count,
                counters: HashMap::new(),
                regular: Vec::new(),
                optimistic: None,
                last_rechoke: Instant::now(),
                rng: Rng::new(rng_seed),
                choke_rng: Rng::new(rng_seed ^ 0xC0C0_C0C0),
                dial_rng: Rng::new(rng_seed ^ 0xD1A1_D1A1),
            }),
            pipeline: cfg.pipeline.max(1),
            upload_slots: cfg.upload_slots,
            max_peers: cfg.max_peers,
            policy: Policy {
                pick: cfg.picker,
                choke: cfg.choker,
                time_scale: if cfg.time_scale > 0.0 {
                    cfg.time_scale
                } else {
                    1.0
                },
                neighbours: cfg.neighbours.max(1),
                free_rider: cfg.free_rider,
                corrupt: cfg.corrupt,
            },
            upload_bucket: cfg.upload_rate.map(TokenBucket::new),
            download_bucket: cfg.download_rate.map(TokenBucket::new),
            downloaded: Default::default(),
            uploaded: Default::default(),
            verify_tx,
            pool_tx,
            pool_rx,
            complete: Mutex::new(have_count == meta.info.num_pieces()),
            complete_cv: Condvar::new(),
            completed_at: OnceLock::new(),
            completed_tx,
            silent: AtomicBool::new(false),
            events: cfg.events.clone(),
            meta,
        });
        info!(
            "{}: {have_count} of {} pieces already verified on disk",
            shared.meta.info.name,
            shared.num_pieces()
        );
        let mut sc = ServerConfig::new("bt");
        sc.max_conns = cfg.max_peers;
        sc.read_timeout = Some(peer::HANDSHAKE_TIMEOUT);
        let s = shared.clone();
        let server = Server::bind_with(cfg.listen.as_str(), sc, conns.clone(), move |stream| {
            peer::serve(s.clone(), stream, false)
        })?;
        let _ = shared.listen.set(server.local_addr());
        let s = shared.clone();
        let stop = stop_rx.clone();
        conns.spawn_worker("bt-verify".into(), move || verifier(&s, &verify_rx, &stop))?;
        let (s, stop) = (shared.clone(), stop_rx.clone());
        conns.spawn_worker("bt-choke".into(), move || {
            super::choking::choker_thread(&s, &stop)
        })?;
        if cfg.use_tracker && shared.meta.announce.is_some() {
            let (s, c) = (shared.clone(), conns.clone());
            conns.spawn_worker("bt-announce".into(), move || {
                super::announcer::announcer(&s, &c, &completed_rx, &stop_rx)
            })?;
        }
        Ok(Client {
            shared,
            server,
            conns,
            stop_tx: Some(stop_tx),
        })
    }

    /// Where peers reach this node.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    pub fn peer_id(&self) -> PeerId {
        self.shared.peer_id
    }

    /// Calls a peer (one found by hand, or given by the tracker).
    pub fn connect(&self, addr: SocketAddr) -> io::Result<()> {
        dial(&self.shared, &self.conns, addr)
    }

    pub fn progress(&self) -> Progress {
        let left = self.shared.left();
        let st = self.shared.lock();
        Progress {
            pieces: st.have_count,
            total_pieces: self.shared.num_pieces(),
            left,
            total: self.shared.meta.info.total_length(),
            downloaded: self.shared.downloaded.load(Ordering::Relaxed),
            uploaded: self.shared.uploaded.load(Ordering::Relaxed),
            peers: st.peers.len(),
            complete: st.have_count == self.shared.num_pieces(),
        }
    }

    /// When the last piece was verified (None: not yet, or complete from the start).
    pub fn completed_at(&self) -> Option<Instant> {
        self.shared.completed_at.get().copied()
    }

    /// This node's bitmap (位图): which pieces it has verified.
    pub fn bitfield(&self) -> super::bitfield::Bitfield {
        self.shared.bitfield()
    }

    /// Bytes exchanged with every peer this node has talked to.
    pub fn peer_stats(&self) -> Vec<PeerStats> {
        let st = self.shared.lock();
        let mut out: Vec<PeerStats> = st
            .counters
            .iter()
            .map(|(id, c)| PeerStats {
                peer_id: *id,
                down: c.down.load(Ordering::Relaxed),
                up: c.up.load(Ordering::Relaxed),
                up_optimistic: c.up_optimistic.load(Ordering::Relaxed),
                up_regular_leeching: c.up_regular_leeching.load(Ordering::Relaxed),
                connected: st.peers.values().any(|p| p.peer_id == *id),
                banned: st.banned_ids.contains(id),
            })
            .collect();
        out.sort_by_key(|s| s.peer_id);
        out
    }

    /// Throws away the tokens this node's rate limits saved while it sat idle, so a
    /// measurement that starts its clock now is never helped by them.
    pub fn empty_buckets(&self) {
        for b in [&self.shared.upload_bucket, &self.shared.download_bucket]
            .into_iter()
            .flatten()
        {
            b.empty();
        }
    }

    /// Stops like a crash: no `stopped` to the tracker, connections just close.
    pub fn kill(&mut self) {
        self.shared.silent.store(true, Ordering::Relaxed);
        self.stop();
    }

    /// Waits until every piece is verified; `false` when `limit` passes first.
    pub fn wait_complete(&self, limit: Duration) -> bool {
        let end = Instant::now() + limit;
        let mut done = self
            .shared
            .complete
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        while !*done {
            let now = Instant::now();
            if now >= end {
                return false;
            }
            done = self
                .shared
                .complete_cv
                .wait_timeout(done, end - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }

    /// Announces `stopped`, closes every connection and joins every thread.
    pub fn stop(&mut self) {
        self.stop_tx.take(); // wakes the verifier and the announcer
        self.server.stop();
        self.conns.shutdown_all();
        self.conns.join_all();
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.stop();
    }
}

pub(super) fn dial(shared: &Arc<Shared>, conns: &Conns, addr: SocketAddr) -> io::Result<()> {
    {
        let mut st = shared.lock();
        if st.banned.contains(&addr) || !st.dialed.insert(addr) {
            return Ok(()); // already connected, or dropped for bad pieces
        }
    }
    let stream = match crate::net::connect(addr, Some(peer::HANDSHAKE_TIMEOUT)) {
        Ok(s) => s,
        Err(e) => {
            shared.lock().dialed.remove(&addr);
            return Err(e);
        }
    };
    let s = shared.clone();
    conns.spawn(format!("bt-peer-{addr}"), stream, move |stream| {
        let r = peer::serve(s.clone(), stream, true);
        s.lock().dialed.remove(&addr);
        r
    })
}

/// Hashes finished pieces off the connection threads, writes the good ones.
fn verifier(shared: &Shared, rx: &Receiver<Finished>, stop: &Receiver<()>) {
    loop {
        select! {
            recv(rx) -> f => match f {
                Ok(f) => shared.verify_one(f),
                Err(_) => return,
            },
            recv(stop) -> _ => return,
        }
    }
}
