//! One node's share of the hash table (哈希表): key → set of values.
//!
//! Values are sets and a put only adds, so merging two copies is a union: replicas and
//! hand-overs can be sent twice, late or in any order and still agree. The lab stores
//! a file's hash → the addresses of peers that hold the file.

use super::id::{in_half_open, Id};
use super::msg::{Entry, MAX_BODY, MAX_ENTRIES, MAX_KEY, MAX_VALUE, MAX_VALUES};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Default, Clone, Debug)]
pub struct Store {
    bits: u32,
    /// Keyed by the raw key; the id is kept beside it to answer range questions.
    map: BTreeMap<Vec<u8>, (Id, BTreeSet<Vec<u8>>)>,
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

impl Store {
    pub fn new(bits: u32) -> Store {
        Store {
            bits,
            map: BTreeMap::new(),
        }
    }

    /// Adds `value` under `key`; `Ok(true)` if it was new.
    pub fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<bool, StoreError> {
        if key.len() > MAX_KEY {
            return Err(StoreError::KeyTooLong);
        }
        if value.len() > MAX_VALUE {
            return Err(StoreError::ValueTooLong);
        }
        let bits = self.bits;
        let slot = self
            .map
            .entry(key.to_vec())
            .or_insert_with(|| (Id::hash(key, bits), BTreeSet::new()));
        if slot.1.contains(value) {
            return Ok(false);
        }
        if slot.1.len() >= MAX_VALUES {
            return Err(StoreError::Full);
        }
        Ok(slot.1.insert(value.to_vec()))
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
        self.map.get(key).map(|e| e.1.clone()).unwrap_or_default()
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
            .map(|(k, (_, v))| (k.clone(), v.clone()))
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
