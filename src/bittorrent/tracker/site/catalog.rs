//! The site's catalog (种子目录): the torrents published to it, as the uploader's exact
//! bytes and what the page shows of them. Owned by the tracker's coordinator, beside the
//! swarm table, so publishing and announcing never race and need no lock.
//!
//! Unlike the swarm table, a full catalog refuses a newcomer instead of evicting its
//! oldest entry: the catalog is what the site's owner vouches for (and, with
//! `--registered-only`, what the tracker tracks), so a flood of uploads must not be able
//! to push the real torrents out of it.

use crate::bittorrent::metainfo::{InfoHash, Metainfo};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Torrents the catalog lists at most.
pub const MAX_PUBLISHED: usize = 1_000;
/// Bytes of `.torrent` files it holds at most (each at most `MAX_UPLOAD`).
pub const MAX_CATALOG_BYTES: usize = 64 * 1024 * 1024;

/// What the page shows of a published torrent (its `info` dict, summed up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub name: String,
    /// Bytes of all its files.
    pub size: u64,
    pub pieces: usize,
    pub piece_length: u64,
    pub files: usize,
    /// The tracker the torrent names, if any.
    pub announce: Option<String>,
}

impl Summary {
    pub fn of(meta: &Metainfo) -> Summary {
        let i = &meta.info;
        Summary {
            name: i.name.clone(),
            size: i.total_length(),
            pieces: i.num_pieces(),
            piece_length: i.piece_length,
            files: i.files.len(),
            announce: meta.announce.clone(),
        }
    }
}

/// One published torrent.
#[derive(Debug, Clone)]
pub struct Published {
    pub summary: Summary,
    /// The file exactly as uploaded: a download hashes to the same info-hash.
    pub bytes: Arc<Vec<u8>>,
}

/// What a publish did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Listed,
    /// The same info-hash was listed before; the first upload stays.
    AlreadyListed,
    /// Refused: the catalog is at one of its caps (the reason names it).
    Full(&'static str),
}

#[derive(Debug)]
pub struct Catalog {
    listed: BTreeMap<InfoHash, Published>,
    bytes: usize,
    max_torrents: usize,
    max_bytes: usize,
}

impl Catalog {
    pub fn new(max_torrents: usize, max_bytes: usize) -> Catalog {
        Catalog {
            listed: BTreeMap::new(),
            bytes: 0,
            max_torrents,
            max_bytes,
        }
    }

    /// Lists `meta` (already decoded from `bytes` by the strict decoder).
    pub fn publish(&mut self, meta: &Metainfo, bytes: Arc<Vec<u8>>) -> Outcome {
        if self.listed.contains_key(&meta.info_hash) {
            return Outcome::AlreadyListed;
        }
        if self.listed.len() >= self.max_torrents {
            return Outcome::Full("the site lists as many torrents as it may (MAX_PUBLISHED)");
        }
        if self.bytes + bytes.len() > self.max_bytes {
            return Outcome::Full(
                "the site holds as many bytes of torrents as it may (MAX_CATALOG_BYTES)",
            );
        }
        self.bytes += bytes.len();
        let summary = Summary::of(meta);
        self.listed
            .insert(meta.info_hash, Published { summary, bytes });
        Outcome::Listed
    }

    pub fn get(&self, hash: &InfoHash) -> Option<&Published> {
        self.listed.get(hash)
    }

    pub fn contains(&self, hash: &InfoHash) -> bool {
        self.listed.contains_key(hash)
    }

    /// In info-hash order: the same catalog always reads the same.
    pub fn iter(&self) -> impl Iterator<Item = (&InfoHash, &Published)> {
        self.listed.iter()
    }

    pub fn len(&self) -> usize {
        self.listed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.listed.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bittorrent::metainfo::Info;

    fn meta(name: &str) -> Metainfo {
        let info = Info {
            name: name.into(),
            piece_length: 1 << 18,
            pieces: vec![[7; 20]],
            files: vec![crate::bittorrent::metainfo::FileEntry {
                path: vec![],
                length: 1000,
            }],
            multi_file: false,
        };
        Metainfo::new(info, Some("http://t/announce".into()))
    }

    #[test]
    fn publishing_twice_keeps_the_first_and_a_full_catalog_refuses() {
        let mut c = Catalog::new(2, 1 << 20);
        let (a, b, x) = (meta("a"), meta("b"), meta("x"));
        let bytes = |m: &Metainfo| Arc::new(m.to_bytes());
        assert_eq!(c.publish(&a, bytes(&a)), Outcome::Listed);
        assert_eq!(c.publish(&a, bytes(&a)), Outcome::AlreadyListed);
        assert_eq!(c.publish(&b, bytes(&b)), Outcome::Listed);
        assert!(
            matches!(c.publish(&x, bytes(&x)), Outcome::Full(why) if why.contains("MAX_PUBLISHED"))
        );
        assert_eq!(c.len(), 2);
        assert_eq!(c.get(&a.info_hash).unwrap().summary.name, "a");
        assert!(
            !c.contains(&x.info_hash),
            "a refused upload changes nothing"
        );
    }

    #[test]
    fn the_byte_cap_counts_every_file() {
        let a = meta("a");
        let mut c = Catalog::new(10, a.to_bytes().len() + 10);
        assert_eq!(c.publish(&a, Arc::new(a.to_bytes())), Outcome::Listed);
        let b = meta("b");
        assert!(
            matches!(c.publish(&b, Arc::new(b.to_bytes())), Outcome::Full(why) if why.contains("BYTES"))
        );
    }
}
