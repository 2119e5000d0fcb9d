//! A connection another node opened to us: a reader thread and a writer thread.
//!
//! The reader only reads: it takes one frame, decodes it and hands the request to the
//! coordinator. Bad bytes (a lying length, an unknown type, another ring size) end this
//! one connection with an ERROR reply naming the problem; the node keeps serving
//! everyone else. The writer only writes what the coordinator queued, in order. Its
//! queue is bounded: a peer that sends requests but never reads the replies fills it,
//! and the coordinator drops that peer instead of waiting for it.

use crate::dht::error::DhtError;
use crate::dht::msg::{decode_request, encode_reply, Reply, Request, MAX_FRAME};
use crate::locate::Traffic;
use crate::net::{ConnResult, Conns};
use crate::wire::{read_frame, write_frame, Prefix};
use crossbeam_channel::{bounded, select, Receiver, Sender};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Replies queued for one connection before the coordinator gives up on the peer. A
/// caller waits for each reply before it sends the next request, so an honest peer
/// never has more than one or two here.
pub const OUT_QUEUE: usize = 64;
/// A pooled connection nobody used for this long is closed by the serving side.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the reader waits for its writer to flush the last replies when the peer
/// hangs up (or when an ERROR reply is the last word).
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// What the coordinator gives a writer.
pub enum Out {
    /// A reply body; the writer frames it.
    Frame(Vec<u8>),
    /// The last reply (an ERROR): write it, then close.
    Last(Vec<u8>),
}

/// What a reader tells the coordinator.
pub enum Incoming {
    /// A new connection: where its replies go, and a handle to close it.
    Up {
        conn: u64,
        peer: SocketAddr,
        out: Sender<Out>,
        /// The writer's own handle, shared: one file descriptor fewer per connection.
        stream: Arc<TcpStream>,
    },
    /// One request, decoded and from a node on our ring size.
    Request { conn: u64, req: Request },
    /// The connection ended; nothing more will come from it.
    Down { conn: u64 },
}

/// What every connection of one node shares.
#[derive(Clone)]
pub struct Ctx {
    /// m of our ring: a request from another ring size is refused.
    pub bits: u32,
    pub events: Sender<Incoming>,
    /// The node's threads, so that writers are joined when the node stops.
    pub conns: Conns,
    /// Never carries a message; disconnects when the node stops.
    pub stop: Receiver<()>,
    pub next_id: Arc<AtomicU64>,
    /// The node's message and byte counts (notes 6.4: who carries the load).
    pub traffic: Traffic,
}

/// Serves one accepted connection on its reader thread until the peer hangs up.
pub fn serve(stream: TcpStream, ctx: &Ctx) -> ConnResult {
    let conn = ctx.next_id.fetch_add(1, Ordering::Relaxed);
    let peer = stream.peer_addr()?;
    let (out, queue) = bounded(OUT_QUEUE);
    let (flushed_tx, flushed) = bounded::<()>(0);
    let w = Arc::new(stream.try_clone()?);
    let (wc, stop, t) = (w.clone(), ctx.stop.clone(), ctx.traffic.clone());
    ctx.conns
        .spawn_worker(format!("dht-send-{peer}"), move || {
            writer(&wc, queue, stop, &t);
            drop(flushed_tx); // tells the reader the writer is done
        })?;
    let up = Incoming::Up {
        conn,
        peer,
        out: out.clone(),
        stream: w,
    };
    if ctx.events.send(up).is_err() {
        return Ok(()); // the node is stopping
    }
    let result = read_requests(stream, conn, ctx);
    if let Err(e) = &result {
        let _ = out.try_send(Out::Last(encode_reply(&Reply::Error(e.to_string()))));
    }
    // The coordinator answers every request it got before this, then lets go of the
    // queue; once ours is dropped too, the writer flushes what is left and ends.
    let _ = ctx.events.send(Incoming::Down { conn });
    drop(out);
    let _ = flushed.recv_timeout(FLUSH_TIMEOUT);
    result.map_err(Into::into)
}

/// The reader: frames in, events out.
fn read_requests(mut s: TcpStream, conn: u64, ctx: &Ctx) -> Result<(), DhtError> {
    loop {
        let body = match read_frame(&mut s, Prefix::U32Be, MAX_FRAME) {
            Ok(Some(b)) => b,
            Ok(None) => return Ok(()),
            // An idle pooled connection: the caller opens a new one if it needs to.
            Err(e) if e.is_timeout() => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        ctx.traffic.received(4 + body.len());
        let (bits, req) = decode_request(&body)?;
        if bits != ctx.bits {
            return Err(DhtError::BitsMismatch {
                ours: ctx.bits,
                theirs: bits,
            });
        }
        if ctx.events.send(Incoming::Request { conn, req }).is_err() {
            return Ok(()); // the node is stopping
        }
    }
}

/// The writer: queued replies out, in order, until the queue closes or the node stops.
/// A write that fails (or times out: the peer stopped reading) closes the socket, which
/// ends the reader too.
fn writer(s: &TcpStream, queue: Receiver<Out>, stop: Receiver<()>, traffic: &Traffic) {
    let mut s = s; // `&TcpStream` writes; the coordinator holds the same handle
    loop {
        let out = select! {
            recv(queue) -> m => match m {
                Ok(out) => out,
                Err(_) => return, // reader and coordinator both let go: done
            },
            recv(stop) -> _ => return,
        };
        let (body, last) = match out {
            Out::Frame(b) => (b, false),
            Out::Last(b) => (b, true),
        };
        if let Err(e) = write_frame(&mut s, Prefix::U32Be, &body) {
            log::info!("dht: writing to {:?} failed: {e}", s.peer_addr());
            let _ = s.shutdown(Shutdown::Both);
            return;
        }
        traffic.sent(4 + body.len());
        if last {
            // Closing both ways also wakes the reader, which ends the connection.
            let _ = s.shutdown(Shutdown::Both);
            return;
        }
    }
}
