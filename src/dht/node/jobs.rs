//! The node's two workers, the threads that make its outgoing calls (the store worker
//! only once it has a job).
//!
//! The coordinator decides *what* to ask and of whom, and hands a [`Job`] to a worker
//! through a bounded queue; the worker makes the blocking calls and sends back a
//! [`Done`] with what it found; the coordinator decides what that changes. So a slow or
//! dead node stalls a worker for at most `rpc::TRIES` tries, never the coordinator.
//!
//! ```text
//!   coordinator ──Job──► "dht-maint-ADDR"  stabilize, fix-fingers, ping, replicate, pass a put back
//!   coordinator ──Job──► "dht-store-ADDR"  STORE only: replicas of a put, a hand-over
//!                                           (started at the first one: [`Lazy`])
//!   coordinator ◄─Done── either
//! ```
//!
//! The rounds' jobs (stabilize, fix-fingers, check-predecessor's ping, replicate) call
//! through [`Caller::for_upkeep`], so their datagrams carry the upkeep flag and both
//! ends count them as the ring's upkeep; a put passed back and the STOREs of a put or a
//! hand-over are what a user's put, join or leave costs, and are not flagged.
//!
//! Why two: a node answers PUT and NOTIFY only once the STOREs they cause have been sent
//! (so a put that returned survives its owner's crash). Those STOREs go to a worker that
//! makes no other call, and STORE itself is always answered at once. So a chain of
//! nodes waiting on each other always ends, even when every node of a ring notifies its
//! successor at the same moment.

use super::fingers::{fix_round, Fixed};
use crate::dht::id::Id;
use crate::dht::lookup::lookup_via;
use crate::dht::msg::{Entry, Head, Reply, Request};
use crate::dht::policy::{better_successor, NodeRef, Routing};
use crate::dht::rpc::Caller;
use crate::dht::store::batches;
use crossbeam_channel::{select, Receiver, Sender};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Jobs waiting for the maintenance worker; a round that finds the queue full is skipped.
pub const MAINT_QUEUE: usize = 16;
/// Jobs waiting for the store worker; when it is full a put is answered without
/// waiting for its replicas (the next replication round copies them).
pub const STORE_QUEUE: usize = 256;

/// Starts a thread; what [`Lazy`] keeps until it is needed.
pub(crate) type Spawn = Box<dyn FnOnce() -> std::io::Result<JoinHandle<()>> + Send>;

