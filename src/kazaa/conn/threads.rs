//! The two threads of one connection and the coordinator's end of it ([`Link`]).
//! Connection threads only read and write: they decide nothing.

use crate::kazaa::msg::{Msg, Role, MAX_FRAME};
use crate::net::{ConnResult, Conns};
use crate::wire::{read_frame, Prefix, WireError};
use crossbeam_channel::{bounded, Receiver, Sender};
use std::io::{BufWriter, Read, Write};
use std::net::{Shutdown, SocketAddrV4, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Errors of the opening exchanges, whatever their layer.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A connection's number inside one node.
pub type ConnId = u64;

/// Hand-offs queued for one peer (each one or more whole frames). A peer that lets
/// this many pile up has stopped reading (its socket buffers are full too) and is
/// dropped rather than waited for.
pub const OUT_QUEUE: usize = 1024;
/// Bytes queued for one peer, the same way: a full answer is ~150 KB, so a reading
/// peer never comes near it, and a leader's memory stays bounded per peer.
pub const OUT_BYTES: usize = 4 << 20;
/// Events queued for one coordinator; when it is full, reader threads wait.
pub const EVENT_QUEUE: usize = 1024;

/// Appends `msg` to `out` as `wire`'s `Prefix::U32Be` frame: 4-byte big-endian length,
/// body. Built in place: no Vec per message.
pub fn frame_into(msg: &Msg, out: &mut Vec<u8>) {
    let start = out.len();
    out.reserve(64); // most frames fit: no regrowing byte by byte
    out.extend_from_slice(&[0; 4]);
    msg.encode_into(out);
    // encode keeps every body under MAX_FRAME, far below the u32 limit.
    let len = (out.len() - start - 4) as u32;
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// One message as one frame.
pub fn frame(msg: &Msg) -> Vec<u8> {
    let mut f = Vec::new();
    frame_into(msg, &mut f);
    f
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
    /// Whole frames, one or several: a coordinator hands over what it has for this
    /// peer at once (one queue hand-off and one wakeup, not one per frame).
    Frames(Vec<u8>),
    /// The reader has ended: the connection is over, stop without waiting for more.
    Close,
    /// Write a Bye, close, and end; dropping the sender says "done".
    Bye(Sender<()>),
}

/// The coordinator's end of one connection: the writer's queue and a way to close it.
pub struct Link {
    out: Sender<Out>,
    /// Bytes in the queue, not yet handed to the socket (the writer counts them down).
    queued: Arc<AtomicUsize>,
    /// Set by [`Link::close`] or by the reader when it ends: the reader stops at the
    /// next frame, even if the peer keeps sending (a shut socket may still hold bytes
    /// to read), and the writer before it would wait for more.
    closed: Arc<AtomicBool>,
    stream: TcpStream,
}

impl Link {
    /// Queues whole frames without waiting. False when the queue is full
    /// ([`OUT_QUEUE`] hand-offs or [`OUT_BYTES`]: the peer stopped reading) or the
    /// writer has ended: the caller then drops the peer.
    pub fn send(&self, frames: Vec<u8>) -> bool {
        let n = frames.len();
        if !self.has_room(n) {
            return false;
        }
        self.queued.fetch_add(n, Ordering::Relaxed);
        let queued = self.out.try_send(Out::Frames(frames)).is_ok();
        if !queued {
            self.queued.fetch_sub(n, Ordering::Relaxed);
        }
        queued
    }

    /// Whether `n` more bytes fit in the queue. One frame bigger than [`OUT_BYTES`]
    /// still goes to a peer that has taken everything else.
    pub fn has_room(&self, n: usize) -> bool {
        let queued = self.queued.load(Ordering::Relaxed);
        queued == 0 || queued + n <= OUT_BYTES
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
    /// A peer silent this long is dropped (the keep-alive period times the misses).
    pub silence: Duration,
}

impl Ctx {
    pub fn next_id(&self) -> ConnId {
        self.ids.fetch_add(1, Ordering::Relaxed)
    }
}

/// Reads one frame and decodes it; `Ok(None)` on a clean close between frames.
pub fn read_msg(r: &mut impl Read) -> Result<Option<Msg>, WireError> {
    match read_frame(r, Prefix::U32Be, MAX_FRAME)? {
        None => Ok(None),
        Some(body) => Msg::decode(&body).map(Some),
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
    let writer = Writer {
        queue,
        queued,
        closed: closed.clone(),
    };
    ctx.conns.spawn(
        format!("{}-send-{addr}", ctx.name),
        stream.try_clone()?,
        move |s| write_loop(s, writer),
    )?;
    let reading = Reading {
        closed,
        out: link.out.clone(),
        conn: 0,
    };
    let opened = opened(link);
    let conn = opened.conn;
    (ctx.events.send(Event::Up(opened))).map_err(|_| "the node is stopping")?;
    Ok(Reading { conn, ..reading })
}

/// What the reader needs once the connection is up: its number, the flag
/// [`Link::close`] sets, and the writer's queue, to tell the writer it has ended.
/// (The coordinator's [`Link`] may never be dropped: one parked in the event queue of a
/// stopping node is not. The reader always ends, as stopping shuts every socket.)
pub(super) struct Reading {
    pub conn: ConnId,
    closed: Arc<AtomicBool>,
    out: Sender<Out>,
}

/// Frames in, events out, until the peer closes, says Bye or breaks a rule. The
/// coordinator always hears that the peer is gone, whatever the reason.
pub(super) fn read_loop(reading: Reading, r: &mut impl Read, events: &Sender<Event>) -> ConnResult {
    let Reading { conn, closed, out } = reading;
    let result = loop {
        if closed.load(Ordering::Relaxed) {
            break Ok("closed by us");
        }
        match read_msg(r) {
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
    // The writer ends too: at once if it waits for frames, after what is queued if not.
    closed.store(true, Ordering::Relaxed);
    let _ = out.try_send(Out::Close);
    result.map(|_| ()).map_err(Into::into)
}

/// The writer's end of the queue.
struct Writer {
    queue: Receiver<Out>,
    /// Bytes in the queue (counted down as they go to the socket).
    queued: Arc<AtomicUsize>,
    /// Set when the connection is over (see [`Link`]).
    closed: Arc<AtomicBool>,
}

/// Queue in, socket out. Writes whatever is queued in one go, then flushes. Whatever
/// ends it (a write that timed out, the queue closed, the reader ended) closes the
/// socket, so that the reader ends too and reports the peer gone.
fn write_loop(stream: TcpStream, writer: Writer) -> ConnResult {
    let Writer {
        queue,
        queued,
        closed,
    } = writer;
    let mut w = BufWriter::with_capacity(64 * 1024, &stream);
    let result = (|| -> std::io::Result<()> {
        // Each wakeup takes everything queued: one write for many frames.
        while let Ok(mut out) = queue.recv() {
            loop {
                match out {
                    Out::Frames(f) => {
                        w.write_all(&f)?;
                        queued.fetch_sub(f.len(), Ordering::Relaxed);
                    }
                    Out::Bye(_done) => {
                        w.write_all(&frame(&Msg::Bye))?;
                        return w.flush();
                    }
                    Out::Close => return Ok(()),
                }
                match queue.try_recv() {
                    Ok(next) => out = next,
                    Err(_) => break,
                }
            }
            w.flush()?;
            if closed.load(Ordering::Relaxed) {
                return Ok(()); // the reader ended while the queue was full
            }
        }
        Ok(()) // the coordinator forgot this connection
    })();
    drop(w);
    let _ = stream.shutdown(Shutdown::Both);
    result.map_err(Into::into)
}
