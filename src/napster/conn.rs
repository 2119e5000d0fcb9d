//! One peer's connection to the directory server: a reader thread and a writer thread.
//!
//! ```text
//!   socket ──read_msg──► "napster-server-conn-ADDR" ──Event──► coordinator
//!   socket ◄──────────── net::Outbox ◄──push─── coordinator
//!   (at once if the socket takes it, else "napster-server-send-ADDR" from a
//!    bounded queue of OUT_QUEUE replies)
//! ```
//!
//! Neither thread decides anything. The reader turns frames into events, and a frame
//! that does not parse into [`Event::Bad`] (the coordinator answers with an error and
//! closes). The writer writes what the coordinator's [`Outbox`] could not write at once.
//! Its queue is bounded: when a peer stops reading, its writer blocks in `write`, its
//! queue fills, and the coordinator drops the peer instead of waiting for it.

use super::msg::{read_msg, Msg};
use crate::locate::Traffic;
use crate::net::{self, outbox, ConnResult, Conns, Direct, Outbox};
use crate::wire::WireError;
use crossbeam_channel::{bounded, Receiver, Sender};
use log::debug;
use std::io::{self, BufReader, Read};
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Number of a connection, from its accept on; it becomes the peer's id at login.
pub type ConnId = u64;

/// Replies queued for one peer. A search reply is one entry, so a peer that leaves
/// this many answers unread (on top of what its socket buffers hold) is dropped.
pub const OUT_QUEUE: usize = 256;
/// A peer that takes no bytes for this long is dropped by its writer, a backstop for
/// the full-queue rule (a peer that never asks again never fills its queue).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// What a connection tells the coordinator.
pub enum Event {
    /// A new connection and its outbox, through which the coordinator writes and closes.
    Up {
        id: ConnId,
        ip: Ipv4Addr,
        out: Outbox,
    },
    /// One message, and the bytes read from the socket since the last event.
    Msg { id: ConnId, msg: Msg, bytes: u64 },
    /// Bytes that are not a Napster message: answer with an error, then close.
    Bad { id: ConnId, why: String },
    /// The peer hung up or its socket failed.
    Down { id: ConnId, why: String },
}

/// What every connection of one server shares.
#[derive(Clone)]
pub struct Ctx {
    pub events: Sender<Event>,
    pub conns: Conns,
    pub next_id: Arc<AtomicU64>,
    /// Never carries a message; disconnects when the server stops, so a writer whose
    /// queue's sender is still parked somewhere ends anyway.
    pub stop: Receiver<()>,
    /// The server's messages and bytes, counted as they are read and written.
    pub traffic: Traffic,
}

/// Counts the bytes read, for the server's traffic figures.
struct Counting {
    inner: TcpStream,
    count: u64,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// Runs on the accept's connection thread: starts the writer, then reads until the
/// peer leaves, and waits for the writer (so a refusal is written before the close).
pub fn serve(stream: TcpStream, ctx: &Ctx) -> ConnResult {
    let peer = stream.peer_addr()?;
    let IpAddr::V4(ip) = peer.ip() else {
        return Err("Napster addresses are IPv4".into());
    };
    let id = ctx.next_id.fetch_add(1, Ordering::Relaxed);
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let (out, writer) = outbox(&stream, OUT_QUEUE, Direct::WhenIdle)?;
    let (done, writer_done) = bounded::<()>(0);
    let stop = ctx.stop.clone();
    ctx.conns
        .spawn_worker(format!("napster-server-send-{peer}"), move || {
            if let Err(e) = writer.run(&stop) {
                debug!("napster writer ends: {e}");
            }
            drop(done);
        })?;
    let up = Event::Up { id, ip, out };
    if ctx.events.send(up).is_err() {
        return Ok(()); // the server is stopping
    }
    let result = read_loop(stream, ctx, id);
    // The writer ends when the coordinator lets the peer go or the server stops.
    let _ = writer_done.recv_timeout(WRITE_TIMEOUT);
    result
}

fn read_loop(stream: TcpStream, ctx: &Ctx, id: ConnId) -> ConnResult {
    let mut r = BufReader::new(Counting {
        inner: stream,
        count: 0,
    });
    loop {
        let result = read_msg(&mut r);
        let bytes = std::mem::take(&mut r.get_mut().count);
        // A frame that does not parse was still a message on the wire.
        let msgs = u64::from(!matches!(result, Ok(None) | Err(WireError::Io(_))));
        ctx.traffic.add_received(msgs, bytes);
        let event = match result {
            Ok(Some(msg)) => {
                // Any whole message: the peer is not idle (the slot least useful goes first).
                net::useful();
                Event::Msg { id, msg, bytes }
            }
            Ok(None) => Event::Down {
                id,
                why: "closed".into(),
            },
            Err(WireError::Io(e)) => Event::Down {
                id,
                why: e.to_string(),
            },
            Err(e) => Event::Bad {
                id,
                why: e.to_string(),
            },
        };
        let last = !matches!(event, Event::Msg { .. });
        if ctx.events.send(event).is_err() || last {
            return Ok(());
        }
    }
}
