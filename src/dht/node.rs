//! A ring node: start, join, put/get, leave, stop.
//!
//! ```text
//!   Node::start ─► server "dht-<addr>" (one thread per connection, handle.rs)
//!              └─► workers: stabilize, fix-fingers, check-pred, replicate (maintain.rs)
//!   join(known) ─► lookup_via(known, my id) = my successor ─► stabilize now
//!   leave()     ─► keys to successor, tell both neighbours, stop
//!   stop()      ─► a crash as the ring sees it: no goodbye, threads joined
//! ```

use super::error::DhtError;
use super::id::Id;
use super::lookup::{lookup, lookup_via, Lookup};
use super::maintain;
use super::msg::{Reply, Request};
use super::routing::{NodeRef, Routing};
use super::rpc::{Pool, RPC_TIMEOUT};
use super::state::{Config, Inner, Snapshot, State};
use super::store::batches;
use crate::net::{Server, ServerConfig};
use crossbeam_channel::Sender;
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// A pooled connection nobody used for this long is closed by the serving side.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Node {
    inner: Arc<Inner>,
    server: Server,
    /// Dropping it closes the workers' stop channel.
    stop_tx: Option<Sender<()>>,
}

impl Node {
    /// Listens on `listen` (port 0 picks one) as a ring of one. Its id is the hash of
    /// the address it listens on; `0.0.0.0` is advertised as 127.0.0.1.
    pub fn start(listen: &str, cfg: Config) -> Result<Node, DhtError> {
        if cfg.bits == 0 || cfg.bits > super::id::MAX_BITS {
            return Err(DhtError::Config("bits must be 1..=160"));
        }
        let slot: Arc<OnceLock<Arc<Inner>>> = Arc::new(OnceLock::new());
        let mut scfg = ServerConfig::new("dht");
        scfg.read_timeout = Some(IDLE_TIMEOUT);
        scfg.write_timeout = Some(RPC_TIMEOUT);
        let handler_slot = slot.clone();
        let server = Server::bind(listen, scfg, move |s| match handler_slot.get() {
            Some(n) => super::handle::serve(n, s),
            None => Ok(()), // not started yet: nobody can know our address
        })?;
        let mut addr = server.local_addr();
        if addr.ip().is_unspecified() {
            addr.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
        let me = NodeRef {
            id: Id::of_addr(&addr, cfg.bits),
            addr,
        };
        let inner = Arc::new(Inner {
            me,
            state: Mutex::new(State::new(cfg.bits)),
            pool: Pool::new(cfg.pool),
            cfg,
        });
        let _ = slot.set(inner.clone());
        let (stop_tx, stop_rx) = crossbeam_channel::bounded(0);
        maintain::start(&inner, server.conns(), &stop_rx)?;
        Ok(Node {
            inner,
            server,
            stop_tx: Some(stop_tx),
        })
    }

    /// Starts and, if `known` is given, joins the ring through it. A node whose id is
    /// already taken is stopped and the error returned.
    pub fn start_joining(
        listen: &str,
        cfg: Config,
        known: Option<SocketAddr>,
    ) -> Result<Node, DhtError> {
        let node = Node::start(listen, cfg)?;
        if let Some(k) = known {
            node.join(k)?; // on error `node` drops here, which stops it
        }
        Ok(node)
    }

    /// Chord's `join(n')`: our successor is whoever owns our id, found by a lookup that
    /// starts at `known`. Then one stabilize round at once, so the successor learns of
    /// us (and hands us our keys) without waiting for the timer.
    pub fn join(&self, known: SocketAddr) -> Result<(), DhtError> {
        let n = &self.inner;
        let first = NodeRef {
            id: Id::of_addr(&known, n.cfg.bits),
            addr: known,
        };
        let l = lookup_via(n, first, &n.me.id, Routing::Fingers)?;
        if l.owner.id == n.me.id && l.owner.addr != n.me.addr {
            return Err(DhtError::IdTaken {
                id: n.me.id,
                by: l.owner.addr,
            });
        }
        {
            let mut st = n.state();
            st.bootstrap = Some(known);
            st.pred = None;
            if l.owner != n.me {
                st.set_succs(vec![l.owner]);
            }
        }
        maintain::stabilize(n);
        Ok(())
    }

    pub fn me(&self) -> NodeRef {
        self.inner.me
    }
    pub fn id(&self) -> Id {
        self.inner.me.id
    }
    pub fn addr(&self) -> SocketAddr {
        self.inner.me.addr
    }
    pub fn config(&self) -> &Config {
        &self.inner.cfg
    }

    /// A copy of the routing state and the number of keys held.
    pub fn snapshot(&self) -> Snapshot {
        let st = self.inner.state();
        Snapshot {
            me: self.inner.me,
            pred: st.pred,
            succs: st.succs.clone(),
            fingers: st.fingers.clone(),
            keys: st.store.len(),
        }
    }

    /// Whether this node holds `key` (as owner or replica), and its values here.
    pub fn holds(&self, key: &[u8]) -> Option<BTreeSet<Vec<u8>>> {
        let st = self.inner.state();
        st.store.contains(key).then(|| st.store.get(key))
    }

    /// Every key held here.
    pub fn keys(&self) -> Vec<Vec<u8>> {
        let st = self.inner.state();
        st.store.all().into_iter().map(|(k, _)| k).collect()
    }

    /// Who owns `id`, with this node's routing.
    pub fn lookup(&self, id: &Id) -> Result<Lookup, DhtError> {
        lookup(&self.inner, id, self.inner.cfg.routing)
    }

    /// Who owns `id`, routing as told (the lab compares the two).
    pub fn lookup_with(&self, id: &Id, routing: Routing) -> Result<Lookup, DhtError> {
        lookup(&self.inner, id, routing)
    }

    /// The id of a key on this ring.
    pub fn key_id(&self, key: &[u8]) -> Id {
        Id::hash(key, self.inner.cfg.bits)
    }

    /// Adds `value` to the set stored under `key`; returns the owner that took it.
    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<NodeRef, DhtError> {
        let l = self.lookup(&self.key_id(key))?;
        let req = Request::Put {
            key: key.to_vec(),
            value: value.to_vec(),
            forwards: super::msg::MAX_FORWARDS,
        };
        let mut last = DhtError::NoRoute(self.key_id(key));
        for s in &l.successors {
            match self.inner.call(s, &req) {
                Ok(_) => return Ok(*s),
                Err(e @ DhtError::Remote(_)) => return Err(e),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// The values under `key`, from its owner (or, if the owner is down, a replica).
    pub fn get(&self, key: &[u8]) -> Result<BTreeSet<Vec<u8>>, DhtError> {
        let l = self.lookup(&self.key_id(key))?;
        let req = Request::Get(key.to_vec());
        let mut last = DhtError::NoRoute(self.key_id(key));
        for s in &l.successors {
            match self.inner.call(s, &req) {
                Ok(Reply::Values(v)) => return Ok(v),
                Ok(_) => last = DhtError::Unexpected("GET answered with something else"),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// The ring as the protocol sees it: start here and follow each node's successor
    /// (GET_SUCCESSORS) until back here, or `max` nodes. What the CLI's `ring` prints.
    pub fn walk_ring(&self, max: usize) -> Result<Vec<NodeRef>, DhtError> {
        let n = &self.inner;
        let mut ring = vec![n.me];
        let mut at = n.state().succs.first().copied();
        while let Some(x) = at.filter(|x| *x != n.me && ring.len() < max) {
            ring.push(x);
            at = match n.call(&x, &Request::GetSuccessors)? {
                Reply::Successors(v) => v.first().copied(),
                _ => {
                    return Err(DhtError::Unexpected(
                        "GET_SUCCESSORS answered with something else",
                    ))
                }
            };
        }
        Ok(ring)
    }

    /// Graceful leave (对等方离开): give every key to the successor, tell the successor
    /// who its new predecessor is and the predecessor who its new successors are, stop.
    pub fn leave(mut self) {
        let n = &self.inner;
        let (pred, succs, all) = {
            let st = n.state();
            (st.pred, st.succs.clone(), st.store.all())
        };
        if let Some(s) = succs.first() {
            for b in batches(all) {
                if let Err(e) = n.call(s, &Request::Store(b)) {
                    log::warn!("{}: hand-over to {} failed: {e}", n.me.addr, s.addr);
                }
            }
            let _ = n.call(s, &Request::PredLeaving { leaver: n.me, pred });
        }
        if let Some(p) = pred.filter(|p| *p != n.me) {
            let _ = n.call(
                &p,
                &Request::SuccLeaving {
                    leaver: n.me,
                    succs,
                },
            );
        }
        self.stop();
    }

    /// Stops without a word to anyone (a crash, as the ring sees it): closes the
    /// listener and every connection, ends the workers and joins every thread.
    pub fn stop(&mut self) {
        self.stop_tx.take();
        self.server.stop();
        self.inner.pool.drop_all(None);
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
    }
}
