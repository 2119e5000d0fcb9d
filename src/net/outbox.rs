//! A connection's outbox: how a coordinator writes to a peer without ever waiting for it.
//!
//! Every node has one coordinator thread that owns its state and decides (see DESIGN.md).
//! It must never block on a socket: a peer that stops reading would stall every other
//! peer behind it. So each connection has a writer thread fed by a bounded queue, and a
//! peer whose queue is full is dropped, not waited for.
//!
//! Handing every message to the writer costs one thread wake-up per message, which on a
//! small machine is most of a short request's time (about 20 µs here, against a few µs
//! for the write itself). So the outbox first tries the write itself, *without waiting*:
//! when nothing is queued for this peer, it offers the bytes to the kernel with
//! `MSG_DONTWAIT`. A peer that reads keeps room in its socket buffer, so this almost
//! always takes everything and the writer never wakes. Whatever the kernel does not take
//! at once goes to the writer's queue, behind which later messages line up in order.
//!
//! Writing at once is a trade, so each architecture chooses ([`Direct`]). A directory
//! or a group leader answers one request at a time, and the wake-up is most of an
//! answer's time: they write at once. A Gnutella servent floods each query to all its
//! neighbours, and `send(2)` on loopback also runs the receiver's side of TCP in the
//! sender's thread: done by the coordinator, that work is no longer spread over the
//! writers' threads (measured: 40 % fewer flooded queries per second in `bench-gnutella`), so it hands off.
//!
//! The queue is bounded by a count, not by a buffer allocated up front: a bounded
//! crossbeam channel of 4,096 parcels writes every slot when it is made (160 KiB per
//! connection, resident before a byte is sent, measured as most of a Gnutella servent's
//! memory in `lab-gnutella --scale`), while the count costs nothing until parcels wait.
//! The outbox and the writer share one descriptor of the socket.
//!
//! ```text
//!   coordinator ──push──► nothing queued? ──send(MSG_DONTWAIT)──► socket    (fast path)
//!                              │ rest, or something queued
//!                              └──try_send──► [queue] ──► writer thread ──write_all──► socket
//! ```

use crossbeam_channel::{select, unbounded, Receiver, Sender, TrySendError};
use std::io::{self, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// What became of bytes pushed into an outbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// Written to the socket already, or queued for the writer behind earlier bytes.
    Taken,
    /// The queue is full: the peer stopped reading. Drop it; do not wait.
    Full,
    /// The connection is gone (the writer ended or the socket failed).
    Closed,
}

/// Bytes the writer gathers from its queue into one write.
const BATCH_BYTES: usize = 64 * 1024;

/// Whether the coordinator may write itself when nothing is queued (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direct {
    /// Write at once when the socket takes the bytes; queue only the rest.
    WhenIdle,
    /// Always hand the bytes to the writer thread.
    Never,
}

/// Bytes for the writer (shared: one descriptor may go to many neighbours). `last`
/// closes the connection once they are written; `done` is dropped then, which tells
/// whoever holds its receiver that the last word is out.
struct Parcel {
    bytes: Arc<Vec<u8>>,
    from: usize,
    last: bool,
    _done: Option<Sender<()>>,
}

/// The coordinator's end: push bytes, never block.
pub struct Outbox {
    stream: Arc<TcpStream>,
    queue: Sender<Parcel>,
    /// Parcels queued and not yet fully written. Only while it is 0 may the coordinator
    /// write itself; otherwise its bytes would overtake the queued ones. It is also the
    /// queue's bound: at `capacity` the peer is full.
    queued: Arc<AtomicUsize>,
    capacity: usize,
    direct: Direct,
}

/// The writer thread's end: run it with [`Writer::run`] on the connection's own thread.
pub struct Writer {
    stream: Arc<TcpStream>,
    queue: Receiver<Parcel>,
    queued: Arc<AtomicUsize>,
}

/// An outbox for `stream` whose writer holds at most `capacity` parcels.
pub fn outbox(stream: &TcpStream, capacity: usize, direct: Direct) -> io::Result<(Outbox, Writer)> {
    // Unbounded as a channel, bounded by `queued`: memory only for parcels that wait.
    let (tx, rx) = unbounded();
    let queued = Arc::new(AtomicUsize::new(0));
    let shared = Arc::new(stream.try_clone()?);
    let outbox = Outbox {
        stream: shared.clone(),
        queue: tx,
        queued: queued.clone(),
        capacity: capacity.max(1),
        direct,
    };
    let writer = Writer {
        stream: shared,
        queue: rx,
        queued,
    };
    Ok((outbox, writer))
}

