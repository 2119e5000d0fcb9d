//! A group leader's index of its children's files (组长追踪其所有的孩子的内容).
//!
//! Two maps point into the children's lists: keyword -> files, and SHA-1 -> files.
//! A keyword query intersects the sets of its words (every word must match, as in
//! `share::Folder::search`); a hash query (`urn:sha1:<base32>` or `sha1:<hex>`) is one
//! lookup. When a child leaves, its entries go with it: a departed peer's files must
//! not be offered to anybody.
//!
//! The same structure holds a leader's copies of other leaders' indexes (copy mode,
//! 获得其他组长的数据拷贝): one `Index` per link, keyed by the other leader's numbers for
//! its children (`state/copies.rs`).
//!
//! Bounded: a child that keeps publishing pushes out its own oldest files once it has
//! [`MAX_FILES_PER_CHILD`] (the newest list wins, as when a user replaces a folder), so
//! one peer can neither grow the leader's memory nor crowd out other peers' files.

use super::msg::{FileDesc, Hit, MAX_HITS, MAX_KEYWORDS, MAX_KEYWORD_LEN};
use crate::share::ids::{sha1_from_base32, sha1_from_hex, Sha1Id};
use crate::share::keywords;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::SocketAddrV4;

/// Files one child may have indexed, whatever the index limit: a child that keeps
/// sending Publish frames must not grow the leader's memory without end. Past it, the
/// child's oldest file makes room for the new one.
pub const MAX_FILES_PER_CHILD: usize = 10_000;

/// Who a child is to the index: the leader's connection number for it.
pub type ChildId = u64;

/// Where a hit points: (child, number of the file in that child's list). Numbers only
/// grow, so evicting the oldest file does not move the others.
type Slot = (ChildId, u32);

#[derive(Default)]
struct Child {
    holder: Option<SocketAddrV4>,
    files: VecDeque<FileDesc>,
    /// The number of `files[0]`.
    first: u32,
}

/// The leader's children index. `limit` caps the files it holds in total (0 = none).
#[derive(Default)]
pub struct Index {
    children: HashMap<ChildId, Child>,
    by_keyword: HashMap<String, BTreeSet<Slot>>,
    by_sha1: HashMap<Sha1Id, BTreeSet<Slot>>,
    files: usize,
    limit: usize,
}

/// What a query asks for once parsed.
#[derive(Debug, PartialEq, Eq)]
pub enum Wanted {
    Keywords(Vec<String>),
    Sha1(Sha1Id),
}

/// `urn:sha1:<base32>` and `sha1:<hex>` ask for a hash; anything else is keywords.
pub fn parse_query(text: &str) -> Wanted {
    let t = text.trim();
    if let Some(id) = t.strip_prefix("urn:sha1:").and_then(sha1_from_base32) {
        return Wanted::Sha1(id);
    }
    if let Some(id) = t.strip_prefix("sha1:").and_then(sha1_from_hex) {
        return Wanted::Sha1(id);
    }
    Wanted::Keywords(keywords(t))
}

/// The descriptor a child sends for one of its files: the words of its name, without
/// repeats, within the protocol's limits.
pub fn describe(name: &str, size: u64, sha1: Sha1Id) -> FileDesc {
    let mut kws: Vec<String> = Vec::new();
    for k in keywords(name) {
        if k.len() <= MAX_KEYWORD_LEN && !kws.contains(&k) && kws.len() < MAX_KEYWORDS {
            kws.push(k);
        }
    }
    FileDesc {
        sha1,
        size,
        name: name.to_string(),
        keywords: kws,
    }
}

impl Index {
    pub fn new(limit: usize) -> Index {
        Index {
            limit,
            ..Index::default()
        }
    }

    /// Sets where a child's files are downloaded from (its IP and HTTP port).
    pub fn set_holder(&mut self, child: ChildId, holder: SocketAddrV4) {
        self.children.entry(child).or_default().holder = Some(holder);
    }