/// The store worker, started by the coordinator when it first hands out a STORE job. A
/// ring without keys (the scale runs) never needs it, and 4,096 nodes of four threads
/// each need more memory maps than a process may have (`dht/scale.rs`).
pub(crate) struct Lazy {
    pub spawn: Option<Spawn>,
    /// Where the started thread's handle goes, for the node to join when it stops.
    pub started: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Lazy {
    /// Starts the worker if it has not been; false if it cannot be started.
    pub fn ensure(&mut self) -> bool {
        let Some(spawn) = self.spawn.take() else {
            return true;
        };
        match spawn() {
            Ok(h) => {
                self.started
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(h);
                true
            }
            Err(e) => {
                log::warn!("dht: cannot start the store worker: {e}");
                false
            }
        }
    }
}

/// Where a delayed reply goes: the caller's address and its request's head.
pub(crate) type ReplyTo = (SocketAddr, Head);

/// Outgoing calls the coordinator wants made.
pub(crate) enum Job {
    /// Chord's stabilize: ask the first candidate that answers for its predecessor and
    /// successor list, and notify the successor found. If none answers, look our own id
    /// up through `bootstrap` (where we joined).
    Stabilize {
        candidates: Vec<NodeRef>,
        bootstrap: Option<SocketAddr>,
    },
    /// Fix fingers from `from` on (`fingers.rs`), with copies of our successors and
    /// fingers to route the lookups by.
    FixFingers {
        from: u32,
        succs: Vec<NodeRef>,
        fingers: Vec<Option<NodeRef>>,
    },
    /// Chord's check_predecessor.
    Ping(NodeRef),
    /// Copy entries to these nodes (replication round, on the maintenance worker).
    Replicate {
        to: Vec<NodeRef>,
        entries: Vec<Entry>,
    },
    /// A put for a key we no longer own, passed back towards its owner.
    Forward { to: NodeRef, req: Request },
    /// STORE entries on these nodes, then let the coordinator answer `answer` (the
    /// caller and transaction whose PUT or NOTIFY waits for this). On the store worker.
    Store {
        to: Vec<NodeRef>,
        entries: Vec<Entry>,
        answer: Option<ReplyTo>,
    },
}

/// What a job found. `failed` lists nodes that did not answer.
pub(crate) enum Done {
    Stabilized {
        failed: Vec<NodeRef>,
        /// The successor that answered and its successor list.
        found: Option<(NodeRef, Vec<NodeRef>)>,
        /// Everyone failed: the owner of our id, looked up through the bootstrap node.
        rejoined: Option<NodeRef>,
    },
    Fingers(Fixed),
    Pinged {
        node: NodeRef,
        alive: bool,
    },
    Replicated,
    Forwarded,
    Stored {
        answer: Option<ReplyTo>,
    },
}

/// A worker's loop: one job at a time until the node stops.
pub(crate) fn worker(c: Caller, jobs: Receiver<Job>, done: Sender<Done>, stop: Receiver<()>) {
    loop {
        let job = select! {
            recv(jobs) -> j => match j {
                Ok(j) => j,
                Err(_) => return,
            },
            recv(stop) -> _ => return,
        };
        if done.send(run(&c, job)).is_err() {
            return; // the coordinator has gone
        }
    }
}

fn run(c: &Caller, job: Job) -> Done {
    match job {
        Job::Stabilize {
            candidates,
            bootstrap,
        } => stabilize(&c.for_upkeep(), candidates, bootstrap),
        Job::FixFingers {
            from,
            succs,
            fingers,
        } => Done::Fingers(fix_round(&c.for_upkeep(), from, &succs, fingers)),
        Job::Ping(node) => Done::Pinged {
            node,
            alive: c.for_upkeep().call(&node, &Request::Ping).is_ok(),
        },
        Job::Replicate { to, entries } => {
            store_on(&c.for_upkeep(), &to, entries);
            Done::Replicated
        }
        Job::Forward { to, req } => {
            if let Err(e) = c.call(&to, &req) {
                log::info!(
                    "{}: passing a put back to {} failed: {e}",
                    c.me.addr,
                    to.addr
                );
            }
            Done::Forwarded
        }
        Job::Store {
            to,
            entries,
            answer,
        } => {
            store_on(c, &to, entries);
            Done::Stored { answer }
        }
    }
}

/// Sends entries in STORE batches to each node; a node that fails is skipped.
fn store_on(c: &Caller, to: &[NodeRef], entries: Vec<Entry>) {
    let batches = batches(entries);
    for s in to {
        for b in &batches {
            if let Err(e) = c.call(s, &Request::Store(b.clone())) {
                log::info!("{}: STORE to {} failed: {e}", c.me.addr, s.addr);
                break;
            }
        }
    }
}

fn successors_of(c: &Caller, s: &NodeRef) -> Option<Vec<NodeRef>> {
    match c.call(s, &Request::GetSuccessors) {
        Ok(Reply::Successors(v)) => Some(v),
        _ => None,
    }
}

/// The calls of one stabilize round. The first candidate that answers is our successor,
/// unless its predecessor joined between us (then that one is, if it answers).
fn stabilize(c: &Caller, candidates: Vec<NodeRef>, bootstrap: Option<SocketAddr>) -> Done {
    let mut failed = Vec::new();
    let mut tried = HashSet::new();
    for s in candidates {
        if !tried.insert(s) {
            continue;
        }
        let x = match c.call(&s, &Request::GetPredecessor) {
            Ok(Reply::Predecessor(x)) => x,
            _ => {
                failed.push(s);
                continue;
            }
        };
        let found = better_successor(&c.me, &s, x)
            .and_then(|x| successors_of(c, &x).map(|l| (x, l)))
            .or_else(|| successors_of(c, &s).map(|l| (s, l)));
        let Some((succ, list)) = found else {
            failed.push(s);
            continue;
        };
        // A successor that already names us its predecessor has nothing to learn: the
        // NOTIFY would change nothing, and skipping it saves a third of a settled
        // ring's stabilize calls.
        let known = succ == s && x == Some(c.me);
        if !known {
            if let Err(e) = c.call(&succ, &Request::Notify(c.me)) {
                log::warn!("{}: notify {} refused: {e}", c.me.addr, succ.addr);
            }
        }
        return Done::Stabilized {
            failed,
            found: Some((succ, list)),
            rejoined: None,
        };
    }
    // Every node we knew has failed. Start again from where we joined.
    let rejoined = bootstrap.filter(|b| *b != c.me.addr).and_then(|b| {
        let first = NodeRef {
            id: Id::of_addr(&b, c.bits),
            addr: b,
        };
        lookup_via(c, first, &c.me.id, Routing::Fingers, &mut failed)
            .ok()
            .map(|l| l.owner)
    });
    Done::Stabilized {
        failed,
        found: None,
        rejoined,
    }
}
