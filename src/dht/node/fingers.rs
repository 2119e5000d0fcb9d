//! The calls of one fix-fingers round (Chord's `fix_fingers`), made on the maintenance
//! worker.
//!
//! ```text
//!   finger i, start s = me + 2^i, current finger f
//!   f.pred = p, s in (p, f]        → f is still right: the round ends here
//!   p in (s, f)                    → someone joined before f: walk back p, p.pred, ...
//!                                    until the node whose predecessor is before s
//!                                    (at most BACK_STEPS calls; a doubling ring adds
//!                                    about one node per gap)
//!   no f, no answer, or s past f   → look s up, from our own closest preceding finger
//!   then the next finger not covered by the owner found, until one is confirmed
//! ```
//!
//! One finger per round, as the paper has it, is right for a ring that changes a little:
//! most rounds only confirm. After a join wave, though, a node has a dozen wrong fingers
//! (a newcomer has none at all), and one per period left the ring unsettled for many
//! periods. So a round goes on through the fingers while it finds them wrong (up to
//! [`PER_ROUND`]), and ends at the first one it confirms: a settled ring pays one call
//! per round, a changed one is repaired a few fingers at a time.

use crate::dht::id::{in_open, Id};
use crate::dht::lookup::{walk_from, STEP_NODES};
use crate::dht::msg::{Reply, Request};
use crate::dht::policy::{fill_fingers, finger_confirmed, finger_start, next_step};
use crate::dht::policy::{NodeRef, Routing};
use crate::dht::rpc::Caller;

/// Predecessors walked back from a finger before a lookup is cheaper.
pub const BACK_STEPS: usize = 4;
/// Most fingers one round repairs. Each round's calls are bounded, so a whole ring's
/// maintenance per period stays bounded too: with no bound, every newcomer of a join
/// wave of 2,048 looked up all of its dozen fingers at once, the process ran out of
/// CPU, replies came later than `rpc::TRY_TIMEOUT`, and the retries made it worse.
pub const PER_ROUND: usize = 3;

/// What one round found: (finger index, its owner) in the order fixed, the nodes that
/// did not answer, and whether the round ended on a finger that was already right.
pub(crate) struct Fixed {
    pub found: Vec<(u32, NodeRef)>,
    pub failed: Vec<NodeRef>,
    pub confirmed: bool,
}

/// Fixes fingers from `i` on, with copies of the node's successors and fingers.
pub(crate) fn fix_round(
    c: &Caller,
    mut i: u32,
    succs: &[NodeRef],
    mut fingers: Vec<Option<NodeRef>>,
) -> Fixed {
    let mut out = Fixed {
        found: Vec::new(),
        failed: Vec::new(),
        confirmed: false,
    };
    loop {
        let start = finger_start(&c.me.id, i, c.bits);
        let current = fingers[i as usize];
        let (owner, right) = match current.map(|f| walk_back(c, &start, f)) {
            Some(Back::Right(f)) => (Some(f), true),
            Some(Back::Moved(f)) => (Some(f), false),
            Some(Back::Unknown) | None => (lookup(c, &start, succs, &fingers, &mut out), false),
        };
        let Some(owner) = owner else {
            return out; // no route now: the next round tries again
        };
        out.found.push((i, owner));
        if right {
            out.confirmed = true;
            return out;
        }
        let next = fill_fingers(&c.me, &mut fingers, i, &owner, c.bits);
        if next <= i || out.found.len() >= PER_ROUND {
            return out; // every finger visited once, or this round's share done
        }
        i = next;
    }
}

enum Back {
    /// The finger is right.
    Right(NodeRef),
    /// Nodes joined before the finger; this one owns the start.
    Moved(NodeRef),
    /// Not decided by predecessors: look the start up.
    Unknown,
}

/// Confirms `f` as the owner of `start`, or walks back along predecessors to the node
/// that owns it now.
fn walk_back(c: &Caller, start: &Id, f: NodeRef) -> Back {
    let mut cur = f;
    for step in 0..=BACK_STEPS {
        let p = match c.call(&cur, &Request::GetPredecessor) {
            Ok(Reply::Predecessor(Some(p))) => p,
            _ => return Back::Unknown,
        };
        if finger_confirmed(start, &cur, &p) {
            return if step == 0 {
                Back::Right(cur)
            } else {
                Back::Moved(cur)
            };
        }
        if !in_open(&p.id, start, &cur.id) {
            return Back::Unknown; // the start is not between: a node left, or f is behind
        }
        cur = p;
    }
    Back::Unknown
}

fn lookup(
    c: &Caller,
    start: &Id,
    succs: &[NodeRef],
    fingers: &[Option<NodeRef>],
    out: &mut Fixed,
) -> Option<NodeRef> {
    let first = next_step(&c.me, succs, fingers, start, Routing::Fingers, STEP_NODES);
    walk_from(c, first, start, Routing::Fingers, &mut out.failed)
        .ok()
        .map(|l| l.owner)
}
