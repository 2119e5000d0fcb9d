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
//! | `mod.rs` | [`Client`]: the public handle, stop |
//! | `start.rs` | [`Client::start`]: open the files, bind, accept, start the threads |
//! | `api.rs` | [`ClientConfig`], [`Progress`], [`PeerStats`], [`NodeEvent`], [`download_paths`], the commands the coordinator takes |
//! | `coordinator.rs` | the thread that owns the state and decides |
//! | `download.rs` | the coordinator's download side: which blocks to request, what a verdict changes |
//! | `verify.rs` | the thread that checks finished pieces' SHA-1 and writes them |
//! | `announcer.rs` | the thread that announces to the tracker |

pub mod announcer;
pub mod api;
pub mod coordinator;
mod download;
mod start;
pub mod verify;

pub use api::{
    download_paths, new_peer_id, seed_paths, ClientConfig, NodeEvent, PeerStats, Progress,
    PIPELINE, VERIFY_QUEUE,
};

use crate::bittorrent::conn::{self, Ctx, HANDSHAKE_TIMEOUT};
use crate::bittorrent::msg::bitfield::Bitfield;
use crate::bittorrent::msg::handshake::PeerId;
use crate::bittorrent::utp_reset::UtpReset;
use crate::net::{Conns, Server};
use api::{Cmd, Published};
use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
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
            left: announcer::left(&self.ctx),
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
        for i in (0..b.len()).filter(|&i| self.ctx.ours.has(i)) {
            b.set(i);
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
            _ => self.ctx.ours.is_complete(),
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
