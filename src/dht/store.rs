//! One node's share of the hash table (哈希表): key → set of values.
//!
//! Values are sets and a put only adds, so merging two copies is a union: replicas and
//! hand-overs can be sent twice, late or in any order and still agree. The lab stores
//! a file's hash → the addresses of peers that hold the file.
//!
//! Defence (issue #13, bounded tables): anyone may PUT or STORE, so the whole store has
//! a node-wide cap in bytes ([`MAX_STORE_BYTES`], `Config::store_bytes`). A full store
//! evicts its oldest values to take a new one rather than refusing it: a flood of junk
//! can push out old entries (the publisher's next put brings them back, and each
//! replica evicts on its own clock), but it can never grow the node's memory without
//! bound. Per key, [`MAX_VALUES`] still caps what one GET must page through.

use super::id::{in_half_open, Id};
use super::msg::{Entry, MAX_BODY, MAX_ENTRIES, MAX_KEY, MAX_VALUE, MAX_VALUES};
use std::collections::{BTreeMap, BTreeSet};

/// A node's default cap on stored bytes, every role together (owner and replica).
/// 16 MiB holds about 250,000 "file hash → address" entries, far more than any lab
/// stores, and keeps a lab of 1,000 nodes in one process under attack within 16 GiB.
pub const MAX_STORE_BYTES: usize = 16 << 20;

/// What one value is charged beside its key's and its own bytes: the map nodes and the
/// age index. Without it, a flood of empty values would cost nothing.
pub const ENTRY_OVERHEAD: usize = 64;

/// One key's values, each with its age: the number it was stored under.
type Aged = BTreeMap<Vec<u8>, u64>;

#[derive(Clone, Debug)]
pub struct Store {
    bits: u32,
    /// Keyed by the raw key; the id is kept beside it to answer range questions.
    map: BTreeMap<Vec<u8>, (Id, Aged)>,
    /// Age → (key, value), oldest first: what eviction takes.
    ages: BTreeMap<u64, (Vec<u8>, Vec<u8>)>,
    next_age: u64,
    /// What the values held are charged (see [`ENTRY_OVERHEAD`]), at most `cap`.
    bytes: usize,
    cap: usize,
    /// Values evicted to make room, since the node started.
    evicted: u64,
}

/// Why a put was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum StoreError {
    KeyTooLong,
    ValueTooLong,
    /// The key already holds [`MAX_VALUES`] values.
    Full,
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StoreError::KeyTooLong => "key longer than MAX_KEY",
            StoreError::ValueTooLong => "value longer than MAX_VALUE",
            StoreError::Full => "key already holds MAX_VALUES values",
        })
    }
}

/// What one value under `key` is charged.
fn cost(key: &[u8], value: &[u8]) -> usize {
    key.len() + value.len() + ENTRY_OVERHEAD
}

impl Store {
    /// An empty store for an m-bit ring, capped at [`MAX_STORE_BYTES`].
    pub fn new(bits: u32) -> Store {
        Store::with_cap(bits, MAX_STORE_BYTES)
    }

    /// An empty store holding at most `cap` bytes; never less than one largest value.
    pub fn with_cap(bits: u32, cap: usize) -> Store {
        Store {
            bits,
            map: BTreeMap::new(),
            ages: BTreeMap::new(),
            next_age: 0,
            bytes: 0,
            cap: cap.max(MAX_KEY + MAX_VALUE + ENTRY_OVERHEAD),
            evicted: 0,
        }
    }

    /// Adds `value` under `key`; `Ok(true)` if it was new. When the store is full, the
    /// oldest values go to make room (a value stored again keeps its first age).
    pub fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<bool, StoreError> {
        if key.len() > MAX_KEY {
            return Err(StoreError::KeyTooLong);
        }
        if value.len() > MAX_VALUE {
            return Err(StoreError::ValueTooLong);
        }
        if let Some((_, values)) = self.map.get(key) {
            if values.contains_key(value) {
                return Ok(false);
            }
            if values.len() >= MAX_VALUES {
                return Err(StoreError::Full);
            }
        }
        let c = cost(key, value);
        while self.bytes + c > self.cap && self.evict_oldest() {}
        let (bits, age) = (self.bits, self.next_age);
        self.next_age += 1;
        self.map
            .entry(key.to_vec())
            .or_insert_with(|| (Id::hash(key, bits), BTreeMap::new()))
            .1
            .insert(value.to_vec(), age);
        self.ages.insert(age, (key.to_vec(), value.to_vec()));
        self.bytes += c;
        Ok(true)
    }

