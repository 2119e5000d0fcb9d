//! Is the ring right yet? What a student would check by hand on a [`LocalRing`]: every
//! successor the next node clockwise, every predecessor the one before, every finger
//! the successor of its start (6.3 环形DHT). Tests wait on these checks instead of sleeping.
//!
//! [`Unsettled`] counts what is still wrong rather than answering yes or no, so a lab
//! that waits minutes for a ring of 4,096 can show it converging, and a ring that never
//! settles says which part it is stuck on.

use super::local::LocalRing;
use super::node::Node;
use super::policy::{finger_start, owner_of, NodeRef};
use crate::wait::until_every;
use std::fmt;
use std::time::{Duration, Instant};

/// The position of `me` in `sorted` (ascending ids).
fn position(sorted: &[NodeRef], me: &NodeRef) -> usize {
    let at = sorted.partition_point(|x| x.id < me.id);
    debug_assert_eq!(sorted.get(at), Some(me), "member");
    at
}

/// What is still wrong on a ring, counted over all its nodes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unsettled {
    pub nodes: usize,
    /// Nodes whose first successor or predecessor is wrong: the ring is not whole.
    pub links: usize,
    /// Nodes whose successor list (beyond the first) is not the next r nodes.
    pub lists: usize,
    /// Fingers, over all nodes, that are not the successor of their start.
    pub fingers: usize,
    /// Nodes holding at least one wrong finger.
    pub finger_nodes: usize,
}

impl Unsettled {
    /// True when nothing is wrong (fingers only if `fingers`).
    pub fn settled(&self, fingers: bool) -> bool {
        self.links == 0 && self.lists == 0 && (!fingers || self.fingers == 0)
    }
}

impl fmt::Display for Unsettled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} nodes badly linked, {} successor lists behind, {} fingers wrong on {} nodes",
            self.links, self.nodes, self.lists, self.fingers, self.finger_nodes
        )
    }
}

impl LocalRing {
    /// Counts what is wrong now. `fingers`: check the fingers too (the costly part).
    pub fn unsettled(&self, fingers: bool) -> Unsettled {
        let sorted = self.sorted();
        let n = sorted.len();
        let r = self.cfg.r.min(n.saturating_sub(1));
        let mut u = Unsettled {
            nodes: n,
            ..Unsettled::default()
        };
        for s in Node::snapshots(&self.nodes) {
            let pos = position(&sorted, &s.me);
            let want_pred = (n > 1).then(|| sorted[(pos + n - 1) % n]);
            let want_succ = |k: usize| sorted[(pos + k + 1) % n];
            if s.pred != want_pred || s.succs.first().copied() != (r > 0).then(|| want_succ(0)) {
                u.links += 1;
            } else if s.succs.len() != r
                || !s.succs.iter().enumerate().all(|(k, x)| *x == want_succ(k))
            {
                u.lists += 1;
            }
            if fingers {
                let wrong = (0..self.cfg.bits)
                    .filter(|&i| {
                        let start = finger_start(&s.me.id, i, self.cfg.bits);
                        // A finger never names its own node.
                        let want = owner_of(&sorted, &start).filter(|o| **o != s.me).copied();
                        s.fingers.get(i as usize).copied().flatten() != want
                    })
                    .count();
                u.fingers += wrong;
                u.finger_nodes += usize::from(wrong > 0);
            }
        }
        u
    }

    /// True when every node's first successor and predecessor are right: the ring is
    /// whole, though successor lists and fingers may still be catching up.
    pub fn linked(&self) -> bool {
        self.unsettled(false).links == 0
    }

    /// True when every predecessor and successor list is exact and, if `fingers`, every
    /// finger is the successor of its start.
    pub fn settled(&self, fingers: bool) -> bool {
        self.unsettled(fingers).settled(fingers)
    }

    /// Polls [`LocalRing::settled`] (every [`super::local::poll_every`]) until it holds or
    /// `limit` passes.
    pub fn wait_settled(&self, fingers: bool, limit: Duration) -> bool {
        self.wait_settled_showing(fingers, limit, Duration::MAX, |_, _| {})
    }

    /// [`LocalRing::wait_settled`], calling `show` with what is still wrong and the time
    /// waited so far about every `every`: long waits show their progress.
    pub fn wait_settled_showing(
        &self,
        fingers: bool,
        limit: Duration,
        every: Duration,
        mut show: impl FnMut(&Unsettled, Duration),
    ) -> bool {
        let t = Instant::now();
        let mut next = every;
        until_every(limit, super::local::poll_every(self.nodes.len()), || {
            let u = self.unsettled(fingers);
            let (settled, waited) = (u.settled(fingers), t.elapsed());
            if waited >= next && !settled {
                show(&u, waited);
                next = waited + every;
            }
            settled
        })
    }
}
