//! The ring's decisions as plain functions (路由, 捷径): state in, decision out.
//!
//! Nothing here touches a socket or a channel, so a student can change how a node picks
//! its next hop, its successor or its fingers, run the unit tests below, then the lab,
//! without reading the network code. The coordinator (`node/coordinator.rs`) and the
//! maintenance rounds (`node/maintain.rs`) call these; so does a lookup's walk.
//!
//! ```text
//!   finger[i] = successor(n + 2^(i-1)),  i = 1..m      (finger[1] is the successor)
//!
//!        n ──finger[m]──────────────────────────────►  half the ring away
//!        n ──finger[m-1]───────────►                   a quarter
//!        n ──finger[1]─►                               the next node
//! ```
//!
//! A lookup for `id` at node n ends when `id ∈ (n, successor]`; otherwise it moves to
//! the closest finger that still *precedes* `id`, at least halving the distance left.

use super::id::{in_half_open, in_open, Id};
use std::net::SocketAddr;

/// What a node knows about another: its ring position and where to reach it. Ordered
/// by id first, so sorting nodes sorts them around the ring.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct NodeRef {
    pub id: Id,
    pub addr: SocketAddr,
}

/// How a lookup moves around the ring.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Routing {
    /// Chord: jump by the closest preceding finger (the notes' ring *with shortcuts*).
    Fingers,
    /// The instructive slow version: every node only passes the query to its successor,
    /// so a lookup walks N/2 nodes on average (the notes' ring without shortcuts).
    SuccessorOnly,
}

/// The answer of one lookup step at one node.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Step {
    /// `id` lies between this node and its successor: the successor owns it. The list is
    /// the successor list, owner first, so a caller can fall back on a replica.
    Done(Vec<NodeRef>),
    /// Ask one of these next, best first; the rest are fallbacks if the best is down.
    Next(Vec<NodeRef>),
}

/// Start of finger `i` (0-based here: index 0 is the paper's `finger[1]`): `n + 2^i`.
pub fn finger_start(n: &Id, i: u32, bits: u32) -> Id {
    n.add(&Id::pow2(i), bits)
}

/// Chord's `closest_preceding_node`: scan the fingers from the farthest down and return
/// the first that lies strictly between us and `id`.
pub fn closest_preceding_finger<'a>(
    me: &NodeRef,
    fingers: &'a [Option<NodeRef>],
    id: &Id,
) -> Option<&'a NodeRef> {
    fingers
        .iter()
        .rev()
        .flatten()
        .find(|f| in_open(&f.id, &me.id, id))
}

/// One lookup step at node `me`. `succs` is its successor list (may be empty for a
/// lone node), `fingers` its finger table; at most `max` nodes are returned.
pub fn next_step(
    me: &NodeRef,
    succs: &[NodeRef],
    fingers: &[Option<NodeRef>],
    id: &Id,
    routing: Routing,
    max: usize,
) -> Step {
    let succ = succs.first().unwrap_or(me);
    if succ == me || in_half_open(id, &me.id, &succ.id) {
        let mut owners: Vec<NodeRef> = succs.to_vec();
        if owners.is_empty() {
            owners.push(*me);
        }
        owners.truncate(max.max(1));
        return Step::Done(owners);
    }
    let mut next: Vec<NodeRef> = Vec::new();
    let preceding = |n: &&NodeRef| in_open(&n.id, &me.id, id);
    match routing {
        Routing::Fingers => {
            // Best: the paper's closest preceding finger. Then every other known node that
            // precedes `id`, closest to `id` first, as fallbacks if the best has failed.
            next.extend(closest_preceding_finger(me, fingers, id));
            let mut rest: Vec<NodeRef> = fingers
                .iter()
                .flatten()
                .chain(succs)
                .filter(preceding)
                .copied()
                .collect();
            // Distance left to `id`. Taken modulo 2^160 rather than 2^m, which orders
            // points of (me, id) the same way and spares this function the ring size.
            // Consecutive fingers are mostly the same node: drop repeats before sorting.
            dedup(&mut rest);
            rest.sort_by_cached_key(|n| id.sub(&n.id, 160));
            next.extend(rest);
        }
        Routing::SuccessorOnly => {
            // The successor, then the rest of the successor list only if it is down.
            next.extend(succs.iter().filter(preceding).copied());
        }
    }
    dedup(&mut next);
    next.truncate(max.max(1));
    Step::Next(next)
}

