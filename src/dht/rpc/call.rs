//! The calling side of a remote procedure call (远程调用): send one request, wait for
//! its reply, try again if none comes.
//!
//! Each call takes a private UDP socket of its node's [`Caller`] (a few idle ones are
//! kept, `Config::pool`), connects it to the callee (so the kernel passes on only the
//! callee's datagrams, and a closed port on loopback fails the call at once with
//! "connection refused"), sends, and waits [`TRY_TIMEOUT`], then twice that, then four
//! times, resending each time: [`TRIES`] tries in all. A reply counts only if its
//! transaction id and source address both match; anything else is a stale reply to an
//! earlier call on this socket and is dropped. Every request is safe to repeat (puts
//! and STOREs are set unions, NOTIFY and the leave notices are idempotent).
//!
//! This blocks, so it runs on a node's workers (`node/jobs.rs`) and on the thread of
//! whoever called the public handle (a lookup, a put), never on the coordinator.
//!
//! A caller made by [`Caller::for_upkeep`] (the maintenance rounds' calls) sets the
//! upkeep flag of its datagrams (`msg/mod.rs`). Each datagram is counted in the node's
//! [`Traffic`] as it crosses the socket, as upkeep if its own flag says so: a reply
//! echoes its request's flag, so even a stale reply is counted as what it is.

use crate::dht::error::DhtError;
use crate::dht::id::Id;
use crate::dht::msg::MAX_DATAGRAM;
use crate::dht::msg::{datagram, decode_reply, encode_request, split_head, Head, Reply, Request};
use crate::dht::policy::NodeRef;
use crate::locate::Traffic;
use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Idle private sockets a node keeps for its calls by default: one per worker and one
/// for the handle. A call finding none opens one (a UDP socket costs one fd and no
/// handshake, and leaves nothing in TIME_WAIT).
pub const POOL_SIZE: usize = 3;
/// Wait for the first reply. Loopback answers in microseconds; a ring of 4,096 nodes on
/// two cores may take a few milliseconds. Each retry waits twice as long.
pub const TRY_TIMEOUT: Duration = Duration::from_millis(300);
/// Sends of one request before the callee is taken for failed: 0.3 + 0.6 + 1.2 s.
pub const TRIES: u32 = 3;

/// A private socket and its receive buffer.
type Slot = (UdpSocket, Vec<u8>);

struct Inner {
    idle: Mutex<Vec<Slot>>,
    keep: usize,
    /// The owning node's counts: every datagram sent or received here.
    traffic: Traffic,
    next_txid: AtomicU32,
    shut: AtomicBool,
}

/// One node's way to call others: its own ref (lookups start from it), its ring size
/// and its sockets. Cheap to clone: the workers and the handle each hold one.
#[derive(Clone)]
pub struct Caller {
    pub me: NodeRef,
    pub bits: u32,
    /// Its calls are the ring's upkeep (a maintenance round's), flagged as such.
    upkeep: bool,
    inner: Arc<Inner>,
}

impl Caller {
    pub fn new(me: NodeRef, bits: u32, keep: usize, traffic: Traffic) -> Caller {
        // Transaction ids start somewhere that depends on the node, so two nodes' calls
        // do not count up in step (a stale reply still needs the right source, too).
        let seed = u32::from_be_bytes([me.id.0[0], me.id.0[1], me.id.0[2], me.id.0[3]]);
        let inner = Inner {
            idle: Mutex::new(Vec::new()),
            keep,
            traffic,
            next_txid: AtomicU32::new(seed),
            shut: AtomicBool::new(false),
        };
        Caller {
            me,
            bits,
            upkeep: false,
            inner: Arc::new(inner),
        }
    }

    /// The same node's caller for its maintenance rounds: every call is flagged upkeep.
    pub fn for_upkeep(&self) -> Caller {
        Caller {
            upkeep: true,
            ..self.clone()
        }
    }

    /// One remote call; every node named in the reply must be honest about its id. An
    /// ERROR reply becomes [`DhtError::Remote`].
    pub fn call(&self, to: &NodeRef, req: &Request) -> Result<Reply, DhtError> {
        if self.inner.shut.load(Ordering::Relaxed) {
            return Err(DhtError::Stopped);
        }
        let (sock, mut buf) = self.take()?;
        let txid = self.inner.next_txid.fetch_add(1, Ordering::Relaxed);
        let head = Head {
            txid,
            upkeep: self.upkeep,
        };
        let body = encode_request(self.bits, req);
        let r = exchange(&sock, &mut buf, to.addr, head, &body, &self.inner.traffic);
        self.give_back((sock, buf));
        match r? {
            Reply::Error(text) => Err(DhtError::Remote(text)),
            rep => {
                check_reply(&rep, self.bits)?;
                Ok(rep)
            }
        }
    }

    /// Closes every idle socket (the node is stopping).
    pub fn close_all(&self) {
        self.lock().clear();
    }

