//! One peer connection: the handshake, then a reader thread and a writer thread.
//!
//! ```text
//!   socket ──read──► bt-peer-ADDR  (decode, check)  ──Event::Msgs──► coordinator
//!   socket ◄─write── bt-send-ADDR  (blocks from disk) ◄──Out (bounded)── coordinator
//! ```
//! | file | what |
//! |---|---|
//! | `mod.rs` | the events and the writer's queue, running a connection |
//! | `dial.rs` | calling a peer, and calling again in plaintext when it refuses MSE |
//! | `link.rs` | what the coordinator holds of a connection, and writing to it without waiting |
//! | `gate.rs` | whom we answer: the coordinator's choke decision and our bitmap, read by the reader for each request |
//! | `ext.rs` | the extension protocol (BEP 10): serving our info dict to magnet-link peers (BEP 9) |
//! | `open.rs` | the handshakes: MSE (encrypted) or plaintext, then BitTorrent's 68 bytes |
//! | `reader.rs` | bytes → checked messages → one event per read to the coordinator (a `cancel` goes to the writer) |
//! | `writer.rs` | the bounded queue → bytes; answers `Serve` by reading the block from disk |
//! | `inbuf.rs` | the receive buffer: read big, parse in place |
//! | `pool.rs` | received block buffers, recycled from the verifier back to the readers |
//!
//! Neither thread decides anything. The reader checks what is *well-formed* (a block
//! that fits its piece, a bitfield of the right length) and drops a peer that sends
//! garbage; what to ask for, whom to choke, whom to drop is the coordinator's
//! (`src/bittorrent/node/coordinator.rs`). Two of its decisions are applied here without
//! asking it, for speed (see the crate's `bittorrent` doc): a request is answered if the
//! coordinator has unchoked the peer and we have the piece (`gate.rs`), and a cancel
//! takes back a queued block.
//!
//! The block data stays on the connection threads: a received block is read once into
//! its own buffer, which is *moved* (not copied) through the coordinator to the
//! verifier; a block we send is read from disk by the writer straight into its send
//! buffer.

pub mod ext;
pub mod gate;
mod link;
pub use dial::{call, dial};
pub use link::{Link, OutQueue};
mod dial;
mod inbuf;
pub mod open;
pub mod pool;
mod reader;
mod writer;

use super::metainfo::InfoHash;
use super::mse::Policy;
use super::msg::bitfield::Bitfield;
use super::msg::handshake::PeerId;
use super::storage::Storage;
use crate::net::{ConnResult, Conns, TokenBucket};
use crossbeam_channel::{bounded, Receiver, Sender};
use gate::{Gate, OurPieces};
use log::debug;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The handshakes (MSE and BitTorrent) must complete within this time.
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
    /// MSE for outgoing connections, and what incoming ones may use.
    pub encryption: Policy,
    /// Seed of the MSE keys and pads (each connection draws from its own stream).
    pub mse_seed: u64,
    /// Our bitmap, published by the coordinator.
    pub ours: Arc<OurPieces>,
    /// The info dict's bytes, served to peers that ask (`ext.rs`); `None`: not served.
    pub metadata: Option<Arc<Vec<u8>>>,
}

impl Ctx {
    pub fn num_pieces(&self) -> usize {
        self.storage.num_pieces()
    }
}

/// Runs one connection to its end: handshakes, writer thread, then this thread reads.
/// `outgoing`: we called, with this encryption policy, so we speak first.
pub fn serve(ctx: Arc<Ctx>, stream: TcpStream, outgoing: Option<Policy>) -> ConnResult {
    let addr = stream.peer_addr()?;
    stream.set_read_timeout(Some(HANDSHAKE_TIMEOUT))?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let shut = stream.try_clone()?;
    let key = ctx.next_key.fetch_add(1, Ordering::Relaxed);
    let open::Opened {
        reader,
        mut writer,
        theirs,
        encrypted,
    } = open::open(&ctx, stream, outgoing, key)?;
    let (tx, out_rx) = bounded(OUT_QUEUE);
    let gate = Arc::new(Gate::default());
    let queued = Arc::new(AtomicUsize::new(0));
    let out = OutQueue {
        tx,
        queued: queued.clone(),
    };
    // The peer's cancels go from the reader straight to the writer: taking back a
    // queued block is this connection's business, not a decision.
    let (cancel_tx, cancel_rx) = bounded(MAX_QUEUED_REQUESTS);
    if ext::supports(&theirs) {
        // First after the handshake, as libtorrent does: a magnet-link peer is waiting for it.
        let _ = out.put(Out::Bytes(ext::our_ext_handshake(&ctx)));
    }
    let (w_ctx, w_gate, w_queued) = (ctx.clone(), gate.clone(), queued.clone());
    ctx.conns
        .spawn_worker(format!("bt-send-{addr}"), move || {
            let queues = (&out_rx, &cancel_rx);
            let r = writer::write_loop(&w_ctx, &mut writer, queues, (&w_gate, &w_queued));
            if let Err(e) = r {
                debug!("bt-send-{addr}: {e}");
            }
            // Wakes the reader: the connection is over in both directions.
            let _ = writer.get_ref().shutdown(Shutdown::Both);
        })
        .map_err(|e| format!("cannot start the writer: {e}"))?;
    let replies = out.clone();
    let link = Link {
        key,
        addr,
        peer_id: theirs.peer_id,
        outgoing: outgoing.is_some(),
        out,
        stream: shut,
        gate: gate.clone(),
        direct: !encrypted,
    };
    ctx.events
        .send(Event::Up(Box::new(link)))
        .map_err(|_| "node is stopping")?;
    let how = if encrypted { "RC4" } else { "plaintext" };
    debug!("peer {addr}: handshake done ({how}), key {key}");
    let result = reader::read_loop(&ctx, key, reader, (&cancel_tx, &replies, &gate));
    let why = match &result {
        Ok(()) => "closed".to_string(),
        Err(e) => e.to_string(),
    };
    let _ = ctx.events.send(Event::Down {
        key,
        addr,
        outgoing: outgoing.is_some(),
        why,
    });
    result
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
