//! A ring node: bind, accept, the public handle ([`Node`]), stop.
//!
//! | file | role |
//! |---|---|
//! | `mod.rs` | [`Node`]: start (bind, spawn the threads), join, put/get/lookup, leave, stop |
//! | `coordinator.rs` | the one thread that owns the node's state: a `select!` over requests, commands, workers' results and ticks |
//! | `answer.rs` | what the node answers to each request (state in, answer out) |
//! | `maintain.rs` | the rounds: stabilize, fix-fingers, check-predecessor, replicate |
//! | `jobs.rs` | the two workers that make the node's outgoing calls |
//!
//! ```text
//!   Node::start ─► accept "dht-accept-ADDR" ─► per connection: reader + writer (conn/)
//!              ├─► coordinator "dht-node-ADDR"   owns State, decides everything
//!              └─► workers "dht-maint-ADDR", "dht-store-ADDR"   blocking calls
//!   join(known) ─► lookup_via(known, my id) = my successor ─► stabilize now
//!   lookup(id)  ─► the coordinator's first step, then the walk on the caller's thread
//!   leave()     ─► keys to successor, tell both neighbours, stop
//!   stop()      ─► a crash as the ring sees it: no goodbye, threads joined
//! ```

mod answer;
mod coordinator;
mod jobs;
mod maintain;

use super::conn::{self, Caller, Ctx, IDLE_TIMEOUT, RPC_TIMEOUT};
use super::error::DhtError;
use super::id::{Id, MAX_BITS};
use super::lookup::{lookup_via, walk_from, Lookup};
use super::msg::{Reply, Request, MAX_FORWARDS};
use super::policy::{NodeRef, Routing};
use super::state::{Config, Snapshot};
use super::store::batches;
use crate::locate::Traffic;
use crate::net::{Conns, Server, ServerConfig};
use coordinator::{Command, Coordinator, Wiring};
use crossbeam_channel::{bounded, Sender};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

/// Requests read but not yet taken by the coordinator, all connections together; a
/// reader waits (it does not read on) while this is full.
pub const EVENT_QUEUE: usize = 1024;
/// Longest wait for the coordinator to answer the handle. It answers in microseconds.
pub const ASK_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Node {
    me: NodeRef,
    cfg: Config,
    caller: Caller,
    commands: Sender<Command>,
    server: Server,
    traffic: Traffic,
    /// Dropping it tells the coordinator, the workers and the writers to end.
    stop_tx: Option<Sender<()>>,
}