impl Outbox {
    /// Writes `bytes` now if the kernel takes them, else queues what is left.
    pub fn push(&self, bytes: impl Into<Arc<Vec<u8>>>) -> Pushed {
        self.push_parcel(bytes.into(), false, None)
    }

    /// Like [`push`](Self::push), then closes the connection once the bytes are out:
    /// the last word to a refused or departing peer. `done` is dropped at that moment.
    pub fn push_last(&self, bytes: impl Into<Arc<Vec<u8>>>, done: Option<Sender<()>>) -> Pushed {
        self.push_parcel(bytes.into(), true, done)
    }

    fn push_parcel(&self, bytes: Arc<Vec<u8>>, last: bool, done: Option<Sender<()>>) -> Pushed {
        let mut from = 0;
        if self.direct == Direct::WhenIdle && self.queued.load(Ordering::Acquire) == 0 {
            match send_now(&self.stream, &bytes) {
                Ok(n) => from = n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => return Pushed::Closed,
            }
            if from == bytes.len() {
                if last {
                    let _ = self.stream.shutdown(Shutdown::Both);
                }
                return Pushed::Taken;
            }
        }
        if self.queued.fetch_add(1, Ordering::AcqRel) >= self.capacity {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            return Pushed::Full;
        }
        let parcel = Parcel {
            bytes,
            from,
            last,
            _done: done,
        };
        match self.queue.try_send(parcel) {
            Ok(()) => Pushed::Taken,
            Err(e) => {
                self.queued.fetch_sub(1, Ordering::AcqRel);
                match e {
                    TrySendError::Full(_) => Pushed::Full,
                    TrySendError::Disconnected(_) => Pushed::Closed,
                }
            }
        }
    }

