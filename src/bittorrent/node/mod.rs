//! A BitTorrent node: one torrent, a listening socket, its peers, a coordinator, a
//! verifier and an announcer. The same node downloads and uploads: a seed is a node
//! that has it all.
//!
//! ```text
//!   bt-accept ─┐                                  ┌─► bt-verify (SHA-1, write) ─┐
//!   connect() ─┴─► bt-peer-ADDR / bt-send-ADDR ◄──┤                             │
//!                   (×N, read / write)            └── bt-coord ◄── verdicts ────┘
//!   bt-announce: started ─► peers ─► the coordinator calls some ... completed ... stopped
//! ```
//! | file | what |
//! |---|---|
//! | `mod.rs` | [`Client`]: start (bind, accept), the public handle, stop |
//! | `api.rs` | [`ClientConfig`], [`Progress`], [`PeerStats`], [`NodeEvent`], [`download_paths`], the commands the coordinator takes |
//! | `coordinator.rs` | the thread that owns the state and decides |
//! | `verify.rs` | the thread that checks finished pieces' SHA-1 and writes them |
//! | `announcer.rs` | the thread that announces to the tracker |

pub mod announcer;
pub mod api;
pub mod coordinator;
pub mod verify;

pub use api::{
    download_paths, new_peer_id, seed_paths, ClientConfig, NodeEvent, PeerStats, Progress,
    PIPELINE, VERIFY_QUEUE,
};