/// The successor list after talking to successor `s`: `s` first, then `s`'s own list
/// with its last entry dropped (Chord's rule), never ourselves, no repeats, `r` long.
pub fn successor_list(me: &NodeRef, s: &NodeRef, s_list: &[NodeRef], r: usize) -> Vec<NodeRef> {
    let mut out = vec![*s];
    out.extend(s_list.iter().take(r.saturating_sub(1)).copied());
    out.retain(|n| n != me);
    dedup(&mut out);
    out.truncate(r);
    out
}

/// Every node `me` knows, nearest clockwise first: where to look for a new successor
/// when the whole successor list has failed.
pub fn by_distance_from(me: &NodeRef, known: &[NodeRef], bits: u32) -> Vec<NodeRef> {
    let mut out: Vec<NodeRef> = known.iter().filter(|n| *n != me).copied().collect();
    dedup(&mut out);
    out.sort_by_cached_key(|n| n.id.sub(&me.id, bits));
    out
}

/// The node that owns `id` on a ring whose members are `sorted` (ascending ids): the
/// first at or clockwise after `id`. What tests and labs compare lookups against.
pub fn owner_of<'a>(sorted: &'a [NodeRef], id: &Id) -> Option<&'a NodeRef> {
    let at = sorted.partition_point(|n| n.id < *id);
    sorted.get(at).or(sorted.first())
}

/// Chord's stabilize rule: successor `s` says its predecessor is `x`. If `x` lies
/// between us and `s`, it joined there and is our better successor.
pub fn better_successor(me: &NodeRef, s: &NodeRef, x: Option<NodeRef>) -> Option<NodeRef> {
    x.filter(|x| x != me && in_open(&x.id, &me.id, &s.id))
}

/// True if `f` is still the right finger for `start`: `f` owns `(f_pred, f]`.
pub fn finger_confirmed(start: &Id, f: &NodeRef, f_pred: &NodeRef) -> bool {
    in_half_open(start, &f_pred.id, &f.id)
}

/// Fix-fingers found that `owner` is the successor of finger `i`'s start. The same node
/// is also the successor of every later start up to its own id, so those fingers are
/// filled too: a full table costs about log2 N rounds, not m. Returns the finger to
/// refresh next (back to 1 after the last).
pub fn fill_fingers(
    me: &NodeRef,
    fingers: &mut [Option<NodeRef>],
    i: u32,
    owner: &NodeRef,
    bits: u32,
) -> u32 {
    let mut j = i;
    while j < bits && (j as usize) < fingers.len() {
        let sj = finger_start(&me.id, j, bits);
        // When we own the start ourselves, every later start lies between it and us.
        let covered = owner == me || in_half_open(&sj, &me.id, &owner.id);
        if j > i && !covered {
            break;
        }
        fingers[j as usize] = (owner != me).then_some(*owner);
        j += 1;
    }
    if j >= bits {
        1
    } else {
        j
    }
}

/// Our successor `succ` owns every finger start in (me, succ]: those fingers are `succ`,
/// with no call. A newcomer just after us takes over a whole run of low fingers (on a
/// ring of 4,096 with m = 160, fingers 1 to about 148 are all the successor). Without
/// this, they kept the old successor until fix-fingers came round to finger 1, which on
/// a quiet ring took minutes: the last nodes of a 4,096 ring to settle each had over a
/// hundred such fingers wrong. Returns whether a finger changed.
pub fn successor_fingers(
    me: &NodeRef,
    fingers: &mut [Option<NodeRef>],
    succ: &NodeRef,
    bits: u32,
) -> bool {
    let mut changed = false;
    for (j, f) in fingers.iter_mut().enumerate().take(bits as usize).skip(1) {
        if succ == me || !in_half_open(&finger_start(&me.id, j as u32, bits), &me.id, &succ.id) {
            break;
        }
        changed |= *f != Some(*succ);
        *f = Some(*succ);
    }
    changed
}

