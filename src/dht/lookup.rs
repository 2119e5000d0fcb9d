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
//!
//! The walk blocks on each hop, so it runs on the thread that wants the answer (the
//! public handle's caller, or a worker doing fix-fingers), never on the coordinator.
//! The first step is the coordinator's answer for its own node (`Node::lookup` asks it);
//! nodes that failed to answer are collected in `failed`, for the coordinator to forget.

use super::error::DhtError;
use super::id::{in_open, Id};
use super::msg::{Reply, Request};
use super::policy::{NodeRef, Routing, Step};
use super::rpc::Caller;

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

/// A lookup started at this node, whose own step was `first`.
pub(crate) fn walk_from(
    c: &Caller,
    first: Step,
    id: &Id,
    routing: Routing,
    failed: &mut Vec<NodeRef>,
) -> Result<Lookup, DhtError> {
    walk(c, vec![c.me], first, id, routing, failed)
}

/// A lookup started at another node (how a newcomer finds its place: it has no
/// successor yet to start from).
pub(crate) fn lookup_via(
    c: &Caller,
    first: NodeRef,
    id: &Id,
    routing: Routing,
    failed: &mut Vec<NodeRef>,
) -> Result<Lookup, DhtError> {
    let step = ask(c, &first, id, routing)?;
    walk(c, vec![first], step, id, routing, failed)
}

fn ask(c: &Caller, who: &NodeRef, id: &Id, routing: Routing) -> Result<Step, DhtError> {
    match c.call(who, &Request::FindStep { id: *id, routing })? {
        Reply::Done(v) => Ok(Step::Done(v)),
        Reply::Next(v) => Ok(Step::Next(v)),
        _ => Err(DhtError::Unexpected(
            "FIND_STEP answered with something else",
        )),
    }
}

fn walk(
    c: &Caller,
    mut path: Vec<NodeRef>,
    mut step: Step,
    id: &Id,
    routing: Routing,
    failed: &mut Vec<NodeRef>,
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
        let at = path.last().map(|p| p.id).unwrap_or(c.me.id);
        let mut moved = None;
        for cand in cands {
            // Every hop must get strictly closer to `id`: a node that points backwards
            // (a bug, or a liar) cannot send us in circles.
            if !in_open(&cand.id, &at, id) {
                continue;
            }
            match ask(c, &cand, id, routing) {
                Ok(s) => {
                    moved = Some((cand, s));
                    break;
                }
                Err(e) => {
                    log::debug!("{}: lookup hop {} failed: {e}", c.me.addr, cand.addr);
                    failed.push(cand);
                }
            }
        }
        let Some((next, s)) = moved else {
            return Err(DhtError::NoRoute(*id));
        };
        path.push(next);
        step = s;
    }
}
