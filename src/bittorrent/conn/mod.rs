//! One peer connection: the handshake, then a reader thread and a writer thread.
//!
//! ```text
//!   socket ──read──► bt-peer-ADDR  (decode, check)  ──Event::Msgs──► coordinator
//!   socket ◄─write── bt-send-ADDR  (blocks from disk) ◄──Out (bounded)── coordinator
//! ```
//! | file | what |
//! |---|---|
//! | `mod.rs` | the handshake, the events and the writer's queue, calling a peer |
//! | `reader.rs` | bytes → checked messages → one event per read to the coordinator (a `cancel` goes to the writer) |
//! | `writer.rs` | the bounded queue → bytes; answers `Serve` by reading the block from disk |
//! | `inbuf.rs` | the receive buffer: read big, parse in place |
//! | `pool.rs` | received block buffers, recycled from the verifier back to the readers |
//!
//! Neither thread decides anything. The reader checks what is *well-formed* (a block
//! that fits its piece, a bitfield of the right length) and drops a peer that sends
//! garbage; whether to answer a request, what to ask for, whom to choke is the
//! coordinator's (`src/bittorrent/node/coordinator.rs`).
//!
//! The block data stays on the connection threads, for speed (`bench-bittorrent`): a
//! received block is read once into its own buffer, which is *moved* (not copied)
//! through the coordinator to the verifier; a block we send is read from disk by the
//! writer straight into its send buffer. The coordinator only sees "request (i, b, len)"
//! and "serve (i, b, len)", so a 16 KiB block costs it a few map lookups.

mod inbuf;
pub mod pool;
mod reader;
mod writer;

use super::metainfo::InfoHash;
use super::msg::bitfield::Bitfield;
use super::msg::handshake::{Handshake, PeerId};
use super::storage::Storage;
use crate::net::{ConnResult, Conns, TokenBucket};
use crossbeam_channel::{bounded, Receiver, Sender};
use log::debug;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The handshake must complete within this time (aria2c retries in plaintext ~1 s
/// after we refuse its encrypted handshake, on a new connection).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// A peer silent this long is dropped (BEP 3 peers send keep-alives every 2 minutes).
pub const PEER_TIMEOUT: Duration = Duration::from_secs(180);
/// We send a keep-alive after this long without sending anything.
pub const KEEPALIVE_EVERY: Duration = Duration::from_secs(90);
/// A peer that does not read what we send for this long is dropped.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Bytes read from the socket at once, beyond room for one whole message.
pub const RECV_BUF: usize = 256 * 1024;
/// The writer sends when this much is waiting (or when its queue is empty).
pub const SEND_FLUSH: usize = 256 * 1024;
/// Requests a peer may have queued at us; more is abuse. It is also the size of the
/// writer's queue (with room for our own messages): a peer whose queue is full is
/// dropped by the coordinator, never waited for.
pub const MAX_QUEUED_REQUESTS: usize = 1024;
/// The writer's bounded queue: queued requests plus our own haves and requests.
pub const OUT_QUEUE: usize = MAX_QUEUED_REQUESTS + 256;
/// Events from all connections waiting for the coordinator; a reader waits when full.
pub const EVENT_QUEUE: usize = 1024;

/// Connections are numbered in the order they were made.
pub type PeerKey = u64;

/// A block request: piece index, offset, length.
pub type Request = (u32, u32, u32);

/// Byte counters of one remote peer, kept by peer id after it disconnects. The
/// writer and the coordinator add to them; the coordinator reads rates from them.
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

/// Which of our upload slots a block is sent in (bytes are counted per kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Optimistic,
    RegularLeeching,
    RegularSeeding,
}

/// What the coordinator hands a writer.
#[derive(Debug)]
pub enum Out {
    /// Encoded messages (have, choke, unchoke, interested, requests, cancels, bitfield).
    Bytes(Vec<u8>),
    /// Send this block, read from disk, unless the peer was choked since (`gen`).
    Serve { req: Request, slot: Slot, gen: u64 },
    /// The coordinator accepted the peer: count its bytes here (kept by peer id).
    Counters(Arc<PeerCounters>),
}

/// A message from a peer, checked and owned (a block keeps its own buffer).
#[derive(Debug)]
pub enum In {
    Choke,
    Unchoke,
    Interested,
    NotInterested,
    Have(usize),
    Bitfield(Bitfield),
    Request(Request),
    Block {
        index: usize,
        begin: u32,
        data: Vec<u8>,
    },
}

/// What connection threads tell the coordinator.
pub enum Event {
    /// A handshake completed: the coordinator accepts the peer or shuts `stream`.
    Up(Box<Link>),
    /// Every message of one read, in order.
    Msgs { key: PeerKey, batch: Vec<In> },
    /// The connection ended (`outgoing`: we had called `addr`).
    Down {
        key: PeerKey,
        addr: SocketAddr,
        outgoing: bool,
        why: String,
    },
    /// Calling `addr` failed before a handshake.
    DialFailed(SocketAddr),
}

