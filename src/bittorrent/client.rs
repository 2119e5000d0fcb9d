//! A BitTorrent node: one torrent, a listening socket, its peers, a verifier and an
//! announcer. The same node downloads and uploads: a seed is a node that has it all.
//!
//! ```text
//!   bt-accept ─┐                          ┌─► bt-verify  (SHA-1, write, have to all)
//!   connect() ─┴─► bt-peer-<addr> (×N) ───┘
//!   bt-announce: started ─► peers ─► connect() ... completed ... stopped
//! ```

use super::handshake::PeerId;
use super::metainfo::Metainfo;
use super::peer;
use super::picker::PieceState;
use super::state::{Finished, Shared, State};
use super::storage::Storage;
use crate::net::{Conns, Server, ServerConfig};
use crossbeam_channel::{bounded, select, unbounded, Receiver, Sender};
use log::info;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
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
        let shared = Arc::new(Shared {
            peer_id: cfg.peer_id.unwrap_or_else(new_peer_id),
            listen: std::sync::OnceLock::new(),
            storage,
            have: have.iter().map(|&h| AtomicBool::new(h)).collect(),
            state: Mutex::new(State {
                pieces,
                refused: HashMap::new(),
                peers: BTreeMap::new(),
                next_key: 0,
                dialed: HashSet::new(),
                banned: HashSet::new(),
                banned_ids: HashSet::new(),
                have_count,
            }),
            pipeline: cfg.pipeline.max(1),
            upload_slots: cfg.upload_slots,
            max_peers: cfg.max_peers,
            downloaded: Default::default(),
            uploaded: Default::default(),
            verify_tx,
            pool_tx,
            pool_rx,
            complete: Mutex::new(have_count == meta.info.num_pieces()),
            complete_cv: Condvar::new(),
            completed_tx,
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