/// Removes repeats, keeping the first occurrence (order matters: best first).
fn dedup(v: &mut Vec<NodeRef>) {
    let mut seen = std::collections::HashSet::new();
    v.retain(|n| seen.insert(*n));
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: u32 = 6; // a 64-id ring, small enough to reason about by hand

    fn node(v: u64) -> NodeRef {
        NodeRef {
            id: Id::from_u64(v, M),
            addr: format!("127.0.0.1:{}", 1000 + v).parse().unwrap(),
        }
    }

    /// The finger table of `me` on a ring of `ring` (ids), computed by definition.
    fn fingers(me: u64, ring: &[u64]) -> Vec<Option<NodeRef>> {
        let sorted: Vec<NodeRef> = ring.iter().map(|&v| node(v)).collect();
        (0..M)
            .map(|i| {
                let start = finger_start(&node(me).id, i, M);
                owner_of(&sorted, &start)
                    .copied()
                    .filter(|n| *n != node(me))
            })
            .collect()
    }

    // The ring of the Chord paper's figure, scaled to m = 6: 1 8 14 21 32 38 42 48 51 56.
    const RING: [u64; 10] = [1, 8, 14, 21, 32, 38, 42, 48, 51, 56];

    #[test]
    fn a_new_successor_takes_the_fingers_it_owns() {
        // Node 8's successor was 21 (14 not yet joined): fingers 1..=3 (starts 10, 12,
        // 16) said 21. Now 14 is its successor: starts 10 and 12 are 14's, 16 stays 21's.
        let mut f = fingers(8, &[1, 8, 21, 32, 38, 42, 48, 51, 56]);
        assert!(successor_fingers(&node(8), &mut f, &node(14), M));
        let want = fingers(8, &RING);
        assert_eq!(f[1..=2], want[1..=2]);
        assert_eq!(f[3], Some(node(21)), "16 is past 14: left for fix-fingers");
        assert!(
            !successor_fingers(&node(8), &mut f, &node(14), M),
            "nothing changes twice"
        );
    }

    #[test]
    fn finger_table_of_node_8() {
        // Starts 9, 10, 12, 16, 24, 40 → successors 14, 14, 14, 21, 32, 42.
        let f: Vec<u64> = fingers(8, &RING)
            .iter()
            .map(|f| f.unwrap().id.low_u64())
            .collect();
        assert_eq!(f, vec![14, 14, 14, 21, 32, 42]);
    }

    #[test]
    fn closest_preceding_finger_picks_the_farthest_jump_short_of_the_key() {
        let f = fingers(8, &RING);
        let me = node(8);
        // Key 54: fingers preceding 54 are 14, 21, 32, 42; the farthest is 42.
        let cpf = closest_preceding_finger(&me, &f, &Id::from_u64(54, M)).unwrap();
        assert_eq!(cpf.id.low_u64(), 42);
        // Key 3 wraps past zero: 42 still precedes it, nothing beyond.
        let cpf = closest_preceding_finger(&me, &f, &Id::from_u64(3, M)).unwrap();
        assert_eq!(cpf.id.low_u64(), 42);
        // Key 10 lies before every finger: none precedes it.
        assert!(closest_preceding_finger(&me, &f, &Id::from_u64(10, M)).is_none());
    }

    #[test]
    fn step_is_done_when_the_key_is_between_us_and_our_successor() {
        let me = node(8);
        let succs = vec![node(14), node(21), node(32)];
        let f = fingers(8, &RING);
        let k = Id::from_u64(10, M);
        assert_eq!(
            next_step(&me, &succs, &f, &k, Routing::Fingers, 8),
            Step::Done(succs.clone())
        );
        // Key 14 itself is owned by node 14: (8, 14] is closed on the right.
        let k = Id::from_u64(14, M);
        assert!(matches!(
            next_step(&me, &succs, &f, &k, Routing::Fingers, 8),
            Step::Done(_)
        ));
    }

    #[test]
    fn fingers_jump_while_successor_only_walks() {
        let me = node(8);
        let succs = vec![node(14), node(21), node(32)];
        let f = fingers(8, &RING);
        let k = Id::from_u64(54, M);
        let Step::Next(v) = next_step(&me, &succs, &f, &k, Routing::Fingers, 8) else {
            panic!("not done yet");
        };
        let ids: Vec<u64> = v.iter().map(|n| n.id.low_u64()).collect();
        assert_eq!(ids, vec![42, 32, 21, 14], "best first, then fallbacks");
        let Step::Next(v) = next_step(&me, &succs, &f, &k, Routing::SuccessorOnly, 8) else {
            panic!("not done yet");
        };
        assert_eq!(v[0], node(14), "without shortcuts only the successor");
    }

    #[test]
    fn a_lone_node_owns_everything() {
        let me = node(8);
        let k = Id::from_u64(40, M);
        assert_eq!(
            next_step(&me, &[], &[None; 6], &k, Routing::Fingers, 8),
            Step::Done(vec![me])
        );
    }

    #[test]
    fn successor_list_copies_the_successors_and_drops_its_last() {
        let me = node(8);
        let l = successor_list(&me, &node(14), &[node(21), node(32), node(38)], 3);
        assert_eq!(l, vec![node(14), node(21), node(32)]);
        // On a ring of three, the list must not contain ourselves.
        let l = successor_list(&me, &node(14), &[node(21), node(8), node(14)], 3);
        assert_eq!(l, vec![node(14), node(21)]);
    }

    #[test]
    fn owner_is_the_first_node_clockwise() {
        let sorted: Vec<NodeRef> = RING.iter().map(|&v| node(v)).collect();
        assert_eq!(
            owner_of(&sorted, &Id::from_u64(22, M))
                .unwrap()
                .id
                .low_u64(),
            32
        );
        assert_eq!(
            owner_of(&sorted, &Id::from_u64(21, M))
                .unwrap()
                .id
                .low_u64(),
            21
        );
        assert_eq!(
            owner_of(&sorted, &Id::from_u64(60, M))
                .unwrap()
                .id
                .low_u64(),
            1,
            "wraps past zero"
        );
    }

    #[test]
    fn one_fix_fingers_round_fills_every_finger_the_owner_covers() {
        let me = node(8);
        let mut f = vec![None; M as usize];
        // Starts 10 and 12 (fingers 1 and 2) both belong to node 14; 16 does not.
        let next = fill_fingers(&me, &mut f, 1, &node(14), M);
        assert_eq!(next, 3);
        assert_eq!(f[1], Some(node(14)));
        assert_eq!(f[2], Some(node(14)));
        assert_eq!(f[3], None);
        // The last finger wraps the round back to finger 1.
        assert_eq!(fill_fingers(&me, &mut f, 5, &node(42), M), 1);
    }

    #[test]
    fn stabilize_adopts_a_node_that_joined_between_us_and_our_successor() {
        let (me, s) = (node(8), node(21));
        assert_eq!(better_successor(&me, &s, Some(node(14))), Some(node(14)));
        assert_eq!(
            better_successor(&me, &s, Some(me)),
            None,
            "it knows us already"
        );
        assert_eq!(better_successor(&me, &s, Some(node(1))), None, "behind us");
        assert_eq!(better_successor(&me, &s, None), None);
        assert!(finger_confirmed(&Id::from_u64(16, M), &node(21), &node(14)));
        assert!(!finger_confirmed(
            &Id::from_u64(12, M),
            &node(21),
            &node(14)
        ));
    }

    #[test]
    fn neighbours_sorted_by_clockwise_distance() {
        let me = node(50);
        let known = [node(8), node(56), node(50), node(1), node(56)];
        let ids: Vec<u64> = by_distance_from(&me, &known, M)
            .iter()
            .map(|n| n.id.low_u64())
            .collect();
        assert_eq!(ids, vec![56, 1, 8]);
    }
}
