//! Queries in flight at a leader, and the memory of query ids already seen.
//!
//! Every Query a leader receives gets exactly one Hits back, even an empty one: the
//! asker counts answers instead of guessing how long to wait. A leader that forwards a
//! query therefore waits for one answer per link it used (or `QUERY_TIMEOUT`), merges
//! them with its own matches, and answers once. This is data only: the coordinator
//! (`leader.rs`) sends what these methods hand back.

use crate::kazaa::conn::ConnId;
use crate::kazaa::msg::{Hit, Msg, MAX_HITS};
use crate::seen::{Seen, SEEN_CAPACITY, SEEN_LIFETIME};
use std::time::Instant;

/// Queries a leader keeps in flight at once; beyond it, it stops forwarding.
pub const MAX_PENDING: usize = 4096;

/// A combined answer ready to go: to whom, and the Hits.
pub type Answer = (ConnId, Msg);

/// One query this leader searched and forwarded, waiting for the other leaders.
pub struct Pending {
    /// Who asked (a child, or the leader that forwarded it to us).
    pub origin: ConnId,
    pub id: u64,
    pub hits: Vec<Hit>,
    /// Leaders that searched their index for this answer, this one included.
    pub leaders: u16,
    /// Links we forwarded to and have not heard from.
    pub waiting: Vec<ConnId>,
    pub deadline: Instant,
}

impl Pending {
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

    fn answer(mut self) -> Answer {
        self.hits.truncate(MAX_HITS);
        let hits = Msg::Hits {
            id: self.id,
            leaders: self.leaders,
            hits: self.hits,
        };
        (self.origin, hits)
    }
}

/// The queries in flight and the ids seen (the crate's one bounded seen-table).
pub struct Queries {
    pending: Vec<Pending>,
    seen: Seen<u64, ()>,
}

impl Queries {
    pub fn new(now: Instant) -> Queries {
        Queries {
            pending: Vec::new(),
            seen: Seen::new(SEEN_CAPACITY, SEEN_LIFETIME, now),
        }
    }

    /// Records `id`; false if it was seen before (a duplicate to drop).
    pub fn first_time(&mut self, id: u64, now: Instant) -> bool {
        self.seen.insert_if_new(id, (), now)
    }

    /// Ids remembered now.
    pub fn seen(&self) -> usize {
        self.seen.len()
    }

    /// Too many in flight (a flood from one peer?): answer from the own index only.
    pub fn is_full(&self) -> bool {
        self.pending.len() >= MAX_PENDING
    }

    /// Starts waiting for the links in `waiting`; with none, the answer is ready now.
    pub fn start(
        &mut self,
        origin: ConnId,
        id: u64,
        hits: Vec<Hit>,
        waiting: Vec<ConnId>,
        deadline: Instant,
    ) -> Option<Answer> {
        let p = Pending {
            origin,
            id,
            hits,
            leaders: 1,
            waiting,
            deadline,
        };
        if p.is_done() {
            return Some(p.answer());
        }
        self.pending.push(p);
        None
    }

    /// Another leader's answer to a query we forwarded to it; the combined answer once
    /// the last one is in.
    pub fn answer(
        &mut self,
        from: ConnId,
        id: u64,
        leaders: u16,
        hits: Vec<Hit>,
    ) -> Option<Answer> {
        let i = (self.pending.iter()).position(|p| p.id == id && p.waiting.contains(&from))?;
        let p = &mut self.pending[i];
        p.waiting.retain(|c| *c != from);
        p.add(leaders, hits);
        if p.is_done() {
            return Some(self.pending.swap_remove(i).answer());
        }
        None
    }

    /// A link went away: it will not answer. Returns the answers that are now complete.
    pub fn link_gone(&mut self, link: ConnId) -> Vec<Answer> {
        for p in &mut self.pending {
            p.waiting.retain(|c| *c != link);
        }
        self.take(|p| p.is_done())
    }

    /// The answers whose deadline passed, with what arrived so far.
    pub fn expire(&mut self, now: Instant) -> Vec<Answer> {
        self.take(|p| p.deadline <= now)
    }

    fn take(&mut self, done: impl Fn(&Pending) -> bool) -> Vec<Answer> {
        let (out, keep) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(done);
        self.pending = keep;
        out.into_iter().map(Pending::answer).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, SocketAddrV4};
    use std::time::Duration;

    fn hit(name: &str) -> Hit {
        Hit {
            name: name.into(),
            size: 1,
            sha1: [0; 20],
            holder: SocketAddrV4::new(Ipv4Addr::LOCALHOST, 1),
        }
    }

    #[test]
    fn answers_merge_without_repeats() {
        let t = Instant::now();
        let mut q = Queries::new(t);
        assert!(q.start(0, 7, vec![hit("a")], vec![3, 4], t).is_none());
        assert!(q.answer(3, 7, 1, vec![hit("a"), hit("a")]).is_none());
        assert!(q.answer(9, 7, 1, vec![]).is_none(), "not asked: ignored");
        let (to, msg) = q.answer(4, 7, 2, vec![hit("b")]).unwrap();
        assert_eq!(to, 0);
        let Msg::Hits { leaders, hits, .. } = msg else {
            panic!("{msg:?}")
        };
        assert_eq!((hits.len(), leaders), (2, 4));
    }

    #[test]
    fn nobody_to_wait_for_answers_at_once_and_late_links_expire() {
        let t = Instant::now();
        let mut q = Queries::new(t);
        assert!(q.start(1, 8, vec![], vec![], t).is_some());
        q.start(1, 9, vec![], vec![5], t + Duration::from_secs(5));
        q.start(2, 10, vec![], vec![6], t + Duration::from_secs(5));
        assert!(q.expire(t).is_empty());
        assert_eq!(q.link_gone(5).len(), 1);
        assert_eq!(q.expire(t + Duration::from_secs(5)).len(), 1);
    }

    #[test]
    fn a_repeated_id_is_not_new() {
        let t = Instant::now();
        let mut q = Queries::new(t);
        assert!(q.first_time(1, t) && !q.first_time(1, t));
        assert_eq!(q.seen(), 1);
    }
}
