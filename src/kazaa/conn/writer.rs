//! The coordinator's end of one connection ([`Link`]) and the writer thread behind it.
//! When nothing is waiting for this peer, the coordinator offers the frames to the
//! socket itself without waiting (`net::send_now`): a leader answers one query at a
//! time, and waking a writer thread was a quarter of an answer's time. What the socket
//! does not take at once goes into the writer's bounded queue with `try_send`, never
//! waiting; the writer takes everything queued at each wakeup and writes it in one go.

use crate::kazaa::msg::Msg;
use crate::locate::Traffic;
use crate::net::{send_now, ConnResult, Conns};
use crossbeam_channel::{bounded, Receiver, Sender};
use std::io::{self, BufWriter, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// Hand-offs queued for one peer (each one or more whole frames). A peer that lets
/// this many pile up has stopped reading (its socket buffers are full too) and is
/// dropped rather than waited for.
pub const OUT_QUEUE: usize = 1024;
/// Bytes queued for one peer, the same way: a full answer is ~150 KB, so a reading
/// peer never comes near it, and a leader's memory stays bounded per peer.
pub const OUT_BYTES: usize = 4 << 20;

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

/// What a writer thread is asked to do.
enum Out {
    /// Whole frames, one or several: a coordinator hands over what it has for this
    /// peer at once (one queue hand-off and one wakeup, not one per frame).
    Frames(Vec<u8>),
    /// The rest of frames the coordinator began to write itself (already counted).
    Rest(Vec<u8>),
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
    /// Hand-offs not yet flushed to the socket. While it is 0 the coordinator may write
    /// itself: nothing it sends can overtake queued frames.
    unflushed: Arc<AtomicUsize>,
    traffic: Traffic,
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
        if self.unflushed.load(Ordering::Acquire) == 0 {
            let n = match send_now(&self.stream, &frames) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
                Err(_) => return false,
            };
            if n > 0 {
                count_frames(&frames, &self.traffic);
                return n == frames.len() || self.queue(Out::Rest(frames[n..].to_vec()));
            }
        }
        self.queue(Out::Frames(frames))
    }

    fn queue(&self, out: Out) -> bool {
        let n = match &out {
            Out::Frames(f) | Out::Rest(f) => f.len(),
            _ => 0,
        };
        if !self.has_room(n) {
            return false;
        }
        // Only the coordinator adds, so the room checked above cannot shrink meanwhile.
        self.queued.fetch_add(n, Ordering::Relaxed);
        self.unflushed.fetch_add(1, Ordering::AcqRel);
        let queued = self.out.try_send(out).is_ok();
        if !queued {
            self.queued.fetch_sub(n, Ordering::Relaxed);
            self.unflushed.fetch_sub(1, Ordering::AcqRel);
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

    /// Closes now: both threads end, and the reader reports the peer gone.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

/// The reader's hold on the writer. The coordinator's [`Link`] may never be dropped
/// (one parked in the event queue of a stopping node is not), so the reader, which
/// always ends (stopping a node shuts every socket), ends the writer too.
pub struct Ending {
    closed: Arc<AtomicBool>,
    out: Sender<Out>,
}

impl Ending {
    /// True once [`Link::close`] was called.
    pub fn closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// The reader has ended: the writer stops at once if it waits for frames, after
    /// what is queued if not.
    pub fn end(self) {
        self.closed.store(true, Ordering::Relaxed);
        let _ = self.out.try_send(Out::Close);
    }
}

/// Starts the writer thread of `stream`, named `name`-send-ADDR and registered in
/// `conns`: the coordinator's [`Link`] to it, and the reader's [`Ending`].
pub fn start(
    stream: &TcpStream,
    conns: &Conns,
    name: &str,
    traffic: Traffic,
) -> io::Result<(Link, Ending)> {
    let (out, queue) = bounded(OUT_QUEUE);
    let (queued, unflushed, closed) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    let writer = Writer {
        queue,
        queued: queued.clone(),
        unflushed: unflushed.clone(),
        closed: closed.clone(),
        traffic: traffic.clone(),
    };
    let addr = stream.peer_addr()?;
    // A worker, not a slot: the connection's one slot is its reader's (what the
    // listener's per-address cap and eviction count). The reader always ends (stopping
    // a node shuts its socket) and ends this thread with it.
    let s = stream.try_clone()?;
    let send = move || {
        if let Err(e) = write_loop(s, writer) {
            log::debug!("writer to {addr} ended: {e}");
        }
    };
    conns.spawn_worker(format!("{name}-send-{addr}"), send)?;
    let ending = Ending {
        closed: closed.clone(),
        out: out.clone(),
    };
    let link = Link {
        out,
        queued,
        unflushed,
        traffic,
        closed,
        stream: stream.try_clone()?,
    };
    Ok((link, ending))
}

/// The writer's end of the queue.
struct Writer {
    queue: Receiver<Out>,
    /// Bytes in the queue (counted down as they go to the socket).
    queued: Arc<AtomicUsize>,
    /// Hand-offs taken from the queue or in it, counted down once flushed (see [`Link`]).
    unflushed: Arc<AtomicUsize>,
    /// Set when the connection is over (see [`Link`]).
    closed: Arc<AtomicBool>,
    /// The node's counts: every frame written is one message.
    traffic: Traffic,
}

/// Counts each frame of a batch (a 4-byte big-endian length, then the body) as one
/// message sent: the coordinator hands many frames over in one buffer. A Ping is
/// upkeep ([`Msg::is_upkeep`]).
fn count_frames(mut batch: &[u8], traffic: &Traffic) {
    while batch.len() >= 4 {
        let body = u32::from_be_bytes([batch[0], batch[1], batch[2], batch[3]]) as usize;
        let len = (4 + body).min(batch.len());
        traffic.sent_as(Msg::is_upkeep(&batch[4..len]), len);
        batch = &batch[len..];
    }
}

/// Queue in, socket out. Writes whatever is queued in one go, then flushes. Whatever
/// ends it (a write that timed out, the queue closed, the reader ended) closes the
/// socket, so that the reader ends too and reports the peer gone.
fn write_loop(stream: TcpStream, writer: Writer) -> ConnResult {
    let Writer {
        queue,
        queued,
        unflushed,
        closed,
        traffic,
    } = writer;
    let mut w = BufWriter::with_capacity(64 * 1024, &stream);
    let result = (|| -> std::io::Result<()> {
        // Each wakeup takes everything queued: one write for many frames.
        while let Ok(mut out) = queue.recv() {
            let mut taken = 0;
            loop {
                match out {
                    Out::Frames(f) => {
                        w.write_all(&f)?;
                        count_frames(&f, &traffic);
                        queued.fetch_sub(f.len(), Ordering::Relaxed);
                        taken += 1;
                    }
                    Out::Rest(f) => {
                        w.write_all(&f)?;
                        queued.fetch_sub(f.len(), Ordering::Relaxed);
                        taken += 1;
                    }
                    Out::Bye(_done) => {
                        let bye = frame(&Msg::Bye);
                        w.write_all(&bye)?;
                        traffic.sent(bye.len());
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
            unflushed.fetch_sub(taken, Ordering::AcqRel);
            if closed.load(Ordering::Relaxed) {
                return Ok(()); // the reader ended while the queue was full
            }
        }
        Ok(()) // every sender is gone: nobody will queue more
    })();
    drop(w);
    let _ = stream.shutdown(Shutdown::Both);
    result.map_err(Into::into)
}
