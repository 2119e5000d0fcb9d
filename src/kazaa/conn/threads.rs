//! The two threads of one connection and the coordinator's end of it ([`Link`]).
//! Connection threads only read and write: they decide nothing.

use crate::kazaa::msg::{Msg, Role, MAX_FRAME};
use crate::locate::Traffic;
use crate::net::{ConnResult, Conns};
use crate::wire::{read_frame, Prefix, WireError};
use crossbeam_channel::{bounded, select, Receiver, Sender};
use std::io::{BufWriter, Read, Write};
use std::net::{Shutdown, SocketAddrV4, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Errors of the opening exchanges, whatever their layer.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A connection's number inside one node.
pub type ConnId = u64;

/// Frames queued for one peer. A peer that lets this many pile up has stopped reading
/// (its socket buffers are full too) and is dropped rather than waited for.
pub const OUT_QUEUE: usize = 1024;
/// Bytes queued for one peer, the same way: a full answer is ~150 KB, so a reading
/// peer never comes near it, and a leader's memory stays bounded per peer.
pub const OUT_BYTES: usize = 4 << 20;
/// Events queued for one coordinator; when it is full, reader threads wait.
pub const EVENT_QUEUE: usize = 1024;

/// An encoded frame (length prefix and body), shared by every queue it goes to.
pub type Frame = Arc<[u8]>;

/// Encodes `msg` once, as `wire`'s `Prefix::U32Be` frame: 4-byte big-endian length, body.
pub fn frame(msg: &Msg) -> Frame {
    let body = msg.encode();
    let mut f = Vec::with_capacity(4 + body.len());
    // encode keeps every body under MAX_FRAME, far below the u32 limit.
    f.extend_from_slice(&(body.len() as u32).to_be_bytes());
    f.extend_from_slice(&body);
    f.into()
}

/// What connection threads tell their coordinator.
pub enum Event {
    /// The opening exchange is done; from now on the connection is served.
    Up(Opened),
    Frame {
        conn: ConnId,
        msg: Msg,
    },
    /// The connection ended (closed, Bye, silence, bad bytes, or we closed it).
    Gone {
        conn: ConnId,
        why: String,
    },
    /// A connection we dialled never finished its opening exchange.
    Failed {
        conn: ConnId,
        to: SocketAddrV4,
        why: String,
    },
}

/// A connection whose opening exchange is done.
pub struct Opened {
    pub conn: ConnId,
    /// The peer: its IP (from the socket) with the port it announced, or where we dialled.
    pub addr: SocketAddrV4,
    pub role: Role,
    /// Announced upload capacity (KiB/s); 0 for leaders.
    pub capacity: u32,
    /// True when we dialled it.
    pub outgoing: bool,
    /// The other leaders the peer named in its Welcome (and Leaders) while we opened.
    pub leaders: Vec<SocketAddrV4>,
    /// Promote or Redirect that arrived before the opening was over.
    pub early: Vec<Msg>,
    pub link: Link,
}

/// What a writer thread is asked to do.
enum Out {
    Frame(Frame),
    /// Write a Bye, close, and end; dropping the sender says "done".
    Bye(Sender<()>),
}

/// The coordinator's end of one connection: the writer's queue and a way to close it.
pub struct Link {
    out: Sender<Out>,
    /// Bytes in the queue, not yet handed to the socket (the writer counts them down).
    queued: Arc<AtomicUsize>,
    /// Set by [`Link::close`]: the reader stops at the next frame, even if the peer
    /// keeps sending (a shut socket may still hold bytes to read).
    closed: Arc<AtomicBool>,
    stream: TcpStream,
}

impl Link {
    /// Queues a frame without waiting. False when the queue is full ([`OUT_QUEUE`]
    /// frames or [`OUT_BYTES`]: the peer stopped reading) or the writer has ended: the
    /// caller then drops the peer.
    pub fn send(&self, f: &Frame) -> bool {
        let before = self.queued.fetch_add(f.len(), Ordering::Relaxed);
        if before > 0 && before + f.len() > OUT_BYTES {
            self.queued.fetch_sub(f.len(), Ordering::Relaxed);
            return false;
        }
        let queued = self.out.try_send(Out::Frame(f.clone())).is_ok();
        if !queued {
            self.queued.fetch_sub(f.len(), Ordering::Relaxed);
        }
        queued
    }

    /// Queues a Bye after whatever is queued; the connection closes once it is written.
    /// The receiver disconnects when that is done (or the writer could not do it).
    pub fn bye(&self) -> Receiver<()> {
        let (done, wait) = bounded(0);
        if self.out.try_send(Out::Bye(done)).is_err() {
            self.close();
        }
        wait
    }

    /// Closes now: both threads end, and the reader reports [`Event::Gone`].
    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

/// What every connection thread of one node shares.
#[derive(Clone)]
pub struct Ctx {
    /// Thread name prefix, e.g. `kazaa-leader`.
    pub name: String,
    pub events: Sender<Event>,
    pub conns: Conns,
    pub ids: Arc<AtomicU64>,
    /// Never carries a message; it disconnects when the coordinator ends, which ends
    /// every writer (a queue sender parked in the event queue could keep one waiting).
    pub stop: Receiver<()>,
    /// A peer silent this long is dropped (the keep-alive period times the misses).
    pub silence: Duration,
    /// The node's message and byte counts (notes 6.4: who carries the load).
    pub traffic: Traffic,
}

impl Ctx {
    pub fn next_id(&self) -> ConnId {
        self.ids.fetch_add(1, Ordering::Relaxed)
    }
}

/// Reads one frame and decodes it; `Ok(None)` on a clean close between frames.
pub fn read_msg(r: &mut impl Read, traffic: &Traffic) -> Result<Option<Msg>, WireError> {
    match read_frame(r, Prefix::U32Be, MAX_FRAME)? {
        None => Ok(None),
        Some(body) => {
            traffic.received(4 + body.len());
            Msg::decode(&body).map(Some)
        }
    }
}

/// Starts the writer and tells the coordinator the connection is up (the reader is
/// the calling thread: [`read_loop`] next). Fails, before telling anyone, only when
/// the node is stopping or the socket is already gone.
pub(super) fn up(
    stream: &TcpStream,
    ctx: &Ctx,
    opened: impl FnOnce(Link) -> Opened,
) -> Result<Reading, BoxError> {
    stream.set_read_timeout(Some(ctx.silence))?;
    let (out, queue) = bounded(OUT_QUEUE);
    let (queued, closed) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    let link = Link {
        out,
        queued: queued.clone(),
        closed: closed.clone(),
        stream: stream.try_clone()?,
    };
    let addr = stream.peer_addr()?;
    let (stop, t) = (ctx.stop.clone(), ctx.traffic.clone());
    ctx.conns.spawn(
        format!("{}-send-{addr}", ctx.name),
        stream.try_clone()?,
        move |s| write_loop(s, queue, &queued, stop, &t),
    )?;
    let opened = opened(link);
    let conn = opened.conn;
    (ctx.events.send(Event::Up(opened))).map_err(|_| "the node is stopping")?;
    Ok(Reading {
        conn,
        closed,
        traffic: ctx.traffic.clone(),
    })
}

/// What the reader needs once the connection is up: its number, and the flag
/// [`Link::close`] sets.
pub(super) struct Reading {
    pub conn: ConnId,
    pub closed: Arc<AtomicBool>,
    pub traffic: Traffic,
}

/// Frames in, events out, until the peer closes, says Bye or breaks a rule. The
/// coordinator always hears that the peer is gone, whatever the reason.
pub(super) fn read_loop(reading: Reading, r: &mut impl Read, events: &Sender<Event>) -> ConnResult {
    let Reading {
        conn,
        closed,
        traffic,
    } = reading;
    let result = loop {
        if closed.load(Ordering::Relaxed) {
            break Ok("closed by us");
        }
        match read_msg(r, &traffic) {
            Ok(None) => break Ok("closed"),
            Ok(Some(Msg::Bye)) => break Ok("said Bye"),
            Ok(Some(msg)) => {
                if events.send(Event::Frame { conn, msg }).is_err() {
                    break Ok("node stopping");
                }
            }
            Err(e) => break Err(e),
        }
    };
    let why = match &result {
        Ok(why) => why.to_string(),
        Err(e) if e.is_timeout() => "silent for too long".to_string(),
        Err(e) => e.to_string(),
    };
    let _ = events.send(Event::Gone { conn, why });
    result.map(|_| ()).map_err(Into::into)
}

/// Queue in, socket out. Writes whatever is queued in one go, then flushes. Whatever
/// ends it (a write that timed out, the queue closed, the node stopping) closes the
/// socket, so that the reader ends too and reports the peer gone.
fn write_loop(
    stream: TcpStream,
    queue: Receiver<Out>,
    queued: &AtomicUsize,
    stop: Receiver<()>,
    traffic: &Traffic,
) -> ConnResult {
    let mut w = BufWriter::with_capacity(64 * 1024, &stream);
    let result = (|| -> std::io::Result<()> {
        loop {
            let mut next = select! {
                recv(queue) -> o => o.ok(),
                recv(stop) -> _ => None,
            };
            if next.is_none() {
                return Ok(());
            }
            while let Some(out) = next {
                match out {
                    Out::Frame(f) => {
                        w.write_all(&f)?;
                        traffic.sent(f.len());
                        queued.fetch_sub(f.len(), Ordering::Relaxed);
                    }
                    Out::Bye(_done) => {
                        let bye = frame(&Msg::Bye);
                        w.write_all(&bye)?;
                        traffic.sent(bye.len());
                        return w.flush();
                    }
                }
                next = queue.try_recv().ok();
            }
            w.flush()?;
        }
    })();
    drop(w);
    let _ = stream.shutdown(Shutdown::Both);
    result.map_err(Into::into)
}
