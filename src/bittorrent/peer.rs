//! One peer connection, on its own thread: handshake, then read, decide, write.
//!
//! ```text
//!   loop:  commands from the node (have, choke, unchoke, drop)
//!          keep `pipeline` block requests outstanding          ──► request ...
//!          answer the peer's queued requests from disk          ──► piece ...
//!          flush what was written, in one send
//!          read whatever arrived (up to 256 KiB at once)       ◄── piece / request / have ...
//!          handle every complete message in the buffer
//! ```
//! Blocks are copied from the receive buffer straight into their piece's buffer; a
//! complete piece goes to the verifier thread, so hashing never stalls the socket.
//! The read timeout is short ([`TICK`]): a quiet connection still sees the node's
//! commands promptly, and silence is counted against [`PEER_TIMEOUT`].

use super::bitfield::Bitfield;
use super::handshake::Handshake;
use super::message::{self, decode, encode_into, max_message_len, split_frame, Message, MAX_BLOCK};
use super::picker::pick_piece;
use super::state::{Cmd, Finished, PeerKey, Shared};
use crate::net::ConnResult;
use crate::wire::WireError;
use crossbeam_channel::{unbounded, Receiver};
use log::debug;
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The handshake must complete within this time (aria2c retries in plaintext ~1 s
/// after we refuse its encrypted handshake, on a new connection).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Read timeout: how often a silent connection looks at its commands.
pub const TICK: Duration = Duration::from_millis(100);
/// A peer silent this long is dropped (BEP 3 peers send keep-alives every 2 minutes).
pub const PEER_TIMEOUT: Duration = Duration::from_secs(180);
/// We send a keep-alive after this long without sending anything.
pub const KEEPALIVE_EVERY: Duration = Duration::from_secs(90);
/// A peer that does not read what we send for this long is dropped.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Bytes read from the socket at once, beyond room for one whole message.
pub const RECV_BUF: usize = 256 * 1024;
/// Written data is sent when this much is waiting (and before every blocking read).
pub const SEND_FLUSH: usize = 256 * 1024;
/// Requests a peer may queue at us; more is abuse and ends the connection.
pub const MAX_QUEUED_REQUESTS: usize = 1024;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Runs one connection to its end. `outgoing`: we called, so we speak first.
pub(crate) fn serve(shared: Arc<Shared>, stream: TcpStream, outgoing: bool) -> ConnResult {
    let addr = stream.peer_addr()?;
    stream.set_read_timeout(Some(HANDSHAKE_TIMEOUT))?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let ours = Handshake::new(shared.info_hash(), shared.peer_id);
    let mut s = &stream;
    if outgoing {
        ours.write_to(&mut s)?;
    }
    let theirs = Handshake::read_from(&mut s)?;
    if theirs.info_hash != shared.info_hash() {
        return Err("handshake names another torrent (info-hash differs)".into());
    }
    if !outgoing {
        ours.write_to(&mut s)?;
    }
    let (tx, rx) = unbounded();
    let key = shared.register(addr, theirs.peer_id, tx)?;
    debug!("peer {addr}: handshake done, key {key}");
    let mut conn = Conn::new(shared.clone(), key, rx);
    let result = conn.run(&stream);
    let in_flight: Vec<usize> = conn.partials.iter().map(|p| p.index).collect();
    shared.unregister(key, &in_flight);
    for p in conn.partials.drain(..) {
        let _ = shared.pool_tx.send(p.buf);
    }
    result
}

/// A piece being fetched from this peer, block by block.
struct Partial {
    index: usize,
    size: usize,
    buf: Vec<u8>,
    requested: Vec<bool>,
    received: Vec<bool>,
    got: usize,
}

impl Partial {
    fn block_len(&self, b: usize) -> usize {
        (self.size - b * MAX_BLOCK as usize).min(MAX_BLOCK as usize)
    }
}

/// The receive buffer: bytes read but not yet parsed live in `buf[start..end]`.
struct InBuf {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl InBuf {
    fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn fill(&mut self, mut r: &TcpStream) -> std::io::Result<usize> {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        } else if self.buf.len() - self.end < RECV_BUF / 2 {
            self.buf.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
        }
        let n = r.read(&mut self.buf[self.end..])?;
        self.end += n;
        Ok(n)
    }
}

struct Conn {
    shared: Arc<Shared>,
    key: PeerKey,
    rx: Receiver<Cmd>,
    max_len: usize,
    peer_has: Bitfield,
    am_choking: bool,
    am_interested: bool,
    peer_choking: bool,
    seen_message: bool,
    partials: Vec<Partial>,
    outstanding: usize,
    uploads: VecDeque<(u32, u32, u32)>,
    out: Vec<u8>,
    last_heard: Instant,
    last_sent: Instant,
}

impl Conn {
    fn new(shared: Arc<Shared>, key: PeerKey, rx: Receiver<Cmd>) -> Conn {
        let n = shared.num_pieces();
        Conn {
            max_len: max_message_len(n),
            peer_has: Bitfield::new(n),
            shared,
            key,
            rx,
            am_choking: true,
            am_interested: false,
            peer_choking: true,
            seen_message: false,
            partials: Vec::new(),
            outstanding: 0,
            uploads: VecDeque::new(),
            out: Vec::with_capacity(SEND_FLUSH + 64 * 1024),
            last_heard: Instant::now(),
            last_sent: Instant::now(),
        }
    }

    fn run(&mut self, stream: &TcpStream) -> ConnResult {
        stream.set_read_timeout(Some(TICK))?;
        let mut inb = InBuf {
            buf: vec![0; RECV_BUF + self.max_len + 4],
            start: 0,
            end: 0,
        };
        let have = self.shared.bitfield();
        if have.count() > 0 {
            encode_into(&Message::Bitfield(have.as_bytes()), &mut self.out);
        }
        loop {
            self.commands()?;
            self.fill_pipeline();
            self.serve_requests(stream)?;
            if self.last_sent.elapsed() > KEEPALIVE_EVERY {
                encode_into(&Message::KeepAlive, &mut self.out);
            }
            self.flush(stream)?;
            match inb.fill(stream) {
                Ok(0) => return Ok(()),
                Ok(_) => self.last_heard = Instant::now(),
                Err(e) if is_timeout(&e) => {
                    if self.last_heard.elapsed() > PEER_TIMEOUT {
                        return Err(format!("silent for {PEER_TIMEOUT:?}").into());
                    }
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
            while let Some(total) = split_frame(inb.data(), self.max_len)? {
                self.handle(decode(&inb.data()[4..total])?)?;
                inb.start += total;
            }
        }
    }

    fn flush(&mut self, mut stream: &TcpStream) -> Result<(), Error> {
        if !self.out.is_empty() {
            stream.write_all(&self.out)?;
            self.out.clear();
            self.last_sent = Instant::now();
        }
        Ok(())
    }

    fn commands(&mut self) -> Result<(), Error> {
        while let Ok(cmd) = self.rx.try_recv() {
            match cmd {
                Cmd::Have(i) => {
                    encode_into(&Message::Have(i), &mut self.out);
                    self.update_interest();
                }
                Cmd::Choke => {
                    self.am_choking = true;
                    self.uploads.clear(); // a choked peer's requests are dropped (BEP 3)
                    encode_into(&Message::Choke, &mut self.out);
                }
                Cmd::Unchoke => {
                    self.am_choking = false;
                    encode_into(&Message::Unchoke, &mut self.out);
                }
                Cmd::Drop(why) => return Err(why.into()),
            }
        }
        Ok(())
    }

    /// Interested while the peer has a piece we lack; say so when that changes.
    fn update_interest(&mut self) {
        let n = self.shared.num_pieces();
        let want = (0..n).any(|i| self.peer_has.has(i) && !self.shared.has_piece(i));
        if want != self.am_interested {
            self.am_interested = want;
            let m = if want {
                Message::Interested
            } else {
                Message::NotInterested
            };
            encode_into(&m, &mut self.out);
        }
    }

    fn set_peer_interested(&self, interested: bool) {
        let mut st = self.shared.lock();
        if let Some(p) = st.peers.get_mut(&self.key) {
            p.interested = interested;
        }
        self.shared.rechoke(&mut st);
    }

    fn handle(&mut self, msg: Message<'_>) -> Result<(), Error> {
        let first = !self.seen_message && msg != Message::KeepAlive;
        if msg != Message::KeepAlive {
            self.seen_message = true;
        }
        let n = self.shared.num_pieces();
        match msg {
            Message::KeepAlive | Message::Port(_) => {}
            Message::Unknown(id) => debug!("ignoring message id {id}"),
            Message::Choke => {
                self.peer_choking = true;
                // The peer drops our pending requests; ask again after the unchoke.
                for p in &mut self.partials {
                    p.requested.clone_from(&p.received);
                }
                self.outstanding = 0;
            }
            Message::Unchoke => self.peer_choking = false,
            Message::Interested => self.set_peer_interested(true),
            Message::NotInterested => self.set_peer_interested(false),
            Message::Have(i) => {
                if i as usize >= n {
                    return Err(
                        WireError::Malformed("have names a piece that does not exist").into(),
                    );
                }
                self.peer_has.set(i as usize);
                if !self.am_interested && !self.shared.has_piece(i as usize) {
                    self.update_interest();
                }
            }
            Message::Bitfield(bits) => {
                // BEP 3 allows it only first, but aria2c 1.36 sends it again mid-stream:
                // accept a later one (still fully checked) as the peer's new state.
                if !first {
                    debug!("bitfield after the first message: replacing the old one");
                }
                self.peer_has = Bitfield::from_bytes(bits, n)?;
                self.update_interest();
            }
            Message::Request {
                index,
                begin,
                length,
            } => self.on_request(index, begin, length)?,
            Message::Cancel {
                index,
                begin,
                length,
            } => {
                self.uploads.retain(|&r| r != (index, begin, length));
            }
            Message::Piece {
                index,
                begin,
                block,
            } => self.on_piece(index, begin, block)?,
        }
        Ok(())
    }

    fn on_request(&mut self, index: u32, begin: u32, length: u32) -> Result<(), Error> {
        let i = index as usize;
        if i >= self.shared.num_pieces()
            || begin as u64 + length as u64 > self.shared.storage.piece_size(i) as u64
        {
            return Err(WireError::Malformed("request outside the piece").into());
        }
        if self.am_choking || !self.shared.has_piece(i) {
            debug!("ignoring request for piece {i} (choked, or we lack it)");
            return Ok(());
        }
        if self.uploads.len() >= MAX_QUEUED_REQUESTS {
            return Err(format!("more than {MAX_QUEUED_REQUESTS} requests queued").into());
        }
        self.uploads.push_back((index, begin, length));
        Ok(())
    }

    /// Answers queued requests: header, then the block read from disk straight into
    /// the send buffer.
    fn serve_requests(&mut self, stream: &TcpStream) -> Result<(), Error> {
        let piece_length = self.shared.meta.info.piece_length;
        while let Some((index, begin, length)) = self.uploads.pop_front() {
            message::piece_header(index, begin, length as usize, &mut self.out);
            let at = self.out.len();
            self.out.resize(at + length as usize, 0);
            let offset = index as u64 * piece_length + begin as u64;
            self.shared.storage.read_at(offset, &mut self.out[at..])?;
            self.shared
                .uploaded
                .fetch_add(length as u64, Ordering::Relaxed);
            if self.out.len() >= SEND_FLUSH {
                self.flush(stream)?;
            }
        }
        Ok(())
    }

    fn on_piece(&mut self, index: u32, begin: u32, block: &[u8]) -> Result<(), Error> {
        let Some(pos) = self.partials.iter().position(|p| p.index == index as usize) else {
            debug!("block of piece {index} we are not fetching: dropped");
            return Ok(());
        };
        let p = &mut self.partials[pos];
        let b = (begin / MAX_BLOCK) as usize;
        if !begin.is_multiple_of(MAX_BLOCK)
            || b >= p.received.len()
            || block.len() != p.block_len(b)
        {
            return Err(WireError::Malformed("block does not match any request").into());
        }
        if p.received[b] {
            return Ok(()); // a duplicate
        }
        if p.requested[b] {
            self.outstanding -= 1;
        }
        p.requested[b] = true;
        p.received[b] = true;
        p.got += 1;
        let at = begin as usize;
        p.buf[at..at + block.len()].copy_from_slice(block);
        self.shared
            .downloaded
            .fetch_add(block.len() as u64, Ordering::Relaxed);
        if p.got == p.received.len() {
            let mut done = self.partials.swap_remove(pos);
            done.buf.truncate(done.size);
            let f = Finished {
                index: done.index,
                data: done.buf,
                from: self.key,
            };
            // Blocks when the verifier is behind: back-pressure instead of buffering.
            self.shared
                .verify_tx
                .send(f)
                .map_err(|_| "node is stopping")?;
        }
        Ok(())
    }

    /// Keeps `pipeline` requests outstanding: the next blocks of pieces in progress,
    /// then new pieces chosen by the picker.
    fn fill_pipeline(&mut self) {
        if self.peer_choking || !self.am_interested {
            return;
        }
        while self.outstanding < self.shared.pipeline {
            let next = self.partials.iter_mut().find_map(|p| {
                let b = p.requested.iter().position(|r| !r)?;
                p.requested[b] = true;
                Some((p.index, b, p.block_len(b)))
            });
            if let Some((index, b, len)) = next {
                let m = Message::Request {
                    index: index as u32,
                    begin: (b * MAX_BLOCK as usize) as u32,
                    length: len as u32,
                };
                encode_into(&m, &mut self.out);
                self.outstanding += 1;
                continue;
            }
            let Some(index) = self.pick() else { return };
            let size = self.shared.storage.piece_size(index);
            let mut buf = self.shared.pool_rx.try_recv().unwrap_or_default();
            buf.resize(size.max(buf.len()), 0);
            let blocks = size.div_ceil(MAX_BLOCK as usize);
            self.partials.push(Partial {
                index,
                size,
                buf,
                requested: vec![false; blocks],
                received: vec![false; blocks],
                got: 0,
            });
        }
    }

    fn pick(&self) -> Option<usize> {
        let mut st = self.shared.lock();
        let refused = st.refused.get(&self.key).map(Vec::as_slice).unwrap_or(&[]);
        let i = pick_piece(&st.pieces, &self.peer_has, refused)?;
        st.pieces[i] = super::picker::PieceState::InFlight;
        Some(i)
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}