    /// The node is stopping: every later call fails at once with [`DhtError::Stopped`],
    /// so a worker half-way through a round of calls to nodes that are gone ends
    /// within one call's tries instead of trying each of them.
    pub fn shut(&self) {
        self.inner.shut.store(true, Ordering::Relaxed);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Slot>> {
        self.inner.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take(&self) -> Result<Slot, DhtError> {
        if let Some(s) = self.lock().pop() {
            return Ok(s);
        }
        let sock = UdpSocket::bind(SocketAddr::new(self.me.addr.ip(), 0))?;
        Ok((sock, vec![0u8; MAX_DATAGRAM + 1]))
    }

    fn give_back(&self, s: Slot) {
        let mut idle = self.lock();
        if idle.len() < self.inner.keep {
            idle.push(s);
        }
    }
}

/// Sends `body` under `head` to `to` from `sock` and waits for the matching reply
/// (same transaction id and source), retrying as the module doc says. Also used by a
/// leaving node on its own socket, so that its leave notices come from the address
/// they speak for.
pub fn exchange(
    sock: &UdpSocket,
    buf: &mut [u8],
    to: SocketAddr,
    head: Head,
    body: &[u8],
    traffic: &Traffic,
) -> Result<Reply, DhtError> {
    let d = datagram(head, body);
    sock.connect(to)?;
    let mut wait = TRY_TIMEOUT;
    let mut refused = false;
    for _ in 0..TRIES {
        sock.send(&d)?;
        traffic.sent_as(head.upkeep, d.len());
        let end = Instant::now() + wait;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            sock.set_read_timeout(Some(left))?;
            let (n, from) = match sock.recv_from(buf) {
                Ok(x) => x,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
                // The callee's port is closed. Once may be an old error of this socket
                // (an earlier callee); twice in one call is this one.
                Err(e) if e.kind() == ErrorKind::ConnectionRefused && !refused => {
                    refused = true;
                    break;
                }
                Err(e) => return Err(e.into()),
            };
            let Ok((h, rep)) = split_head(&buf[..n]) else {
                traffic.received(n);
                continue;
            };
            traffic.received_as(h.upkeep, n);
            if from == to && h.txid == head.txid {
                return Ok(decode_reply(rep)?);
            }
        }
        wait *= 2;
    }
    Err(DhtError::NoAnswer(to))
}

/// True if `n.id` is the hash of `n.addr` on an m-bit ring: the check that keeps a node
/// from choosing where on the ring it sits (and so which keys it gets to own).
pub fn honest(n: &NodeRef, bits: u32) -> bool {
    Id::of_addr(&n.addr, bits) == n.id
}

/// [`honest`] as an error naming the liar.
pub fn check_node(n: &NodeRef, bits: u32) -> Result<(), DhtError> {
    if honest(n, bits) {
        Ok(())
    } else {
        Err(DhtError::BadId {
            addr: n.addr,
            claimed: n.id,
        })
    }
}

/// Checks every node named in a reply.
pub fn check_reply(rep: &Reply, bits: u32) -> Result<(), DhtError> {
    let nodes: &[NodeRef] = match rep {
        Reply::Pong(n) => std::slice::from_ref(n),
        Reply::Predecessor(Some(n)) => std::slice::from_ref(n),
        Reply::Done(v) | Reply::Next(v) | Reply::Successors(v) => v,
        _ => &[],
    };
    nodes.iter().try_for_each(|n| check_node(n, bits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_naming_a_node_with_a_made_up_id_is_refused() {
        let addr: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let good = NodeRef {
            id: Id::of_addr(&addr, 160),
            addr,
        };
        // The id just before ours would make the liar our predecessor: it would own
        // every key between it and us without having earned the place.
        let liar = NodeRef {
            id: good.id.sub(&Id::pow2(0), 160),
            addr: "127.0.0.1:4001".parse().unwrap(),
        };
        assert!(honest(&good, 160));
        assert!(!honest(&liar, 160));
        assert!(
            !honest(&good, 8),
            "the same address hashes differently on an 8-bit ring"
        );
        assert!(check_reply(&Reply::Next(vec![good]), 160).is_ok());
        let err = check_reply(&Reply::Done(vec![good, liar]), 160).unwrap_err();
        assert!(
            err.to_string().contains("not the hash of its address"),
            "{err}"
        );
        assert!(check_reply(&Reply::Predecessor(Some(liar)), 160).is_err());
        assert!(check_reply(&Reply::Ok, 160).is_ok());
    }

    #[test]
    fn stale_and_foreign_replies_are_dropped_and_the_right_one_taken() {
        let me = UdpSocket::bind("127.0.0.1:0").unwrap();
        let callee = UdpSocket::bind("127.0.0.1:0").unwrap();
        let other = UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = callee.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let mut b = [0u8; 64];
            let (_, from) = callee.recv_from(&mut b).unwrap();
            let ok = crate::dht::msg::encode_reply(&Reply::Ok);
            // A stale reply (transaction 6), a reply from someone else, then ours.
            callee
                .send_to(&datagram(Head::upkeep(6), &ok), from)
                .unwrap();
            other
                .send_to(&datagram(Head::upkeep(7), &ok), from)
                .unwrap();
            let pong = crate::dht::msg::encode_reply(&Reply::Predecessor(None));
            callee
                .send_to(&datagram(Head::upkeep(7), &pong), from)
                .unwrap();
        });
        let mut buf = vec![0u8; MAX_DATAGRAM + 1];
        let body = encode_request(160, &Request::GetPredecessor);
        let t = Traffic::new();
        let rep = exchange(&me, &mut buf, to, Head::upkeep(7), &body, &t).unwrap();
        assert_eq!(rep, Reply::Predecessor(None));
        server.join().unwrap();
        // One request out; in, the stale reply and ours (the connected socket never
        // sees the stranger's), each counted as the upkeep its flag says it is.
        let n = t.snapshot("me");
        assert_eq!((n.msgs_sent, n.upkeep_msgs_sent), (1, 1));
        assert_eq!((n.msgs_received, n.upkeep_msgs_received), (2, 2));
    }
}