    /// The connection itself (to mark its slot useful, say); never write to it directly.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Closes the connection at once (both directions), whatever is queued.
    pub fn close(&self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

impl Writer {
    /// Writes queued parcels until the outbox is dropped, a `last` parcel is written,
    /// `stop` disconnects, or a write fails (its write timeout included). Shuts the
    /// socket down on the way out, which also ends the connection's reader.
    pub fn run(self, stop: &Receiver<()>) -> io::Result<()> {
        let result = self.write_all_queued(stop);
        let _ = self.stream.shutdown(Shutdown::Both);
        result
    }

    fn write_all_queued(&self, stop: &Receiver<()>) -> io::Result<()> {
        let mut batch = Vec::new();
        loop {
            let first = select! {
                recv(self.queue) -> p => match p {
                    Ok(p) => p,
                    Err(_) => return Ok(()), // the coordinator let this peer go
                },
                recv(stop) -> _ => return Ok(()),
            };
            // What queued up meanwhile goes out in the same write: one TCP segment and
            // one wake-up of the reader instead of one per message. A parcel alone is
            // written from where it lies, without a copy.
            let mut parcels = vec![first];
            let mut size = parcels[0].bytes.len() - parcels[0].from;
            while size < BATCH_BYTES && !parcels[parcels.len() - 1].last {
                let Ok(p) = self.queue.try_recv() else { break };
                size += p.bytes.len() - p.from;
                parcels.push(p);
            }
            if let [p] = parcels.as_slice() {
                (&*self.stream).write_all(&p.bytes[p.from..])?;
            } else {
                batch.clear();
                for p in &parcels {
                    batch.extend_from_slice(&p.bytes[p.from..]);
                }
                (&*self.stream).write_all(&batch)?;
            }
            let last = parcels[parcels.len() - 1].last;
            self.queued.fetch_sub(parcels.len(), Ordering::AcqRel);
            drop(parcels); // drops each `done`: those words are out
            if last {
                return Ok(());
            }
        }
    }
}

/// One `send(2)` that never waits: `MSG_DONTWAIT` makes this call non-blocking without
/// changing the socket, which the writer and reader threads keep using in blocking mode
/// (a flag set on the socket itself would be shared by every clone). std has no call for it.
pub fn send_now(stream: &TcpStream, bytes: &[u8]) -> io::Result<usize> {
    extern "C" {
        fn send(fd: i32, buf: *const u8, len: usize, flags: i32) -> isize;
    }
    const MSG_DONTWAIT: i32 = 0x40;
    const MSG_NOSIGNAL: i32 = 0x4000;
    if bytes.is_empty() {
        return Ok(0);
    }
    // SAFETY: the descriptor is owned by `stream` and `bytes` is a live slice, both for
    // the whole call; send(2) only reads `len` bytes from `buf`.
    let n = unsafe {
        send(
            stream.as_raw_fd(),
            bytes.as_ptr(),
            bytes.len(),
            MSG_DONTWAIT | MSG_NOSIGNAL,
        )
    };
    if n < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        return Err(e);
    }
    Ok(n as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossbeam_channel::{bounded, never};
    use std::io::Read;
    use std::net::TcpListener;

    fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (b, _) = l.accept().unwrap();
        (a, b)
    }

    #[test]
    fn bytes_arrive_in_order_whether_written_at_once_or_queued() {
        let (a, mut b) = pair();
        let (out, writer) = outbox(&a, 4, Direct::WhenIdle).unwrap();
        let t = std::thread::spawn(move || writer.run(&never()));
        for i in 0..100u8 {
            assert_eq!(out.push(vec![i; 1000]), Pushed::Taken);
        }
        drop(out);
        let mut got = vec![0u8; 100_000];
        b.read_exact(&mut got).unwrap();
        for (i, chunk) in got.chunks(1000).enumerate() {
            assert!(
                chunk.iter().all(|&x| x == i as u8),
                "chunk {i} out of order"
            );
        }
        t.join().unwrap().unwrap();
    }

    #[test]
    fn a_peer_that_stops_reading_fills_the_queue_and_push_never_blocks() {
        let (a, _b) = pair(); // _b never reads
        let (out, writer) = outbox(&a, 2, Direct::WhenIdle).unwrap();
        let stop = bounded::<()>(0);
        let t = std::thread::spawn(move || writer.run(&stop.1));
        let mut full = false;
        for _ in 0..10_000 {
            if out.push(vec![7; 64 * 1024]) == Pushed::Full {
                full = true;
                break;
            }
        }
        assert!(full, "the queue never filled although nobody reads");
        out.close();
        drop(stop.0);
        let _ = t.join().unwrap();
    }

    #[test]
    fn the_queue_holds_exactly_its_capacity_then_says_full() {
        let (a, _b) = pair();
        // No writer runs and nothing is written at once: every push waits in the queue.
        let (out, _writer) = outbox(&a, 3, Direct::Never).unwrap();
        for i in 0..3 {
            assert_eq!(out.push(vec![i; 10]), Pushed::Taken, "parcel {i}");
        }
        assert_eq!(out.push(vec![9; 10]), Pushed::Full);
        assert_eq!(
            out.push(vec![9; 10]),
            Pushed::Full,
            "a refused parcel takes no room"
        );
    }

    #[test]
    fn the_last_word_is_written_then_the_connection_closes() {
        let (a, mut b) = pair();
        let (out, _writer) = outbox(&a, 4, Direct::WhenIdle).unwrap();
        assert_eq!(out.push_last(b"bye".to_vec(), None), Pushed::Taken);
        let mut got = Vec::new();
        b.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"bye");
    }

    #[test]
    fn direct_never_leaves_every_write_to_the_writer_thread() {
        let (a, mut b) = pair();
        let (out, writer) = outbox(&a, 4, Direct::Never).unwrap();
        assert_eq!(out.push(b"queued".to_vec()), Pushed::Taken);
        b.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 16];
        let early = b.read(&mut buf);
        assert!(
            matches!(&early, Err(e) if e.kind() == io::ErrorKind::WouldBlock),
            "bytes arrived with no writer running: {early:?}"
        );
        b.set_nonblocking(false).unwrap();
        let t = std::thread::spawn(move || writer.run(&never()));
        b.read_exact(&mut buf[..6]).unwrap();
        assert_eq!(&buf[..6], b"queued");
        drop(out);
        t.join().unwrap().unwrap();
    }
}