    /// Drops the oldest value (and its key, if it was the last); false if empty.
    fn evict_oldest(&mut self) -> bool {
        let Some((_, (key, value))) = self.ages.pop_first() else {
            return false;
        };
        if let Some((_, values)) = self.map.get_mut(&key) {
            values.remove(&value);
            if values.is_empty() {
                self.map.remove(&key);
            }
        }
        self.bytes -= cost(&key, &value);
        self.evicted += 1;
        true
    }

    /// Bytes charged for the values held (see [`ENTRY_OVERHEAD`]); never above the cap.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Values evicted to make room so far.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Unions entries received from another node (replication, hand-over). Values over
    /// the limits are dropped: the decoder already refused them, this is belt and braces.
    pub fn merge(&mut self, entries: Vec<Entry>) -> usize {
        let mut added = 0;
        for (key, values) in entries {
            for v in values {
                added += matches!(self.insert(&key, &v), Ok(true)) as usize;
            }
        }
        added
    }

    pub fn get(&self, key: &[u8]) -> BTreeSet<Vec<u8>> {
        self.map
            .get(key)
            .map(|e| e.1.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Keys held, whatever the role (owner or replica).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn contains(&self, key: &[u8]) -> bool {
        self.map.contains_key(key)
    }

    /// Entries whose id lies in `(a, b]`: what the node `b` owns when `a` precedes it.
    pub fn in_range(&self, a: &Id, b: &Id) -> Vec<Entry> {
        self.select(|id| in_half_open(id, a, b))
    }

    /// Entries whose id lies outside `(a, b]`: what a new predecessor `a` should get.
    pub fn outside(&self, a: &Id, b: &Id) -> Vec<Entry> {
        self.select(|id| !in_half_open(id, a, b))
    }

    /// Every entry.
    pub fn all(&self) -> Vec<Entry> {
        self.select(|_| true)
    }

    fn select(&self, keep: impl Fn(&Id) -> bool) -> Vec<Entry> {
        self.map
            .iter()
            .filter(|(_, (id, _))| keep(id))
            .map(|(k, (_, v))| (k.clone(), v.keys().cloned().collect()))
            .collect()
    }
}

/// Splits entries into STORE messages that each fit one datagram ([`MAX_BODY`]) and
/// hold at most [`MAX_ENTRIES`] keys. A key whose values do not fit the room left is
/// split over two messages: the receiver merges by union, so the halves add up.
pub fn batches(entries: Vec<Entry>) -> Vec<Vec<Entry>> {
    // type, bits and the entry count come first.
    let budget = MAX_BODY - 4;
    let mut out: Vec<Vec<Entry>> = Vec::new();
    let (mut cur, mut size): (Vec<Entry>, usize) = (Vec::new(), 0);
    for (key, values) in entries {
        let head = 4 + key.len(); // key length, key, value count
        let mut piece = BTreeSet::new();
        for v in values {
            let need = 2 + v.len() + if piece.is_empty() { head } else { 0 };
            let full = piece.is_empty() && cur.len() >= MAX_ENTRIES;
            if size + need > budget || full {
                if !piece.is_empty() {
                    cur.push((key.clone(), std::mem::take(&mut piece)));
                }
                out.push(std::mem::take(&mut cur));
                size = 0;
            }
            size += 2 + v.len() + if piece.is_empty() { head } else { 0 };
            piece.insert(v);
        }
        if !piece.is_empty() {
            cur.push((key, piece));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out.retain(|b| !b.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_a_set_and_merge_is_a_union() {
        let mut s = Store::new(8);
        assert_eq!(s.insert(b"song", b"10.0.0.1:80"), Ok(true));
        assert_eq!(s.insert(b"song", b"10.0.0.1:80"), Ok(false));
        let mut t = Store::new(8);
        t.insert(b"song", b"10.0.0.2:80").unwrap();
        t.merge(s.all());
        t.merge(s.all()); // twice: no change
        assert_eq!(t.get(b"song").len(), 2);
        assert!(t.get(b"other").is_empty());
    }

    #[test]
    fn ranges_follow_the_ring() {
        let mut s = Store::new(8);
        // Find keys on either side of the split at 128.
        let keys: Vec<Vec<u8>> = (0..40).map(|i| format!("k{i}").into_bytes()).collect();
        for k in &keys {
            s.insert(k, b"v").unwrap();
        }
        let (a, b) = (Id::from_u64(200, 8), Id::from_u64(60, 8)); // (200, 60] wraps
        let inside = s.in_range(&a, &b);
        let outside = s.outside(&a, &b);
        assert_eq!(inside.len() + outside.len(), keys.len());
        for (k, _) in &inside {
            let id = Id::hash(k, 8).low_u64();
            assert!(!(61..=200).contains(&id), "{id} is in (200, 60]");
        }
        assert!(!inside.is_empty() && !outside.is_empty());
    }

    #[test]
    fn limits_hold() {
        let mut s = Store::new(160);
        assert_eq!(
            s.insert(&[0; MAX_KEY + 1], b"v"),
            Err(StoreError::KeyTooLong)
        );
        assert_eq!(
            s.insert(b"k", &[0; MAX_VALUE + 1]),
            Err(StoreError::ValueTooLong)
        );
        for i in 0..MAX_VALUES {
            s.insert(b"k", format!("{i}").as_bytes()).unwrap();
        }
        assert_eq!(s.insert(b"k", b"one more"), Err(StoreError::Full));
    }

    #[test]
    fn a_full_store_evicts_its_oldest_values_to_take_a_new_one() {
        // Room for exactly 16 values of "k" + 10 bytes.
        let one = cost(b"k", b"0000000000");
        let cap = 16 * one;
        let mut s = Store::with_cap(160, cap.max(MAX_KEY + MAX_VALUE + ENTRY_OVERHEAD));
        let cap = s.cap;
        let fits = cap / one;
        for i in 0..fits + 5 {
            assert_eq!(s.insert(b"k", format!("{i:010}").as_bytes()), Ok(true));
        }
        assert!(s.bytes() <= cap, "{} bytes over a cap of {cap}", s.bytes());
        assert_eq!(s.evicted(), 5);
        let held = s.get(b"k");
        assert!(!held.contains(&b"0000000000"[..]), "the oldest went");
        assert!(
            held.contains(format!("{:010}", fits + 4).as_bytes()),
            "the newest stays"
        );
        // A value stored again keeps its age and costs nothing.
        let before = (s.bytes(), s.evicted());
        assert_eq!(
            s.insert(b"k", format!("{:010}", fits + 4).as_bytes()),
            Ok(false)
        );
        assert_eq!((s.bytes(), s.evicted()), before);
        // Evicting a key's last value removes the key.
        let mut t = Store::with_cap(160, 0);
        t.insert(b"a", &[1; MAX_VALUE]).unwrap();
        t.insert(b"b", &[2; MAX_VALUE]).unwrap();
        assert!(!t.contains(b"a") && t.contains(b"b"), "a was evicted whole");
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn batches_split_big_hand_overs() {
        let big: BTreeSet<Vec<u8>> = (0..MAX_VALUES)
            .map(|i| {
                let mut v = vec![0u8; MAX_VALUE];
                v[..8].copy_from_slice(&(i as u64).to_be_bytes());
                v
            })
            .collect();
        let entries: Vec<Entry> = (0..10)
            .map(|i| (format!("k{i}").into_bytes(), big.clone()))
            .collect();
        let b = batches(entries.clone());
        // 10 keys x 256 values x 514 bytes: about 1.3 MB, so at least 161 datagrams.
        assert!(b.len() > 160, "{} batches", b.len());
        for batch in &b {
            let body = crate::dht::msg::encode_request(
                160,
                &crate::dht::msg::Request::Store(batch.clone()),
            );
            assert!(body.len() <= MAX_BODY, "a batch of {} bytes", body.len());
        }
        let mut merged = Store::new(160);
        for batch in b {
            merged.merge(batch);
        }
        assert_eq!(merged.all(), entries, "the halves of split keys add up");
        let small: Vec<Entry> = (0..MAX_ENTRIES + 5)
            .map(|i| (format!("{i}").into_bytes(), [b"v".to_vec()].into()))
            .collect();
        let b = batches(small);
        assert!(b.iter().all(|batch| batch.len() <= MAX_ENTRIES));
        assert_eq!(b.iter().map(Vec::len).sum::<usize>(), MAX_ENTRIES + 5);
    }
}
