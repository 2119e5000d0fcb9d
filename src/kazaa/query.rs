//! Queries in flight at a leader, and the memory of query ids already seen.
//!
//! Every Query a leader receives gets exactly one Hits back, even an empty one: the
//! asker counts answers instead of guessing how long to wait. A leader that forwards a
//! query therefore waits for one answer per link it used (or [`super::QUERY_TIMEOUT`]),
//! merges them with its own matches, and answers once.

use super::conn::ConnId;
use super::msg::{Hit, MAX_HITS};
use std::collections::{HashSet, VecDeque};
use std::time::Instant;

/// Query ids remembered for duplicate suppression; the oldest are forgotten first, so
/// memory stays bounded however many queries pass.
pub const SEEN_CAP: usize = 8192;

/// Queries a leader keeps in flight at once; beyond it, it stops forwarding.
pub const MAX_PENDING: usize = 4096;

/// One query this leader searched and forwarded, waiting for the other leaders.
pub struct Pending {
    /// Who asked (a child, or the leader that forwarded it to us).
    pub origin: ConnId,
    pub id: u64,
    pub hits: Vec<Hit>,
    /// Leaders that searched their index for this answer, this one included.
    pub leaders: u16,
    /// Links we forwarded to and have not heard from.
    pub waiting: HashSet<ConnId>,
    pub deadline: Instant,
}

impl Pending {
    pub fn new(origin: ConnId, id: u64, hits: Vec<Hit>, deadline: Instant) -> Pending {
        Pending {
            origin,
            id,
            hits,
            leaders: 1,
            waiting: HashSet::new(),
            deadline,
        }
    }

    /// Adds another leader's answer; a file at the same holder counts once.
    pub fn add(&mut self, leaders: u16, hits: Vec<Hit>) {
        self.leaders = self.leaders.saturating_add(leaders);
        for h in hits {
            if self.hits.len() < MAX_HITS && !self.hits.contains(&h) {
                self.hits.push(h);
            }
        }
    }

    pub fn is_done(&self) -> bool {
        self.waiting.is_empty()
    }
}

/// Query ids seen recently, bounded by [`SEEN_CAP`].
#[derive(Default)]
pub struct Seen {
    set: HashSet<u64>,
    order: VecDeque<u64>,
}

impl Seen {
    /// Records `id`; false if it was already there.
    pub fn insert(&mut self, id: u64) -> bool {
        if !self.set.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > SEEN_CAP {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, SocketAddrV4};

    #[test]
    fn seen_drops_repeats_and_stays_bounded() {
        let mut s = Seen::default();
        assert!(s.insert(1));
        assert!(!s.insert(1));
        for i in 2..(SEEN_CAP as u64 + 100) {
            s.insert(i);
        }
        assert_eq!(s.len(), SEEN_CAP);
        assert!(s.insert(1), "the oldest id was forgotten");
    }

    #[test]
    fn answers_merge_without_repeats() {
        let h = Hit {
            name: "a".into(),
            size: 1,
            sha1: [0; 20],
            holder: SocketAddrV4::new(Ipv4Addr::LOCALHOST, 1),
        };
        let mut p = Pending::new(0, 7, vec![h.clone()], Instant::now());
        p.waiting.insert(3);
        assert!(!p.is_done());
        p.add(2, vec![h.clone(), h]);
        assert_eq!((p.hits.len(), p.leaders), (1, 3));
    }
}