impl Node {
    /// Listens on `listen` (port 0 picks one) as a ring of one. Its id is the hash of
    /// the address it listens on; `0.0.0.0` is advertised as 127.0.0.1.
    pub fn start(listen: &str, cfg: Config) -> Result<Node, DhtError> {
        if cfg.bits == 0 || cfg.bits > MAX_BITS {
            return Err(DhtError::Config("bits must be 1..=160"));
        }
        let conns = Conns::new();
        let (stop_tx, stop) = bounded::<()>(0);
        let (events, incoming) = bounded(EVENT_QUEUE);
        let traffic = Traffic::new();
        let ctx = Ctx {
            traffic: traffic.clone(),
            bits: cfg.bits,
            events,
            conns: conns.clone(),
            stop: stop.clone(),
            next_id: Arc::new(AtomicU64::new(0)),
        };
        let mut scfg = ServerConfig::new("dht");
        scfg.read_timeout = Some(IDLE_TIMEOUT);
        scfg.write_timeout = Some(RPC_TIMEOUT);
        let server = Server::bind_with(listen, scfg, conns.clone(), move |s| conn::serve(s, &ctx))?;
        let mut addr = server.local_addr();
        if addr.ip().is_unspecified() {
            addr.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
        let me = NodeRef {
            id: Id::of_addr(&addr, cfg.bits),
            addr,
        };
        let caller = Caller::new(me, cfg.bits, cfg.pool).counting(traffic.clone());
        let (commands, commands_rx) = bounded(64);
        let (done_tx, done) = bounded(64);
        let (maint, maint_rx) = bounded(jobs::MAINT_QUEUE);
        let (store, store_rx) = bounded(jobs::STORE_QUEUE);
        for (name, rx) in [("maint", maint_rx), ("store", store_rx)] {
            let (c, d, s) = (caller.clone(), done_tx.clone(), stop.clone());
            conns.spawn_worker(format!("dht-{name}-{addr}"), move || {
                jobs::worker(c, rx, d, s)
            })?;
        }
        let w = Wiring {
            incoming,
            commands: commands_rx,
            done,
            maint,
            store,
            stop,
        };
        let coordinator = Coordinator::new(me, cfg.clone(), w);
        conns.spawn_worker(format!("dht-node-{addr}"), move || coordinator.run())?;
        Ok(Node {
            me,
            cfg,
            caller,
            commands,
            server,
            traffic,
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
    /// starts at `known`. The coordinator then runs a stabilize round at once, so the
    /// successor learns of us (and hands us our keys) without waiting for the timer.
    pub fn join(&self, known: SocketAddr) -> Result<(), DhtError> {
        let first = NodeRef {
            id: Id::of_addr(&known, self.cfg.bits),
            addr: known,
        };
        let mut failed = Vec::new();
        let l = lookup_via(
            &self.caller,
            first,
            &self.me.id,
            Routing::Fingers,
            &mut failed,
        )?;
        if l.owner.id == self.me.id && l.owner.addr != self.me.addr {
            return Err(DhtError::IdTaken {
                id: self.me.id,
                by: l.owner.addr,
            });
        }
        self.tell(Command::Forget(failed));
        self.tell(Command::Joined {
            bootstrap: known,
            succ: l.owner,
        });
        Ok(())
    }

    pub fn me(&self) -> NodeRef {
        self.me
    }
    pub fn id(&self) -> Id {
        self.me.id
    }
    pub fn addr(&self) -> SocketAddr {
        self.me.addr
    }
    pub fn config(&self) -> &Config {
        &self.cfg
    }
    /// Messages and bytes this node sent and received, counted on its sockets.
    pub fn traffic(&self) -> Traffic {
        self.traffic.clone()
    }

    /// A copy of the routing state and the number of keys held (all empty once stopped).
    pub fn snapshot(&self) -> Snapshot {
        self.ask(Command::Snapshot).unwrap_or_else(|_| Snapshot {
            me: self.me,
            pred: None,
            succs: Vec::new(),
            fingers: Vec::new(),
            keys: 0,
        })
    }

    /// Whether this node holds `key` (as owner or replica), and its values here.
    pub fn holds(&self, key: &[u8]) -> Option<BTreeSet<Vec<u8>>> {
        self.ask(|tx| Command::Holds(key.to_vec(), tx))
            .ok()
            .flatten()
    }

    /// Every key held here.
    pub fn keys(&self) -> Vec<Vec<u8>> {
        let all = self.ask(Command::Entries).unwrap_or_default();
        all.into_iter().map(|(k, _)| k).collect()
    }

    /// Who owns `id`, with this node's routing.
    pub fn lookup(&self, id: &Id) -> Result<Lookup, DhtError> {
        self.lookup_with(id, self.cfg.routing)
    }

    /// Who owns `id`, routing as told (the lab compares the two). The walk runs on the
    /// calling thread; nodes found dead are reported to the coordinator.
    pub fn lookup_with(&self, id: &Id, routing: Routing) -> Result<Lookup, DhtError> {
        let first = self.ask(|tx| Command::Step(*id, routing, tx))?;
        let mut failed = Vec::new();
        let l = walk_from(&self.caller, first, id, routing, &mut failed);
        if !failed.is_empty() {
            self.tell(Command::Forget(failed));
        }
        l
    }

    /// The id of a key on this ring.
    pub fn key_id(&self, key: &[u8]) -> Id {
        Id::hash(key, self.cfg.bits)
    }

    /// Adds `value` to the set stored under `key`; returns the owner that took it.
    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<NodeRef, DhtError> {
        let l = self.lookup(&self.key_id(key))?;
        let req = Request::Put {
            key: key.to_vec(),
            value: value.to_vec(),
            forwards: MAX_FORWARDS,
        };
        let mut last = DhtError::NoRoute(self.key_id(key));
        for s in &l.successors {
            match self.caller.call(s, &req) {
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
            match self.caller.call(s, &req) {
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
        let mut ring = vec![self.me];
        let mut at = self.snapshot().succs.first().copied();
        while let Some(x) = at.filter(|x| *x != self.me && ring.len() < max) {
            ring.push(x);
            at = match self.caller.call(&x, &Request::GetSuccessors)? {
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
        let s = self.snapshot();
        let all = self.ask(Command::Entries).unwrap_or_default();
        let c = &self.caller;
        if let Some(succ) = s.succs.first() {
            for b in batches(all) {
                if let Err(e) = c.call(succ, &Request::Store(b)) {
                    log::warn!("{}: hand-over to {} failed: {e}", self.me.addr, succ.addr);
                }
            }
            let leaving = Request::PredLeaving {
                leaver: self.me,
                pred: s.pred,
            };
            let _ = c.call(succ, &leaving);
        }
        if let Some(p) = s.pred.filter(|p| *p != self.me) {
            let leaving = Request::SuccLeaving {
                leaver: self.me,
                succs: s.succs,
            };
            let _ = c.call(&p, &leaving);
        }
        self.stop();
    }

    /// Stops without a word to anyone (a crash, as the ring sees it): closes the
    /// listener and every connection, ends the coordinator and the workers, and joins
    /// every thread.
    pub fn stop(&mut self) {
        self.stop_tx.take();
        self.server.stop();
        self.caller.close_all();
    }

    /// A question to the coordinator, with its answer.
    fn ask<T>(&self, question: impl FnOnce(Sender<T>) -> Command) -> Result<T, DhtError> {
        let (tx, rx) = bounded(1);
        self.commands
            .send(question(tx))
            .map_err(|_| DhtError::Stopped)?;
        rx.recv_timeout(ASK_TIMEOUT).map_err(|_| DhtError::Stopped)
    }

    /// A message to the coordinator that needs no answer.
    fn tell(&self, c: Command) {
        let _ = self.commands.send(c);
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
    }
}