    /// Adds files to a child's list. Returns how many were taken (the first ones of
    /// `files`): the rest would pass the index limit (a real leader would also refuse a
    /// child that shares too much). A child at [`MAX_FILES_PER_CHILD`] loses its oldest.
    pub fn publish(&mut self, child: ChildId, files: Vec<FileDesc>) -> usize {
        let mut taken = 0;
        for f in files {
            let own = self.children.entry(child).or_default().files.len();
            if own >= MAX_FILES_PER_CHILD {
                self.evict_oldest(child);
            } else if self.limit > 0 && self.files >= self.limit {
                break;
            }
            let entry = self.children.entry(child).or_default();
            let slot = (child, entry.first.wrapping_add(entry.files.len() as u32));
            for k in &f.keywords {
                // Keywords are stored lower-case, as the query side makes them.
                let k = k.to_lowercase();
                self.by_keyword.entry(k).or_default().insert(slot);
            }
            self.by_sha1.entry(f.sha1).or_default().insert(slot);
            entry.files.push_back(f);
            self.files += 1;
            taken += 1;
        }
        taken
    }

    /// Takes one child's oldest file out.
    fn evict_oldest(&mut self, child: ChildId) {
        let Some(c) = self.children.get_mut(&child) else {
            return;
        };
        let Some(f) = c.files.pop_front() else {
            return;
        };
        let slot = (child, c.first);
        c.first = c.first.wrapping_add(1);
        self.unindex(slot, &f);
        self.files -= 1;
    }

    /// Takes one file's entries out of the keyword and hash maps.
    fn unindex(&mut self, slot: Slot, f: &FileDesc) {
        for k in &f.keywords {
            let k = k.to_lowercase();
            if let Some(set) = self.by_keyword.get_mut(&k) {
                set.remove(&slot);
                if set.is_empty() {
                    self.by_keyword.remove(&k);
                }
            }
        }
        if let Some(set) = self.by_sha1.get_mut(&f.sha1) {
            set.remove(&slot);
            if set.is_empty() {
                self.by_sha1.remove(&f.sha1);
            }
        }
    }

    /// Forgets a child and every file it published.
    pub fn remove_child(&mut self, child: ChildId) {
        let Some(c) = self.children.remove(&child) else {
            return;
        };
        for (i, f) in c.files.iter().enumerate() {
            self.unindex((child, c.first.wrapping_add(i as u32)), f);
        }
        self.files -= c.files.len();
    }

    /// Every child with a download address and its files, oldest first: what a
    /// leader sends a new copy holder (`Copy` messages).
    pub fn lists(&self) -> Vec<(ChildId, SocketAddrV4, Vec<FileDesc>)> {
        let mut out: Vec<_> = (self.children.iter())
            .filter_map(|(id, c)| Some((*id, c.holder?, c.files.iter().cloned().collect())))
            .collect();
        out.sort_by_key(|(id, _, _)| *id);
        out
    }

    /// Whether some child downloaded from `holder` has a file here.
    pub fn names(&self, holder: SocketAddrV4) -> bool {
        (self.children.values()).any(|c| c.holder == Some(holder) && !c.files.is_empty())
    }

    /// Where a child's files are downloaded from, if known.
    pub fn holder(&self, child: ChildId) -> Option<SocketAddrV4> {
        self.children.get(&child)?.holder
    }

    /// Files held in the index.
    pub fn len(&self) -> usize {
        self.files
    }

    pub fn is_empty(&self) -> bool {
        self.files == 0
    }

    /// The matches for a query text, at most [`MAX_HITS`], in a stable order.
    pub fn search(&self, text: &str) -> Vec<Hit> {
        let slots: Vec<Slot> = match parse_query(text) {
            Wanted::Sha1(id) => self
                .by_sha1
                .get(&id)
                .into_iter()
                .flatten()
                .copied()
                .collect(),
            Wanted::Keywords(words) => self.with_every_word(&words),
        };
        let mut hits: Vec<Hit> = slots
            .into_iter()
            .filter_map(|(c, i)| {
                let child = self.children.get(&c)?;
                let f = child.files.get(i.wrapping_sub(child.first) as usize)?;
                Some(Hit {
                    name: f.name.clone(),
                    size: f.size,
                    sha1: f.sha1,
                    holder: child.holder?,
                })
            })
            .collect();
        hits.sort();
        hits.truncate(MAX_HITS);
        hits
    }