use crate::bittorrent::conn::{self, Ctx, EVENT_QUEUE, HANDSHAKE_TIMEOUT};
use crate::bittorrent::metainfo::Metainfo;
use crate::bittorrent::msg::bitfield::Bitfield;
use crate::bittorrent::msg::handshake::PeerId;
use crate::bittorrent::state::pieces::Pieces;
use crate::bittorrent::state::State;
use crate::bittorrent::storage::Storage;
use crate::bittorrent::utp_reset::UtpReset;
use crate::net::{Conns, Server, ServerConfig, TokenBucket};
use crate::rng::Rng;
use announcer::Announcer;
use api::Published;
use api::{Cmd, Inputs};
use coordinator::Coordinator;
use crossbeam_channel::{bounded, unbounded, Receiver, RecvTimeoutError, Sender};
use log::{info, warn};
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// A running node; dropping it stops it.
pub struct Client {
    ctx: Arc<Ctx>,
    published: Arc<Published>,
    cmds: Sender<Cmd>,
    server: Server,
    /// The listening port's UDP twin: uTP-first clients learn at once to use TCP.
    utp_reset: Option<UtpReset>,
    conns: Conns,
    stop_tx: Option<Sender<()>>,
    /// Disconnected when the download completes (or the node stops).
    done: Receiver<()>,
    silent: Arc<AtomicBool>,
    total: u64,
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
        let peer_id = cfg.peer_id.unwrap_or_else(new_peer_id);
        let seed = cfg.rng_seed.unwrap_or_else(|| {
            peer_id
                .iter()
                .fold(0u64, |h, &b| h.rotate_left(8) ^ b as u64)
        });
        let (total, n) = (meta.info.total_length(), meta.info.num_pieces());
        // The picker, the choker and the dialer each draw from a stream of their own,
        // so that a rechoke timed differently cannot change which pieces are picked.
        let pieces = Pieces::new(
            &have,
            meta.info.piece_length,
            total,
            cfg.picker,
            Rng::new(seed),
        );
        let st = State::new(
            pieces,
            Rng::new(seed ^ 0xC0C0_C0C0),
            Rng::new(seed ^ 0xD1A1_D1A1),
        );
        let have_count = st.pieces.have_count;
        info!(
            "{}: {have_count} of {n} pieces already verified on disk",
            meta.info.name
        );
        let (events_tx, events) = bounded(EVENT_QUEUE);
        let (stop_tx, stop) = bounded::<()>(0);
        let conns = Conns::new();
        let ctx = Arc::new(Ctx {
            info_hash: meta.info_hash,
            peer_id,
            storage,
            upload_bucket: cfg.upload_rate.map(TokenBucket::new),
            download_bucket: cfg.download_rate.map(TokenBucket::new),
            uploaded: AtomicU64::new(0),
            downloaded: AtomicU64::new(0),
            corrupt: cfg.corrupt,
            events: events_tx,
            next_key: AtomicU64::new(0),
            conns: conns.clone(),
            stop: stop.clone(),
        });
        let published = Arc::new(Published {
            have: have.iter().map(|&h| AtomicBool::new(h)).collect(),
            have_count: AtomicUsize::new(have_count),
            peers: AtomicUsize::new(0),
            complete: AtomicBool::new(have_count == n),
            completed_at: OnceLock::new(),
            final_stats: OnceLock::new(),
        });
        let mut sc = ServerConfig::new("bt");
        sc.max_conns = cfg.max_peers;
        sc.read_timeout = Some(HANDSHAKE_TIMEOUT);
        let c = ctx.clone();
        let server = Server::bind_with(cfg.listen.as_str(), sc, conns.clone(), move |stream| {
            conn::serve(c.clone(), stream, false)
        })?;
        let listen = server.local_addr();
        // Without it a real client waits seconds for uTP before trying TCP; a node that
        // cannot bind UDP still serves TCP, so this is worth a warning, not an error.
        let utp_reset = UtpReset::start(listen)
            .map_err(|e| warn!("no uTP reset on udp {listen}: {e}"))
            .ok();
        let (verify_tx, verify_rx) = unbounded();
        let (verdict_tx, verdicts) = unbounded();
        let (cmds_tx, cmds) = unbounded();
        let (done_tx, done) = bounded::<()>(0);
        let (completed_tx, completed_rx) = unbounded();
        let c = ctx.clone();
        conns.spawn_worker("bt-verify".into(), move || {
            verify::verifier(&c, &verify_rx, &verdict_tx)
        })?;
        let silent = Arc::new(AtomicBool::new(false));
        if cfg.use_tracker && meta.announce.is_some() {
            let a = Announcer {
                ctx: ctx.clone(),
                published: published.clone(),
                url: meta.announce.clone().unwrap_or_default(),
                listen,
                want: cfg.neighbours.max(1).min(cfg.max_peers),
                time_scale: cfg.scale(),
                cmds: cmds_tx.clone(),
                silent: silent.clone(),
            };
            let stop = stop.clone();
            conns.spawn_worker("bt-announce".into(), move || a.run(&completed_rx, &stop))?;
        }
        let coordinator = Coordinator {
            ctx: ctx.clone(),
            st,
            cfg,
            published: published.clone(),
            verify_tx,
            verifying: 0,
            done_tx: Some(done_tx),
            completed_tx,
            refill: false,
        };
        let inputs = Inputs {
            events,
            cmds,
            verdicts,
            stop,
        };
        conns.spawn_worker("bt-coord".into(), move || coordinator.run(inputs))?;
        Ok(Client {
            ctx,
            published,
            cmds: cmds_tx,
            server,
            utp_reset,
            conns,
            stop_tx: Some(stop_tx),
            done,
            silent,
            total,
        })
    }

    /// Where peers reach this node.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    pub fn peer_id(&self) -> PeerId {
        self.ctx.peer_id
    }

    /// Calls a peer (one found by hand, or given by the tracker). Does nothing for a
    /// peer already connected or dropped for bad pieces.
    pub fn connect(&self, addr: SocketAddr) -> io::Result<()> {
        let (tx, rx) = bounded(1);
        let stopped = || io::Error::new(io::ErrorKind::NotConnected, "node is stopping");
        self.cmds
            .send(Cmd::MayDial(addr, tx))
            .map_err(|_| stopped())?;
        if !rx.recv_timeout(HANDSHAKE_TIMEOUT).map_err(|_| stopped())? {
            return Ok(());
        }
        conn::call(&self.ctx, addr).inspect_err(|_| {
            let _ = self.cmds.send(Cmd::Undial(addr));
        })
    }

    pub fn progress(&self) -> Progress {
        let p = &self.published;
        let pieces = p.have_count.load(Ordering::Acquire);
        Progress {
            pieces,
            total_pieces: self.ctx.num_pieces(),
            left: announcer::left(&self.ctx, p),
            total: self.total,
            downloaded: self.ctx.downloaded.load(Ordering::Relaxed),
            uploaded: self.ctx.uploaded.load(Ordering::Relaxed),
            peers: p.peers.load(Ordering::Relaxed),
            complete: pieces == self.ctx.num_pieces(),
        }
    }

    /// When the last piece was verified (None: not yet, or complete from the start).
    pub fn completed_at(&self) -> Option<Instant> {
        self.published.completed_at.get().copied()
    }

    /// This node's bitmap (位图): which pieces it has verified.
    pub fn bitfield(&self) -> Bitfield {
        let mut b = Bitfield::new(self.ctx.num_pieces());
        for (i, h) in self.published.have.iter().enumerate() {
            if h.load(Ordering::Acquire) {
                b.set(i);
            }
        }
        b
    }

    /// Bytes exchanged with every peer this node has talked to.
    pub fn peer_stats(&self) -> Vec<PeerStats> {
        if let Some(s) = self.published.final_stats.get() {
            return s.clone();
        }
        let (tx, rx) = bounded(1);
        if self.cmds.send(Cmd::PeerStats(tx)).is_ok() {
            if let Ok(s) = rx.recv_timeout(Duration::from_secs(10)) {
                return s;
            }
        }
        self.published
            .final_stats
            .get()
            .cloned()
            .unwrap_or_default()
    }

    /// Throws away the tokens this node's rate limits saved while it sat idle, so a
    /// measurement that starts its clock now is never helped by them.
    pub fn empty_buckets(&self) {
        for b in [&self.ctx.upload_bucket, &self.ctx.download_bucket]
            .into_iter()
            .flatten()
        {
            b.empty();
        }
    }

    /// Stops like a crash: no `stopped` to the tracker, connections just close.
    pub fn kill(&mut self) {
        self.silent.store(true, Ordering::Relaxed);
        self.stop();
    }

    /// Waits until every piece is verified; `false` when `limit` passes first.
    pub fn wait_complete(&self, limit: Duration) -> bool {
        match self.done.recv_timeout(limit) {
            Err(RecvTimeoutError::Timeout) => false,
            _ => self.published.complete.load(Ordering::Acquire),
        }
    }

    /// Announces `stopped`, closes every connection and joins every thread.
    pub fn stop(&mut self) {
        self.stop_tx.take(); // wakes the coordinator and the announcer
        self.server.stop();
        if let Some(mut u) = self.utp_reset.take() {
            u.stop();
        }
        self.conns.shutdown_all();
        self.conns.join_all();
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.stop();
    }
}
