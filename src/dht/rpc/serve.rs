//! The serving side: the reader thread, and how the coordinator sends its replies.
//!
//! The reader only receives: one datagram, the rate limit of its source ([`Limiter`]),
//! decode, and a `try_send` of the request to the coordinator. A full queue drops the
//! datagram (and counts it), as a busy UDP server does: the caller will retry. Bad
//! bytes (an unknown type, a lying length, another ring size) get an ERROR reply naming
//! the problem, sent by the reader itself; the node keeps serving everyone else.
//!
//! Every datagram is counted in the node's `Traffic` where it crosses the socket, as
//! upkeep when its upkeep flag is set (`msg/mod.rs`); a reply carries its request's
//! flags back, so the reply to a maintenance round's call is upkeep at both ends.
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
    datagram, decode_request, encode_reply, split_head, Head, Reply, Request, MAX_DATAGRAM,
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

/// One request for the coordinator: who asked, under which head (transaction id and
/// upkeep flag, both echoed in the reply).
pub struct Incoming {
    pub from: SocketAddr,
    pub head: Head,
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
    /// Sends one reply under its request's head; never waits longer than [`SEND_TIMEOUT`].
    pub fn reply(&self, to: SocketAddr, head: Head, rep: &Reply) {
        let d = datagram(head, &encode_reply(rep));
        // Counted before it goes: the caller may count the reply, and a lab read both
        // counters, before this thread runs again.
        self.traffic.sent_as(head.upkeep, d.len());
        match self.sock.send_to(&d, to) {
            Ok(_) => {}
            Err(e) => {
                self.traffic.unsent_as(head.upkeep, d.len());
                self.counters.send_dropped.fetch_add(1, Ordering::Relaxed);
                log::debug!("dht: reply to {to} dropped: {e}");
            }
        }
    }

    /// Answers ERROR with the problem's text.
    pub fn refuse(&self, to: SocketAddr, head: Head, e: &DhtError) {
        self.counters.refused.fetch_add(1, Ordering::Relaxed);
        log::info!("dht: refusing a request from {to}: {e}");
        self.reply(to, head, &Reply::Error(e.to_string()));
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
        let d = &buf[..n];
        let split = split_head(d);
        let upkeep = split.as_ref().is_ok_and(|(h, _)| h.upkeep);
        ctx.out.traffic.received_as(upkeep, n);
        if !limit.allow(from, Instant::now()) {
            c.limited.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let (head, body) = match split {
            Ok(x) => x,
            Err(e) if n >= 4 => {
                // Answered as a user's call: flags that do not parse mean nothing.
                let txid = u32::from_be_bytes([d[0], d[1], d[2], d[3]]);
                ctx.out.refuse(from, Head::call(txid), &e.into());
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
                ctx.out.refuse(from, head, &e);
                continue;
            }
            Ok((_, req)) => req,
            Err(e) => {
                ctx.out.refuse(from, head, &e.into());
                continue;
            }
        };
        match ctx.events.try_send(Incoming { from, head, req }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                c.queue_full.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Disconnected(_)) => return,
        }
    }
}