    /// Slots found under every word: start from the rarest word's set, keep what the
    /// others also hold.
    fn with_every_word(&self, words: &[String]) -> Vec<Slot> {
        if words.is_empty() {
            return Vec::new();
        }
        let mut sets = Vec::new();
        for w in words {
            match self.by_keyword.get(w) {
                Some(s) => sets.push(s),
                None => return Vec::new(),
            }
        }
        sets.sort_by_key(|s| s.len());
        sets[0]
            .iter()
            .filter(|slot| sets[1..].iter().all(|s| s.contains(slot)))
            .copied()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn holder(port: u16) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)
    }

    fn index_of_two() -> Index {
        let mut ix = Index::new(0);
        ix.set_holder(1, holder(1001));
        ix.set_holder(2, holder(1002));
        ix.publish(1, vec![describe("Abbey Road.mp3", 10, [1; 20])]);
        ix.publish(
            2,
            vec![
                describe("Road Trip.ogg", 20, [2; 20]),
                describe("abbey road live.mp3", 30, [3; 20]),
            ],
        );
        ix
    }

    #[test]
    fn every_word_must_match() {
        let ix = index_of_two();
        assert_eq!(ix.search("road").len(), 3);
        let names: Vec<_> = ix
            .search("ROAD abbey")
            .into_iter()
            .map(|h| h.name)
            .collect();
        assert_eq!(names, ["Abbey Road.mp3", "abbey road live.mp3"]);
        assert!(ix.search("road nothing").is_empty());
        assert!(ix.search("  ").is_empty());
    }

    #[test]
    fn hash_queries_and_holders() {
        let ix = index_of_two();
        let hex = crate::share::ids::to_hex(&[2; 20]);
        let hits = ix.search(&format!("sha1:{hex}"));
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].holder, holder(1002));
        let b32 = crate::share::ids::to_base32(&[1; 20]);
        assert_eq!(
            ix.search(&format!("urn:sha1:{b32}"))[0].name,
            "Abbey Road.mp3"
        );
    }

    #[test]
    fn a_departed_child_leaves_no_trace() {
        let mut ix = index_of_two();
        ix.remove_child(2);
        assert_eq!(ix.len(), 1);
        assert_eq!(ix.search("road").len(), 1);
        assert!(
            !ix.by_keyword.contains_key("trip"),
            "empty sets are dropped"
        );
        ix.remove_child(2); // twice is harmless
        ix.remove_child(1);
        assert!(ix.is_empty() && ix.by_keyword.is_empty() && ix.by_sha1.is_empty());
    }

    #[test]
    fn the_limit_caps_the_index() {
        let mut ix = Index::new(2);
        ix.set_holder(1, holder(1));
        let files = (0..5)
            .map(|i| describe(&format!("f{i}"), 1, [i; 20]))
            .collect();
        assert_eq!(ix.publish(1, files), 2);
        assert_eq!(ix.len(), 2);
    }

    #[test]
    fn one_child_cannot_fill_the_memory_its_oldest_files_go() {
        let mut ix = Index::new(0);
        ix.set_holder(1, holder(1));
        ix.set_holder(2, holder(2));
        ix.publish(2, vec![describe("other peer", 1, [9; 20])]);
        let files: Vec<_> = (0..MAX_FILES_PER_CHILD + 5)
            .map(|i| describe(&format!("f{i}"), 1, [(i % 251) as u8; 20]))
            .collect();
        assert_eq!(ix.publish(1, files), MAX_FILES_PER_CHILD + 5);
        assert_eq!(ix.len(), MAX_FILES_PER_CHILD + 1, "capped, evicting");
        assert!(ix.search("f0").is_empty() && ix.search("f4").is_empty());
        assert_eq!(ix.search("f5").len(), 1, "the oldest kept");
        let last = format!("f{}", MAX_FILES_PER_CHILD + 4);
        assert_eq!(ix.search(&last).len(), 1, "the newest kept");
        assert_eq!(ix.search("other peer").len(), 1, "nobody else loses a file");
        ix.remove_child(1);
        assert_eq!(ix.len(), 1);
        assert_eq!(
            ix.by_sha1.len(),
            1,
            "every entry of the evicting child went"
        );
    }

    #[test]
    fn lists_give_every_child_for_a_full_copy() {
        let ix = index_of_two();
        let l = ix.lists();
        assert_eq!(l.len(), 2);
        assert_eq!((l[0].0, l[0].1, l[0].2.len()), (1, holder(1001), 1));
        assert_eq!((l[1].0, l[1].2.len()), (2, 2));
    }

    #[test]
    fn describe_drops_repeats_and_long_words() {
        let long = "x".repeat(40);
        let d = describe(&format!("a a b {long}.mp3"), 1, [0; 20]);
        assert_eq!(d.keywords, ["a", "b", "mp3"]);
    }
}
