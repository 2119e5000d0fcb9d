//! Iterative lookup (迭代查找): the asking node walks the ring itself.
//!
//! ```text
//!   asker ──FIND_STEP(id)──► A   "ask B"          (NEXT)
//!   asker ──FIND_STEP(id)──► B   "ask C"          (NEXT)
//!   asker ──FIND_STEP(id)──► C   "D owns it"      (DONE)
//!   path = [asker, A, B, C]: 3 hops
//! ```
//!
//! Because every step comes back to the asker, it sees the whole path (the lab prints
//! it) and can route around a node that does not answer by trying the fallbacks the
//! previous step offered. A recursive lookup (each node forwards) saves half the
//! messages; it is an exercise in the handout.

use super::error::DhtError;
use super::id::{in_open, Id};
use super::msg::{Reply, Request};
use super::routing::{next_step, NodeRef, Routing, Step};
use super::state::Inner;

/// More hops than any ring we run could need (successor-only routing on 256 nodes
/// takes at most 255); a lookup past this is going in circles.
pub const MAX_HOPS: usize = 1024;
/// Nodes offered in one step (the best, then fallbacks).
pub const STEP_NODES: usize = 8;

/// The result of a lookup.
#[derive(Clone, Debug)]
pub struct Lookup {
    /// The node that owns the id: the first node clockwise from it.
    pub owner: NodeRef,
    /// The owner and the nodes after it, where the replicas live.
    pub successors: Vec<NodeRef>,
    /// Every node asked, starting with the one that started the lookup.
    pub path: Vec<NodeRef>,
}

impl Lookup {
    /// Nodes the lookup moved to after the first: the paper's path length.
    pub fn hops(&self) -> usize {
        self.path.len() - 1
    }
}

/// The step this node would answer to FIND_STEP(id).
pub(crate) fn local_step(n: &Inner, id: &Id, routing: Routing) -> Step {
    let st = n.state();
    next_step(&n.me, &st.succs, &st.fingers, id, routing, STEP_NODES)
}

/// A lookup started at this node.
pub(crate) fn lookup(n: &Inner, id: &Id, routing: Routing) -> Result<Lookup, DhtError> {
    let step = local_step(n, id, routing);
    walk(n, vec![n.me], step, id, routing)
}

/// A lookup started at another node (how a newcomer finds its place: it has no
/// successor yet to start from).
pub(crate) fn lookup_via(
    n: &Inner,
    first: NodeRef,
    id: &Id,
    routing: Routing,
) -> Result<Lookup, DhtError> {
    let step = ask(n, &first, id, routing)?;
    walk(n, vec![first], step, id, routing)
}

fn ask(n: &Inner, who: &NodeRef, id: &Id, routing: Routing) -> Result<Step, DhtError> {
    match n.call(who, &Request::FindStep { id: *id, routing })? {
        Reply::Done(v) => Ok(Step::Done(v)),
        Reply::Next(v) => Ok(Step::Next(v)),
        _ => Err(DhtError::Unexpected(
            "FIND_STEP answered with something else",
        )),
    }
}

fn walk(
    n: &Inner,
    mut path: Vec<NodeRef>,
    mut step: Step,
    id: &Id,
    routing: Routing,
) -> Result<Lookup, DhtError> {
    loop {
        let cands = match step {
            Step::Done(successors) => {
                return Ok(Lookup {
                    owner: successors[0],
                    successors,
                    path,
                })
            }
            Step::Next(cands) => cands,
        };
        if path.len() > MAX_HOPS {
            return Err(DhtError::TooManyHops(path.len()));
        }
        let at = path.last().map(|p| p.id).unwrap_or(n.me.id);
        let mut moved = None;
        for c in cands {
            // Every hop must get strictly closer to `id`: a node that points backwards
            // (a bug, or a liar) cannot send us in circles.
            if !in_open(&c.id, &at, id) {
                continue;
            }
            match ask(n, &c, id, routing) {
                Ok(s) => {
                    moved = Some((c, s));
                    break;
                }
                Err(e) => {
                    log::debug!("{}: lookup hop {} failed: {e}", n.me.addr, c.addr);
                    n.forget(&c);
                }
            }
        }
        let Some((c, s)) = moved else {
            return Err(DhtError::NoRoute(*id));
        };
        path.push(c);
        step = s;
    }
}
