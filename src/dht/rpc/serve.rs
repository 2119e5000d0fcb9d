//! The serving side: the reader thread, and how the coordinator sends its replies.
//!
//! The reader only receives: one datagram, the rate limit of its source ([`Limiter`]),
//! decode, and a `try_send` of the request to the coordinator. A full queue drops the
//! datagram (and counts it), as a busy UDP server does: the caller will retry. Bad
//! bytes (an unknown type, a lying length, another ring size) get an ERROR reply naming
//! the problem, sent by the reader itself; the node keeps serving everyone else.
//!
//! The coordinator replies with `send_to` on the same socket, so a reply comes from the
//! address the request went to (callers check that). It must never wait: the socket
//! has a send timeout of [`SEND_TIMEOUT`], and a reply that does not fit the kernel's
//! send buffer within it is dropped and counted. The kernel's buffer is the bounded
//! queue between the coordinator and the network. (A clone of the socket with
//! `O_NONBLOCK` would not do: the flag belongs to the open socket, which the clone
//! shares, so the reader could no longer block in `recv_from`.)

use super::limit::{Limiter, BURST, RATE, SOURCES};
use crate::dht::error::DhtError;
use crate::dht::msg::{
    datagram, decode_request, encode_reply, split_txid, Reply, Request, MAX_DATAGRAM,
};
use crate::locate::Traffic;
use crossbeam_channel::{Sender, TrySendError};
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest a reply may wait for room in the kernel's send buffer before it is dropped.
pub const SEND_TIMEOUT: Duration = Duration::from_millis(1);
/// How often a reader with nothing to read checks whether its node is stopping (the
/// stop also wakes it with an empty datagram; this is the fallback if that is lost).
pub const STOP_CHECK: Duration = Duration::from_secs(1);

/// One request for the coordinator: who asked, under which transaction id.
pub struct Incoming {
    pub from: SocketAddr,
    pub txid: u32,
    pub req: Request,
}

/// Datagrams a node dropped or refused, by reason (atomics: the reader and the
/// coordinator both count).
#[derive(Default)]
pub struct Counters {
    limited: AtomicU64,
    queue_full: AtomicU64,
    send_dropped: AtomicU64,
    refused: AtomicU64,
}

/// A copy of [`Counters`], for tests and labs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Drops {
    /// Requests dropped because their source had used up its rate.
    pub limited: u64,
    /// Requests dropped because the coordinator's queue was full.
    pub queue_full: u64,
    /// Replies dropped because the kernel's send buffer stayed full.
    pub send_dropped: u64,
    /// Datagrams answered with ERROR (or too short to answer).
    pub refused: u64,
}

impl Counters {
    pub fn snapshot(&self) -> Drops {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Drops {
            limited: get(&self.limited),
            queue_full: get(&self.queue_full),
            send_dropped: get(&self.send_dropped),
            refused: get(&self.refused),
        }
    }
}

/// How a node answers: its socket, counts and traffic. Shared by reader and coordinator.
#[derive(Clone)]
pub struct Replier {
    pub sock: Arc<UdpSocket>,
    pub traffic: Traffic,
    pub counters: Arc<Counters>,
}

impl Replier {
    /// Sends one reply; never waits longer than [`SEND_TIMEOUT`].
    pub fn reply(&self, to: SocketAddr, txid: u32, rep: &Reply) {
        let d = datagram(txid, &encode_reply(rep));
        match self.sock.send_to(&d, to) {
            Ok(_) => self.traffic.sent(d.len()),
            Err(e) => {
                self.counters.send_dropped.fetch_add(1, Ordering::Relaxed);
                log::debug!("dht: reply to {to} dropped: {e}");
            }
        }
    }

    /// Answers ERROR with the problem's text.
    pub fn refuse(&self, to: SocketAddr, txid: u32, e: &DhtError) {
        self.counters.refused.fetch_add(1, Ordering::Relaxed);
        log::info!("dht: refusing a request from {to}: {e}");
        self.reply(to, txid, &Reply::Error(e.to_string()));
    }
}

/// What the reader needs.
pub struct Ctx {
    pub out: Replier,
    /// m of our ring: a request from another ring size is refused.
    pub bits: u32,
    pub events: Sender<Incoming>,
    pub stop: Arc<AtomicBool>,
}

/// The reader thread: datagrams in, requests out, until the node stops.
pub fn reader(ctx: Ctx) {
    // One byte more than the largest datagram, to tell an oversized one from a full one.
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    let mut limit = Limiter::new(RATE, BURST, SOURCES);
    let c = &ctx.out.counters;
    loop {
        let got = ctx.out.sock.recv_from(&mut buf);
        if ctx.stop.load(Ordering::Relaxed) {
            return;
        }
        let (n, from) = match got {
            Ok(x) => x,
            Err(e) => {
                log::debug!("dht: receive: {e}");
                continue;
            }
        };
        ctx.out.traffic.received(n);
        if !limit.allow(from, Instant::now()) {
            c.limited.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let d = &buf[..n];
        let (txid, body) = match split_txid(d) {
            Ok(x) => x,
            Err(e) if n >= 4 => {
                let txid = u32::from_be_bytes([d[0], d[1], d[2], d[3]]);
                ctx.out.refuse(from, txid, &e.into());
                continue;
            }
            Err(_) => {
                c.refused.fetch_add(1, Ordering::Relaxed);
                continue;
            }
        };
        // A reply (type 0x80 and up) is never answered: two nodes would otherwise trade
        // ERRORs about each other's ERRORs forever. Late replies to a leave notice land here.
        if body.first().is_some_and(|t| *t >= 0x80) {
            continue;
        }
        let req = match decode_request(body) {
            Ok((bits, _)) if bits != ctx.bits => {
                let e = DhtError::BitsMismatch {
                    ours: ctx.bits,
                    theirs: bits,
                };
                ctx.out.refuse(from, txid, &e);
                continue;
            }
            Ok((_, req)) => req,
            Err(e) => {
                ctx.out.refuse(from, txid, &e.into());
                continue;
            }
        };
        match ctx.events.try_send(Incoming { from, txid, req }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                c.queue_full.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Disconnected(_)) => return,
        }
    }
}
