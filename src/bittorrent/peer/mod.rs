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
//! Where to look: `mod.rs` has the loop and the message dispatch, `download.rs`
//! the requests we send and the blocks we receive, `upload.rs` the other direction.
//!
//! Blocks are copied from the receive buffer straight into their piece's buffer; a
//! complete piece goes to the verifier thread, so hashing never stalls the socket.
//! The read timeout is short ([`TICK`]): a quiet connection still sees the node's
//! commands promptly, and silence is counted against [`PEER_TIMEOUT`].

use super::bitfield::Bitfield;
use super::blocks::Request;
use super::handshake::Handshake;
use super::message::{decode, encode_into, max_message_len, split_frame, Message};
use super::state::{Cmd, PeerCounters, PeerKey, Shared};
use crate::net::ConnResult;
use crate::wire::WireError;
use crossbeam_channel::{unbounded, Receiver};
use log::debug;
use std::collections::VecDeque;
use std::io::Write;
use std::net::TcpStream;
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
    let (key, counters) = shared.register(addr, theirs.peer_id, tx)?;
    debug!("peer {addr}: handshake done, key {key}");
    let mut conn = Conn::new(shared.clone(), key, rx, counters);
    let result = conn.run(&stream);
    shared.unregister(key, &conn.peer_has, &conn.requests);
    result
}

mod download;
mod inbuf;
mod upload;

use inbuf::InBuf;

/// With an upload cap, bytes answered per turn of the loop, so that a connection
/// waiting for tokens still reads its peer's messages between blocks.
pub const UPLOAD_SLICE: usize = 64 * 1024;
/// Read timeout while capped uploads wait: come back to them almost at once.
const BUSY_TICK: Duration = Duration::from_millis(1);

pub(super) struct Conn {
    shared: Arc<Shared>,
    key: PeerKey,
    rx: Receiver<Cmd>,
    max_len: usize,
    peer_has: Bitfield,
    am_choking: bool,
    am_interested: bool,
    peer_choking: bool,
    /// Which slot the peer holds with us (bytes are counted per kind).
    optimistic_slot: bool,
    seen_message: bool,
    /// Our block requests this peer has not answered yet.
    requests: Vec<Request>,
    counters: Arc<PeerCounters>,
    uploads: VecDeque<(u32, u32, u32)>,
    out: Vec<u8>,
    last_heard: Instant,
    last_sent: Instant,
}

impl Conn {
    fn new(
        shared: Arc<Shared>,
        key: PeerKey,
        rx: Receiver<Cmd>,
        counters: Arc<PeerCounters>,
    ) -> Conn {
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
            optimistic_slot: false,
            seen_message: false,
            requests: Vec::new(),
            counters,
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
        let mut busy = false;
        loop {
            self.commands()?;
            self.fill_pipeline();
            self.serve_requests(stream)?;
            if self.last_sent.elapsed() > KEEPALIVE_EVERY {
                encode_into(&Message::KeepAlive, &mut self.out);
            }
            self.flush(stream)?;
            // Capped uploads still queued: do not sleep a whole tick in `read`.
            let queued = !self.uploads.is_empty();
            if busy != queued {
                busy = queued;
                stream.set_read_timeout(Some(if busy { BUSY_TICK } else { TICK }))?;
            }
            match inb.fill(stream) {
                Ok(0) => return Ok(()),
                Ok(n) => {
                    self.last_heard = Instant::now();
                    if let Some(b) = &self.shared.download_bucket {
                        b.take(n); // a download cap: TCP flow control slows the sender
                    }
                }
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
                Cmd::Unchoke { optimistic } => {
                    self.optimistic_slot = optimistic;
                    if self.am_choking {
                        self.am_choking = false;
                        encode_into(&Message::Unchoke, &mut self.out);
                    }
                }
                Cmd::Cancel {
                    index,
                    begin,
                    length,
                } => {
                    let r = (index, begin, length);
                    if let Some(pos) = self.requests.iter().position(|&q| q == r) {
                        self.requests.swap_remove(pos);
                        encode_into(
                            &Message::Cancel {
                                index,
                                begin,
                                length,
                            },
                            &mut self.out,
                        );
                    }
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
            let mut st = self.shared.lock();
            if let Some(p) = st.peers.get_mut(&self.key) {
                p.we_interested = want;
                p.last_block = Instant::now(); // snubbed counts from now
            }
            drop(st);
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
        if interested {
            self.shared.on_interested(&mut st, self.key);
        }
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
                // The peer drops our pending requests: other peers may take them over.
                self.shared.release(self.key, &self.requests);
                self.requests.clear();
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
                if !self.peer_has.has(i as usize) {
                    self.peer_has.set(i as usize);
                    self.shared.peer_has(i as usize);
                }
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
                let new = Bitfield::from_bytes(bits, n)?;
                self.shared.peer_bitfield(&self.peer_has, &new);
                self.peer_has = new;
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
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}
