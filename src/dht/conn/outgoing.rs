//! The calling side of a remote procedure call (远程调用): send one request, read one reply.
//!
//! This blocks until the reply comes (at most [`RPC_TIMEOUT`]), so it runs where waiting
//! is harmless: on a node's workers (`node/jobs.rs`) and on the thread of whoever called
//! the public handle (a lookup, a put). The coordinator never calls it.
//!
//! Opening a TCP connection per call would leave a socket in TIME_WAIT per hop, and a
//! bench doing thousands of lookups a second would run out of ports. So each node keeps
//! a small pool of idle connections (`Config::pool`, default [`POOL_SIZE`]; least
//! recently used dropped first): calls to its successor and predecessor reuse one, rare
//! peers get a fresh one. The bench shows what a bigger pool buys.

use crate::dht::error::DhtError;
use crate::dht::id::Id;
use crate::dht::msg::{decode_reply, encode_request, Reply, Request, MAX_FRAME};
use crate::dht::policy::NodeRef;
use crate::locate::Traffic;
use crate::net;
use crate::wire::{read_frame, write_frame, Prefix};
use std::collections::VecDeque;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Idle connections a node keeps open to others by default. Enough for successor,
/// predecessor and a few fingers; small enough that 256 nodes in one process (two fds
/// and one serving thread per connection) stay far below the limits.
pub const POOL_SIZE: usize = 8;
/// Longest wait for a reply. Loopback answers in microseconds; a node this slow is
/// treated as failed.
pub const RPC_TIMEOUT: Duration = Duration::from_secs(5);

/// Idle connections to other nodes, most recently used first. The lock is held only to
/// take a connection out or put it back, never across a read or a write.
pub struct Pool {
    idle: Mutex<VecDeque<(SocketAddr, TcpStream)>>,
    size: usize,
    /// The owning node's counts: every request written and reply read here.
    traffic: Traffic,
}

impl Pool {
    pub fn new(size: usize) -> Pool {
        Pool {
            idle: Mutex::new(VecDeque::new()),
            size,
            traffic: Traffic::new(),
        }
    }

    fn take(&self, addr: SocketAddr) -> Option<TcpStream> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let at = idle.iter().position(|(a, _)| *a == addr)?;
        idle.remove(at).map(|(_, s)| s)
    }

    fn give_back(&self, addr: SocketAddr, s: TcpStream) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        idle.push_front((addr, s));
        while idle.len() > self.size {
            if let Some((_, old)) = idle.pop_back() {
                let _ = old.shutdown(Shutdown::Both);
            }
        }
    }

    /// Closes every idle connection (the node is stopping, or `addr` has failed).
    pub fn drop_all(&self, addr: Option<SocketAddr>) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        idle.retain(|(a, s)| {
            let keep = addr.is_some_and(|x| x != *a);
            if !keep {
                let _ = s.shutdown(Shutdown::Both);
            }
            keep
        });
    }

    /// Sends `req` to `addr` and returns the reply. An ERROR reply becomes
    /// [`DhtError::Remote`]. A pooled connection the peer closed while idle is retried
    /// once on a fresh one; every request is safe to repeat (puts are set unions).
    pub fn call(&self, addr: SocketAddr, bits: u32, req: &Request) -> Result<Reply, DhtError> {
        let body = encode_request(bits, req);
        if let Some(mut s) = self.take(addr) {
            if let Ok(rep) = exchange(&mut s, &body, &self.traffic) {
                return self.finish(addr, s, rep);
            }
        }
        let mut s = net::connect(addr, Some(RPC_TIMEOUT))?;
        s.set_write_timeout(Some(RPC_TIMEOUT))?;
        let rep = exchange(&mut s, &body, &self.traffic)?;
        self.finish(addr, s, rep)
    }

    fn finish(&self, addr: SocketAddr, s: TcpStream, rep: Reply) -> Result<Reply, DhtError> {
        match rep {
            // The peer closes after an ERROR: do not pool that connection.
            Reply::Error(text) => Err(DhtError::Remote(text)),
            rep => {
                self.give_back(addr, s);
                Ok(rep)
            }
        }
    }
}

/// One node's way to call others: its own ref (lookups start from it), its ring size
/// and its pool. Cheap to clone: the workers and the handle each hold one.
#[derive(Clone)]
pub struct Caller {
    pub me: NodeRef,
    pub bits: u32,
    pool: Arc<Pool>,
}

impl Caller {
    pub fn new(me: NodeRef, bits: u32, pool_size: usize) -> Caller {
        Caller {
            me,
            bits,
            pool: Arc::new(Pool::new(pool_size)),
        }
    }

    /// One remote call; every node named in the reply must be honest about its id. A
    /// node that fails to answer loses its idle connections here; forgetting it in the
    /// routing tables is the coordinator's decision.
    pub fn call(&self, to: &NodeRef, req: &Request) -> Result<Reply, DhtError> {
        let rep = match self.pool.call(to.addr, self.bits, req) {
            Ok(rep) => rep,
            Err(e) => {
                if !matches!(e, DhtError::Remote(_)) {
                    self.pool.drop_all(Some(to.addr));
                }
                return Err(e);
            }
        };
        check_reply(&rep, self.bits)?;
        Ok(rep)
    }

    /// The same caller, counting its calls in `traffic` (the node's counts).
    pub fn counting(self, traffic: Traffic) -> Caller {
        let pool = Pool {
            traffic,
            ..Pool::new(self.pool.size)
        };
        Caller {
            pool: Arc::new(pool),
            ..self
        }
    }

    /// Closes every idle connection (the node is stopping).
    pub fn close_all(&self) {
        self.pool.drop_all(None);
    }
}

fn exchange(s: &mut TcpStream, body: &[u8], traffic: &Traffic) -> Result<Reply, DhtError> {
    write_frame(s, Prefix::U32Be, body)?;
    traffic.sent(4 + body.len());
    match read_frame(s, Prefix::U32Be, MAX_FRAME)? {
        Some(frame) => {
            traffic.received(4 + frame.len());
            Ok(decode_reply(&frame)?)
        }
        None => Err(DhtError::Unexpected("connection closed before the reply")),
    }
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
}
