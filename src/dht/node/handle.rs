//! The public handle's questions: join, who-owns, put, get, the ring walk. Lookups walk
//! on the caller's thread; everything the node itself knows comes from its coordinator
//! by a command.

use super::coordinator::Command;
use super::{Node, ASK_TIMEOUT};
use crate::dht::error::DhtError;
use crate::dht::id::Id;
use crate::dht::lookup::{lookup_via, walk_from, Lookup};
use crate::dht::msg::{Reply, Request, MAX_FORWARDS, MAX_VALUES};
use crate::dht::policy::{NodeRef, Routing};
use crate::dht::rpc::Drops;
use crate::dht::state::{Config, Snapshot};
use crate::locate::Traffic;
use crossbeam_channel::{bounded, Sender};
use std::collections::BTreeSet;
use std::net::SocketAddr;

impl Node {
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
    /// Messages and bytes this node sent and received, counted on its sockets (one
    /// datagram is one message).
    pub fn traffic(&self) -> Traffic {
        self.traffic.clone()
    }

    /// Datagrams this node dropped or refused so far, by reason.
    pub fn drops(&self) -> Drops {
        self.counters.snapshot()
    }

    /// A copy of the routing state and the number of keys held (all empty once stopped).
    pub fn snapshot(&self) -> Snapshot {
        self.ask(Command::Snapshot)
            .unwrap_or_else(|_| self.stopped_snapshot())
    }

    /// The snapshots of many nodes: every coordinator is asked first, then the answers
    /// are collected. Asked one after the other, a check of 4,096 nodes took the sum of
    /// 4,096 coordinators' delays in being scheduled (seconds on a busy machine); this
    /// way it takes about the longest one.
    pub fn snapshots(nodes: &[Node]) -> Vec<Snapshot> {
        let asked: Vec<_> = nodes
            .iter()
            .map(|n| {
                let (tx, rx) = bounded(1);
                n.commands.send(Command::Snapshot(tx)).ok().map(|_| rx)
            })
            .collect();
        asked
            .into_iter()
            .zip(nodes)
            .map(|(rx, n)| {
                rx.and_then(|rx| rx.recv_timeout(ASK_TIMEOUT).ok())
                    .unwrap_or_else(|| n.stopped_snapshot())
            })
            .collect()
    }

    fn stopped_snapshot(&self) -> Snapshot {
        Snapshot {
            me: self.me,
            pred: None,
            succs: Vec::new(),
            fingers: Vec::new(),
            keys: 0,
            stored_bytes: 0,
            evicted: 0,
        }
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
        let mut last = DhtError::NoRoute(self.key_id(key));
        for s in &l.successors {
            match self.get_from(s, key) {
                Ok(v) => return Ok(v),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Every value under `key` on node `s`, page by page (a page is what fits a
    /// datagram; each holds at least one value, so MAX_VALUES pages is the most).
    fn get_from(&self, s: &NodeRef, key: &[u8]) -> Result<BTreeSet<Vec<u8>>, DhtError> {
        let mut all = BTreeSet::new();
        let mut req = Request::Get(key.to_vec());
        for _ in 0..=MAX_VALUES {
            match self.caller.call(s, &req)? {
                Reply::Values(v) => {
                    all.extend(v);
                    return Ok(all);
                }
                Reply::More(v) if !v.is_empty() => {
                    let after = v.last().cloned().unwrap_or_default();
                    all.extend(v);
                    req = Request::GetAfter {
                        key: key.to_vec(),
                        after,
                    };
                }
                _ => return Err(DhtError::Unexpected("GET answered with something else")),
            }
        }
        Err(DhtError::Unexpected("more pages than MAX_VALUES"))
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

    /// A question to the coordinator, with its answer.
    pub(super) fn ask<T>(
        &self,
        question: impl FnOnce(Sender<T>) -> Command,
    ) -> Result<T, DhtError> {
        let (tx, rx) = bounded(1);
        self.commands
            .send(question(tx))
            .map_err(|_| DhtError::Stopped)?;
        rx.recv_timeout(ASK_TIMEOUT).map_err(|_| DhtError::Stopped)
    }

    /// A message to the coordinator that needs no answer.
    pub(super) fn tell(&self, c: Command) {
        let _ = self.commands.send(c);
    }
}
