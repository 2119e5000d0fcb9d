//! The seen-table: "让中转的节点记住已经查过这个问题了" (relays remember the questions they
//! have already passed on), bounded in memory. Gnutella's duplicate suppression and reverse
//! routes and KaZaA's leader mesh both use it: one table, one job.
//!
//! Each entry maps a descriptor (GUID + type) to the neighbour it came from, which is
//! also the reverse path a Pong or QueryHit takes home. Entries cannot live forever or
//! a servent's memory grows with every query the network ever asked, so the table
//! keeps two generations:
//!
//! ```text
//!   insert ─► current ──(full, or half a lifetime passed)──► previous ──► dropped
//! ```
//!
//! A lookup checks both. An entry lives between half a lifetime and a lifetime, and
//! the table never holds more than `capacity` entries: memory is bounded, and a
//! descriptor that comes back after its entry expired is treated as new (a TTL of at
//! most 7 hops makes that harmless when the lifetime is minutes).

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Default bound on entries (both generations together).
pub const SEEN_CAPACITY: usize = 65_536;
/// How long a route is remembered at most. Replies come back within seconds; real
/// servents kept routes about ten minutes.
pub const SEEN_LIFETIME: Duration = Duration::from_secs(600);

/// A bounded, expiring map.
#[derive(Debug)]
pub struct Seen<K, V> {
    current: HashMap<K, V>,
    previous: HashMap<K, V>,
    capacity: usize,
    lifetime: Duration,
    rotated: Instant,
}

impl<K: Hash + Eq, V> Seen<K, V> {
    pub fn new(capacity: usize, lifetime: Duration, now: Instant) -> Seen<K, V> {
        Seen {
            current: HashMap::new(),
            previous: HashMap::new(),
            capacity: capacity.max(2),
            lifetime,
            rotated: now,
        }
    }

    /// Inserts `key -> value` unless `key` is present. Returns true if it was new:
    /// the duplicate test of flooding.
    pub fn insert_if_new(&mut self, key: K, value: V, now: Instant) -> bool {
        if self.contains(&key) {
            return false;
        }
        self.expire(now);
        if self.current.len() >= self.capacity / 2 {
            self.rotate(now);
        }
        self.current.insert(key, value);
        true
    }

    /// Inserts or replaces (a route learned again from a newer message).
    pub fn put(&mut self, key: K, value: V, now: Instant) {
        self.previous.remove(&key);
        if !self.current.contains_key(&key) {
            self.expire(now);
            if self.current.len() >= self.capacity / 2 {
                self.rotate(now);
            }
        }
        self.current.insert(key, value);
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.current.get(key).or_else(|| self.previous.get(key))
    }

    pub fn contains(&self, key: &K) -> bool {
        self.get(key).is_some()
    }

    /// Drops the older generation once half a lifetime has passed.
    pub fn expire(&mut self, now: Instant) {
        if now.duration_since(self.rotated) >= self.lifetime / 2 {
            self.rotate(now);
        }
    }

    fn rotate(&mut self, now: Instant) {
        // The old `previous` and its allocation go; `current` starts empty and small.
        self.previous = std::mem::take(&mut self.current);
        self.rotated = now;
    }

    /// Entries held right now.
    pub fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_seen() {
        let t = Instant::now();
        let mut s = Seen::new(100, SEEN_LIFETIME, t);
        assert!(s.insert_if_new(1u32, 'a', t));
        assert!(!s.insert_if_new(1u32, 'b', t));
        assert_eq!(s.get(&1), Some(&'a'), "the first route stays");
    }

    #[test]
    fn bounded_by_capacity() {
        let t = Instant::now();
        let mut s = Seen::new(1000, SEEN_LIFETIME, t);
        for i in 0..1_000_000u32 {
            assert!(s.insert_if_new(i, (), t));
            assert!(s.len() <= 1000);
        }
        // The newest entries are still known, the oldest forgotten.
        assert!(s.contains(&999_999));
        assert!(!s.contains(&0));
    }

    #[test]
    fn entries_expire_within_a_lifetime() {
        let t = Instant::now();
        let life = Duration::from_secs(10);
        let mut s = Seen::new(100, life, t);
        s.insert_if_new(7u8, (), t);
        s.expire(t + Duration::from_secs(6)); // to previous: still known
        assert!(s.contains(&7));
        s.expire(t + Duration::from_secs(12)); // dropped
        assert!(!s.contains(&7));
    }
}
