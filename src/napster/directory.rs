//! The central directory (集中化目录): who is online and what each one shares.
//!
//! Plain data and functions, no sockets: the server's connection threads call these
//! under one lock. Searching is an inverted index, keyword → files, so a query costs
//! the size of its rarest keyword's posting list, not the size of the whole catalogue.

use super::msg::FileMeta;
use crate::share::keywords;
use std::collections::{BTreeSet, HashMap};
use std::net::Ipv4Addr;

/// A logged-in peer, known by the connection it logged in on.
pub type PeerId = u64;
type FileId = u64;

/// Where a peer is and how it said it is connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    pub nick: String,
    pub ip: Ipv4Addr,
    /// Port of the peer's file server (0: firewalled).
    pub port: u16,
    pub link: u8,
}

/// One search result: a file and who has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub file: FileMeta,
    pub peer: PeerInfo,
}

#[derive(Debug, Default)]
pub struct Directory {
    peers: HashMap<PeerId, (PeerInfo, Vec<FileId>)>,
    nicks: HashMap<String, PeerId>,
    files: HashMap<FileId, (PeerId, FileMeta)>,
    /// keyword → files whose name has it; ordered so results come oldest share first.
    postings: HashMap<String, BTreeSet<FileId>>,
    next_file: FileId,
}

/// Why a login is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum LoginRefused {
    NickInUse,
}

impl Directory {
    pub fn new() -> Directory {
        Directory::default()
    }

    /// Registers a peer. Nicks are unique, as on a real Napster server.
    pub fn login(&mut self, id: PeerId, info: PeerInfo) -> Result<(), LoginRefused> {
        if self.nicks.contains_key(&info.nick) {
            return Err(LoginRefused::NickInUse);
        }
        self.nicks.insert(info.nick.clone(), id);
        self.peers.insert(id, (info, Vec::new()));
        Ok(())
    }

    /// Adds a file to a peer's list (replacing one of the same name).
    pub fn share(&mut self, id: PeerId, meta: FileMeta) {
        if !self.peers.contains_key(&id) {
            return;
        }
        self.unshare(id, &meta.name);
        let fid = self.next_file;
        self.next_file += 1;
        for word in keywords(&meta.name) {
            self.postings.entry(word).or_default().insert(fid);
        }
        self.files.insert(fid, (id, meta));
        if let Some((_, list)) = self.peers.get_mut(&id) {
            list.push(fid);
        }
    }

    /// Removes one file of a peer's by name; true if it was there.
    pub fn unshare(&mut self, id: PeerId, name: &str) -> bool {
        let Some((_, list)) = self.peers.get_mut(&id) else {
            return false;
        };
        let found = list
            .iter()
            .position(|f| self.files.get(f).is_some_and(|(_, m)| m.name == name));
        let Some(pos) = found else {
            return false;
        };
        let fid = list.swap_remove(pos);
        self.drop_file(fid);
        true
    }

    /// The peer's connection is gone: so are its files, at once.
    pub fn logout(&mut self, id: PeerId) {
        if let Some((info, list)) = self.peers.remove(&id) {
            self.nicks.remove(&info.nick);
            for fid in list {
                self.drop_file(fid);
            }
        }
    }

    fn drop_file(&mut self, fid: FileId) {
        if let Some((_, meta)) = self.files.remove(&fid) {
            for word in keywords(&meta.name) {
                if let Some(set) = self.postings.get_mut(&word) {
                    set.remove(&fid);
                    if set.is_empty() {
                        self.postings.remove(&word);
                    }
                }
            }
        }
    }