/// What the coordinator keeps of a connection to talk to it and to end it.
pub struct Link {
    pub key: PeerKey,
    pub addr: SocketAddr,
    pub peer_id: PeerId,
    pub outgoing: bool,
    pub out: Sender<Out>,
    /// A clone of the socket: `shutdown` ends both threads at once.
    pub stream: TcpStream,
    /// Bumped at every choke: queued `Serve`s of an older generation are skipped.
    pub gen: Arc<AtomicU64>,
}

/// What a node's connection threads share (read-only but for the byte counters).
pub struct Ctx {
    pub info_hash: InfoHash,
    pub peer_id: PeerId,
    pub storage: Storage,
    pub upload_bucket: Option<Arc<TokenBucket>>,
    pub download_bucket: Option<Arc<TokenBucket>>,
    pub uploaded: AtomicU64,
    pub downloaded: AtomicU64,
    /// Flip a byte in every block we upload (a corrupt peer, for tests).
    pub corrupt: bool,
    pub events: Sender<Event>,
    pub next_key: AtomicU64,
    pub conns: Conns,
    /// Closed when the node stops: wakes every writer waiting for its queue.
    pub stop: Receiver<()>,
    /// Buffers for received blocks, given back by the verifier.
    pub blocks: pool::BlockPool,
}

impl Ctx {
    pub fn num_pieces(&self) -> usize {
        self.storage.num_pieces()
    }
}

/// Runs one connection to its end: handshake, writer thread, then this thread reads.
/// `outgoing`: we called, so we speak first.
pub fn serve(ctx: Arc<Ctx>, stream: TcpStream, outgoing: bool) -> ConnResult {
    let addr = stream.peer_addr()?;
    stream.set_read_timeout(Some(HANDSHAKE_TIMEOUT))?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let ours = Handshake::new(ctx.info_hash, ctx.peer_id);
    let mut s = &stream;
    if outgoing {
        ours.write_to(&mut s)?;
    }
    let theirs = Handshake::read_from(&mut s)?;
    if theirs.info_hash != ctx.info_hash {
        return Err("handshake names another torrent (info-hash differs)".into());
    }
    if theirs.peer_id == ctx.peer_id {
        return Err("connected to ourselves".into());
    }
    if !outgoing {
        ours.write_to(&mut s)?;
    }
    let key = ctx.next_key.fetch_add(1, Ordering::Relaxed);
    let (out, out_rx) = bounded(OUT_QUEUE);
    let gen = Arc::new(AtomicU64::new(0));
    // The peer's cancels go from the reader straight to the writer: taking back a
    // queued block is this connection's business, not a decision.
    let (cancel_tx, cancel_rx) = bounded(MAX_QUEUED_REQUESTS);
    let (w_stream, w_ctx, w_gen) = (stream.try_clone()?, ctx.clone(), gen.clone());
    ctx.conns
        .spawn_worker(format!("bt-send-{addr}"), move || {
            let queues = (&out_rx, &cancel_rx);
            let r = writer::write_loop(&w_ctx, &w_stream, queues, &w_gen);
            if let Err(e) = r {
                debug!("bt-send-{addr}: {e}");
            }
            // Wakes the reader: the connection is over in both directions.
            let _ = w_stream.shutdown(Shutdown::Both);
        })
        .map_err(|e| format!("cannot start the writer: {e}"))?;
    let link = Link {
        key,
        addr,
        peer_id: theirs.peer_id,
        outgoing,
        out,
        stream: stream.try_clone()?,
        gen,
    };
    ctx.events
        .send(Event::Up(Box::new(link)))
        .map_err(|_| "node is stopping")?;
    debug!("peer {addr}: handshake done, key {key}");
    let result = reader::read_loop(&ctx, key, &stream, &cancel_tx);
    let why = match &result {
        Ok(()) => "closed".to_string(),
        Err(e) => e.to_string(),
    };
    let _ = ctx.events.send(Event::Down {
        key,
        addr,
        outgoing,
        why,
    });
    result
}

/// Calls `addr` from this thread and, once connected, runs the connection on a
/// thread of its own (`bt-peer-ADDR`).
pub fn call(ctx: &Arc<Ctx>, addr: SocketAddr) -> std::io::Result<()> {
    let stream = crate::net::connect(addr, Some(HANDSHAKE_TIMEOUT))?;
    let c = ctx.clone();
    ctx.conns
        .spawn(format!("bt-peer-{addr}"), stream, move |stream| {
            serve(c, stream, true)
        })
}

/// Calls `addr` on a short-lived thread of its own, so that the caller (the
/// coordinator) never waits for a TCP connect; a failure comes back as an event.
pub fn dial(ctx: &Arc<Ctx>, addr: SocketAddr) {
    let c = ctx.clone();
    let r = ctx.conns.spawn_worker(format!("bt-dial-{addr}"), move || {
        if let Err(e) = call(&c, addr) {
            debug!("cannot connect to {addr}: {e}");
            let _ = c.events.send(Event::DialFailed(addr));
        }
    });
    if r.is_err() {
        let _ = ctx.events.try_send(Event::DialFailed(addr));
    }
}

/// Is this I/O error a read or write timeout?
fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// The receiving end of a writer's queue (for `writer.rs`).
type OutRx = Receiver<Out>;
/// The peer's cancels, from the reader to the writer.
type CancelRx = Receiver<Request>;
