//! The hybrid's decisions, as plain functions: state in, decision out. Change one here
//! and rerun the lab; no socket is involved.

use std::net::SocketAddrV4;
use std::str::FromStr;

/// How a leader reaches the other leaders' children (组长与其它组长联系, notes 6.4): by
/// forwarding queries (转发查询), by getting a copy of their data (获得其他组长的数据拷贝),
/// or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Every query goes to the other leaders; a join or leave costs them nothing.
    #[default]
    Forward,
    /// Every join and leave goes to the other leaders (Copy, Uncopy); a query is
    /// answered from the local copy and goes nowhere.
    Copy,
    /// Copies kept, and a query the copy cannot answer is forwarded after all: a leader
    /// whose copy is missing (not linked directly, a mesh with holes) is still asked.
    Both,
}

impl Mode {
    /// Whether this leader asks the leaders it links to for copies of their index.
    pub fn keeps_copies(self) -> bool {
        self != Mode::Forward
    }

    /// Whether a child's query goes on to other leaders, given how many hits the local
    /// index and copies found.
    pub fn forwards(self, local_hits: usize) -> bool {
        match self {
            Mode::Forward => true,
            Mode::Copy => false,
            Mode::Both => local_hits == 0,
        }
    }
}

impl FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Mode, String> {
        match s {
            "forward" => Ok(Mode::Forward),
            "copy" => Ok(Mode::Copy),
            "both" => Ok(Mode::Both),
            _ => Err(format!("mode '{s}': expected forward, copy or both")),
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Forward => "forward",
            Mode::Copy => "copy",
            Mode::Both => "both",
        })
    }
}

/// Which leader links a query goes on: every other leader but the one it came from,
/// while it has TTL left. With a full mesh of leaders one hop reaches them all; a
/// sparser mesh needs a higher TTL.
pub fn forward_targets<L: Copy + PartialEq>(links: &[L], came_from: Option<L>, ttl: u8) -> Vec<L> {
    if ttl == 0 {
        return Vec::new();
    }
    links
        .iter()
        .copied()
        .filter(|l| Some(*l) != came_from)
        .collect()
}

/// The order in which a child tries leaders: all candidates but the excluded ones (a
/// leader that just died or said Bye), rotated by the child's own number so that the
/// orphans of one leader spread over the others instead of all landing on the first.
pub fn pick_leader(
    candidates: &[SocketAddrV4],
    exclude: &[SocketAddrV4],
    me: u64,
) -> Vec<SocketAddrV4> {
    let mut list: Vec<SocketAddrV4> = candidates
        .iter()
        .copied()
        .filter(|c| !exclude.contains(c))
        .collect();
    list.sort();
    list.dedup();
    if !list.is_empty() {
        let k = (me % list.len() as u64) as usize;
        list.rotate_left(k);
    }
    list
}

/// Where an orphan goes after losing `old`: the leaders it heard of (spread by its
/// number, as [`pick_leader`]), then the configured ones as a last resort.
pub fn reattach_order(
    known: &[SocketAddrV4],
    configured: &[SocketAddrV4],
    old: SocketAddrV4,
    me: u64,
) -> Vec<SocketAddrV4> {
    let mut order = pick_leader(known, &[old], me);
    for a in pick_leader(configured, &[old], me) {
        if !order.contains(&a) {
            order.push(a);
        }
    }
    order
}

/// Leaders are too few when one has more children than it should serve.
pub fn needs_promotion(children: usize, max_children: usize) -> bool {
    max_children > 0 && children > max_children
}

/// The child to promote: the one with the most capacity (its configured upload rate),
/// ties to the lowest id so that runs repeat. `(id, capacity)` pairs in. Capacity 0
/// means "cannot lead" (a node that already leads announces 0 to its own leader).
pub fn pick_promotion<C: Copy + Ord>(children: &[(C, u32)]) -> Option<C> {
    children
        .iter()
        .filter(|c| c.1 > 0)
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|c| c.0)
}

/// Which children move to a freshly promoted leader: the newest ones, until `keep`
/// stay. (Newest first because they have had the least time to be found here.)
pub fn pick_movers<C: Copy + Ord>(children: &[C], keep: usize) -> Vec<C> {
    let mut ids = children.to_vec();
    ids.sort();
    ids.split_off(keep.min(ids.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn a(port: u16) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)
    }

    #[test]
    fn forward_to_all_but_the_sender_while_ttl_lasts() {
        assert_eq!(forward_targets(&[1, 2, 3], Some(2), 1), [1, 3]);
        assert_eq!(forward_targets(&[1, 2, 3], None, 3), [1, 2, 3]);
        assert!(forward_targets(&[1, 2, 3], None, 0).is_empty());
    }

    #[test]
    fn orphans_spread_and_skip_the_dead() {
        let c = [a(3), a(1), a(2), a(4)];
        assert_eq!(pick_leader(&c, &[a(4)], 0), [a(1), a(2), a(3)]);
        assert_eq!(pick_leader(&c, &[a(4)], 1), [a(2), a(3), a(1)]);
        assert_eq!(pick_leader(&c, &[a(4)], 5)[0], a(3));
        assert!(pick_leader(&[a(4)], &[a(4)], 9).is_empty());
    }

    #[test]
    fn orphans_try_the_leaders_they_heard_of_first() {
        let order = reattach_order(&[a(1), a(2), a(9)], &[a(9), a(5)], a(9), 0);
        assert_eq!(order, [a(1), a(2), a(5)]);
        assert!(reattach_order(&[a(9)], &[a(9)], a(9), 3).is_empty());
    }

    #[test]
    fn promote_the_most_capacity() {
        assert_eq!(pick_promotion(&[(1, 100), (2, 900), (3, 500)]), Some(2));
        assert_eq!(
            pick_promotion(&[(5, 900), (2, 900)]),
            Some(2),
            "tie: lowest id"
        );
        assert_eq!(pick_promotion::<u64>(&[]), None);
        assert_eq!(pick_promotion(&[(1, 0), (2, 0)]), None, "0: cannot lead");
        assert!(needs_promotion(11, 10) && !needs_promotion(10, 10) && !needs_promotion(99, 0));
    }

    #[test]
    fn movers_are_the_newest() {
        assert_eq!(pick_movers(&[4, 1, 3, 2, 5], 3), [4, 5]);
        assert!(pick_movers(&[1, 2], 5).is_empty());
    }

    #[test]
    fn modes_decide_copying_and_forwarding() {
        assert!(!Mode::Forward.keeps_copies() && Mode::Copy.keeps_copies());
        assert!(Mode::Forward.forwards(3), "forward: always");
        assert!(!Mode::Copy.forwards(0), "copy: never");
        assert!(
            Mode::Both.forwards(0) && !Mode::Both.forwards(1),
            "both: on a miss"
        );
        for m in [Mode::Forward, Mode::Copy, Mode::Both] {
            assert_eq!(m.to_string().parse::<Mode>(), Ok(m));
        }
        assert!("copies".parse::<Mode>().is_err());
    }
}