    /// Files whose names contain every keyword of `query`, at most `max`, skipping the
    /// asking peer's own files. Walks the shortest posting list and checks the others.
    pub fn search(&self, query: &str, max: usize, asker: Option<PeerId>) -> Vec<Hit> {
        let words = keywords(query);
        let mut lists = Vec::with_capacity(words.len());
        for w in &words {
            match self.postings.get(w) {
                Some(set) => lists.push(set),
                None => return Vec::new(), // a keyword nobody has: no match
            }
        }
        lists.sort_by_key(|s| s.len());
        let Some((first, rest)) = lists.split_first() else {
            return Vec::new();
        };
        first
            .iter()
            .filter(|fid| rest.iter().all(|s| s.contains(fid)))
            .filter_map(|fid| self.files.get(fid))
            .filter(|(owner, _)| Some(*owner) != asker)
            .take(max)
            .map(|(owner, meta)| Hit {
                file: meta.clone(),
                peer: self.peers[owner].0.clone(),
            })
            .collect()
    }

    /// A peer by nick, with the file of that name if it shares it.
    pub fn locate(&self, nick: &str, name: &str) -> Option<(PeerInfo, FileMeta)> {
        let id = self.nicks.get(nick)?;
        let (info, list) = self.peers.get(id)?;
        list.iter()
            .filter_map(|f| self.files.get(f))
            .find(|(_, m)| m.name == name)
            .map(|(_, m)| (info.clone(), m.clone()))
    }

    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }

    pub fn file_count(&self) -> usize {
        self.files.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(nick: &str) -> PeerInfo {
        PeerInfo {
            nick: nick.into(),
            ip: Ipv4Addr::LOCALHOST,
            port: 6699,
            link: 0,
        }
    }

    fn meta(name: &str) -> FileMeta {
        FileMeta {
            name: name.into(),
            md5: "0".repeat(40),
            size: 1,
            bitrate: 0,
            freq: 0,
            seconds: 0,
        }
    }

    fn names(hits: &[Hit]) -> Vec<String> {
        hits.iter()
            .map(|h| format!("{}:{}", h.peer.nick, h.file.name))
            .collect()
    }

    #[test]
    fn every_keyword_must_match_case_insensitive() {
        let mut d = Directory::new();
        d.login(1, peer("alice")).unwrap();
        d.share(1, meta("Abbey Road.mp3"));
        d.share(1, meta("Road Trip.ogg"));
        d.share(1, meta("abbey-chants.mp3"));
        assert_eq!(
            names(&d.search("ROAD", 10, None)),
            ["alice:Abbey Road.mp3", "alice:Road Trip.ogg"]
        );
        assert_eq!(
            names(&d.search("abbey road", 10, None)),
            ["alice:Abbey Road.mp3"]
        );
        assert!(d.search("abbey zeppelin", 10, None).is_empty());
        assert!(d.search("", 10, None).is_empty());
    }

    #[test]
    fn results_are_capped_and_skip_the_asker() {
        let mut d = Directory::new();
        d.login(1, peer("alice")).unwrap();
        d.login(2, peer("bob")).unwrap();
        for i in 0..10 {
            d.share(1, meta(&format!("song {i}.mp3")));
        }
        d.share(2, meta("song b.mp3"));
        assert_eq!(d.search("song", 3, None).len(), 3);
        assert_eq!(names(&d.search("song", 100, Some(1))), ["bob:song b.mp3"]);
    }

    #[test]
    fn logout_removes_every_file_at_once() {
        let mut d = Directory::new();
        d.login(1, peer("alice")).unwrap();
        d.login(2, peer("bob")).unwrap();
        d.share(1, meta("common.mp3"));
        d.share(2, meta("common.mp3"));
        d.logout(1);
        assert_eq!(names(&d.search("common", 10, None)), ["bob:common.mp3"]);
        assert_eq!(d.file_count(), 1);
        // The nick is free again.
        assert!(d.login(3, peer("alice")).is_ok());
    }

    #[test]
    fn nick_in_use_and_unshare() {
        let mut d = Directory::new();
        d.login(1, peer("alice")).unwrap();
        assert_eq!(d.login(2, peer("alice")), Err(LoginRefused::NickInUse));
        d.share(1, meta("a.mp3"));
        assert!(d.locate("alice", "a.mp3").is_some());
        assert!(d.unshare(1, "a.mp3"));
        assert!(!d.unshare(1, "a.mp3"));
        assert!(d.search("a", 10, None).is_empty());
        assert!(d.locate("alice", "a.mp3").is_none());
    }
}
