//! The central directory (集中化目录): who is online and what each one shares.
//!
//! Plain data, owned by the directory server's coordinator thread and touched by no
//! other thread, so it needs no lock. Searching is an inverted index, keyword → files,
//! so a query costs the size of its rarest keyword's posting list, not the size of the
//! whole catalogue. A posting list is a sorted `Vec` (file ids only grow, so a share
//! appends): checking the other keywords is a binary search in contiguous memory.
//!
//! Each file keeps its search result (type 201) already encoded, made once when it is
//! shared: a search, the directory's hot path (6.4, 性能瓶颈), then only copies bytes.

use super::msg::{FileMeta, Msg};
use super::policy::PeerId;
use crate::share::keywords;
use std::collections::HashMap;
use std::net::Ipv4Addr;

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

/// One shared file: what the peer announced, and its search result frame.
#[derive(Debug)]
pub struct File {
    pub owner: PeerId,
    pub meta: FileMeta,
    /// `Msg::SearchResult` for this file and its owner, header included.
    pub result: Vec<u8>,
}

#[derive(Debug, Default)]
pub struct Directory {
    peers: HashMap<PeerId, (PeerInfo, Vec<FileId>)>,
    nicks: HashMap<String, PeerId>,
    files: HashMap<FileId, File>,
    /// keyword → files whose name has it, ascending: results come oldest share first.
    postings: HashMap<String, Vec<FileId>>,
    next_file: FileId,
}

/// Why a login or a share is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    NickInUse,
    NotLoggedIn,
    /// The file's search result would not fit in one frame.
    TooLong,
}

impl Directory {
    pub fn new() -> Directory {
        Directory::default()
    }

    /// Registers a peer. Nicks are unique, as on a real Napster server.
    pub fn login(&mut self, id: PeerId, info: PeerInfo) -> Result<(), Refused> {
        if self.nicks.contains_key(&info.nick) {
            return Err(Refused::NickInUse);
        }
        self.nicks.insert(info.nick.clone(), id);
        self.peers.insert(id, (info, Vec::new()));
        Ok(())
    }

    /// Adds a file to a peer's list (replacing one of the same name).
    pub fn share(&mut self, id: PeerId, meta: FileMeta) -> Result<(), Refused> {
        let Some((info, _)) = self.peers.get(&id) else {
            return Err(Refused::NotLoggedIn);
        };
        let result = Msg::SearchResult {
            file: meta.clone(),
            nick: info.nick.clone(),
            ip: info.ip,
            link: info.link,
        }
        .encode()
        .map_err(|_| Refused::TooLong)?;
        self.unshare(id, &meta.name);
        let fid = self.next_file;
        self.next_file += 1;
        for word in keywords(&meta.name) {
            let list = self.postings.entry(word).or_default();
            if list.last() != Some(&fid) {
                list.push(fid); // the newest id: the list stays sorted
            }
        }
        self.files.insert(
            fid,
            File {
                owner: id,
                meta,
                result,
            },
        );
        if let Some((_, list)) = self.peers.get_mut(&id) {
            list.push(fid);
        }
        Ok(())
    }

    /// Removes one file of a peer's by name; true if it was there.
    pub fn unshare(&mut self, id: PeerId, name: &str) -> bool {
        let Some((_, list)) = self.peers.get_mut(&id) else {
            return false;
        };
        let found = list
            .iter()
            .position(|f| self.files.get(f).is_some_and(|f| f.meta.name == name));
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
        if let Some(file) = self.files.remove(&fid) {
            for word in keywords(&file.meta.name) {
                if let Some(list) = self.postings.get_mut(&word) {
                    if let Ok(i) = list.binary_search(&fid) {
                        list.remove(i);
                    }
                    if list.is_empty() {
                        self.postings.remove(&word);
                    }
                }
            }
        }
    }

    /// Files whose names contain every keyword of `query`, oldest share first, as
    /// (owner, file). Walks the shortest posting list and checks the others; lazy, so
    /// `policy::pick_hits` taking 100 stops the walk there.
    pub fn matches<'a>(&'a self, query: &str) -> impl Iterator<Item = (PeerId, &'a File)> + 'a {
        let mut lists: Vec<&Vec<FileId>> = Vec::new();
        let mut missing = false;
        for w in keywords(query) {
            match self.postings.get(&w) {
                Some(set) => lists.push(set),
                None => missing = true, // a keyword nobody has: no match
            }
        }
        if missing {
            lists.clear();
        }
        lists.sort_by_key(|l| l.len());
        let (first, mut rest): (&[FileId], Vec<&[FileId]>) = match lists.split_first() {
            Some((first, rest)) => (first, rest.iter().map(|l| l.as_slice()).collect()),
            None => (&[], Vec::new()),
        };
        first
            .iter()
            .filter(move |fid| rest.iter_mut().all(|l| skip_to(l, **fid)))
            .filter_map(|fid| self.files.get(fid))
            .map(|f| (f.owner, f))
    }

    /// A peer by nick, with the file of that name if it shares it.
    pub fn locate(&self, nick: &str, name: &str) -> Option<(&PeerInfo, &FileMeta)> {
        let id = self.nicks.get(nick)?;
        let (info, list) = self.peers.get(id)?;
        list.iter()
            .filter_map(|f| self.files.get(f))
            .find(|f| f.meta.name == name)
            .map(|f| (info, &f.meta))
    }

    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }

    pub fn file_count(&self) -> usize {
        self.files.len()
    }
}

/// Drops the ids below `fid` from the front of the sorted `list` and says whether `fid`
/// is next. Gallops (1, 2, 4, … ahead, then a binary search), so walking a short list
/// against a long one costs a few steps per id, and against one of equal length about
/// one step: an intersection costs about the sum of the two lengths at worst.
fn skip_to(list: &mut &[FileId], fid: FileId) -> bool {
    let mut step = 1;
    while step < list.len() && list[step] < fid {
        step *= 2;
    }
    let skip = list[..step.min(list.len())].partition_point(|&x| x < fid);
    *list = &list[skip..];
    list.first() == Some(&fid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::napster::msg::read_msg;

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

    /// "owner:name" of every match, read back from the encoded result frames.
    fn found(d: &Directory, query: &str) -> Vec<String> {
        d.matches(query)
            .map(|(_, f)| match read_msg(&mut &f.result[..]) {
                Ok(Some(Msg::SearchResult { file, nick, .. })) => format!("{nick}:{}", file.name),
                other => panic!("bad result frame: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn every_keyword_must_match_case_insensitive() {
        let mut d = Directory::new();
        d.login(1, peer("alice")).unwrap();
        d.share(1, meta("Abbey Road.mp3")).unwrap();
        d.share(1, meta("Road Trip.ogg")).unwrap();
        d.share(1, meta("abbey-chants.mp3")).unwrap();
        assert_eq!(
            found(&d, "ROAD"),
            ["alice:Abbey Road.mp3", "alice:Road Trip.ogg"]
        );
        assert_eq!(found(&d, "abbey road"), ["alice:Abbey Road.mp3"]);
        assert!(found(&d, "abbey zeppelin").is_empty());
        assert!(found(&d, "").is_empty());
    }

    #[test]
    fn logout_removes_every_file_at_once() {
        let mut d = Directory::new();
        d.login(1, peer("alice")).unwrap();
        d.login(2, peer("bob")).unwrap();
        d.share(1, meta("common.mp3")).unwrap();
        d.share(2, meta("common.mp3")).unwrap();
        d.logout(1);
        assert_eq!(found(&d, "common"), ["bob:common.mp3"]);
        assert_eq!(d.file_count(), 1);
        // The nick is free again.
        assert!(d.login(3, peer("alice")).is_ok());
    }

    #[test]
    fn nick_in_use_share_before_login_and_unshare() {
        let mut d = Directory::new();
        d.login(1, peer("alice")).unwrap();
        assert_eq!(d.login(2, peer("alice")), Err(Refused::NickInUse));
        assert_eq!(d.share(7, meta("x.mp3")), Err(Refused::NotLoggedIn));
        d.share(1, meta("a.mp3")).unwrap();
        assert!(d.locate("alice", "a.mp3").is_some());
        assert!(d.unshare(1, "a.mp3"));
        assert!(!d.unshare(1, "a.mp3"));
        assert!(found(&d, "a").is_empty());
        assert!(d.locate("alice", "a.mp3").is_none());
    }

    #[test]
    fn skip_to_walks_a_sorted_list_forward() {
        let all: Vec<FileId> = (0..100).map(|i| i * 3).collect();
        let mut l = &all[..];
        assert!(skip_to(&mut l, 0));
        assert!(!skip_to(&mut l, 10)); // 9, 12: not there
        assert_eq!(l[0], 12);
        assert!(skip_to(&mut l, 150));
        assert!(skip_to(&mut l, 297));
        assert!(!skip_to(&mut l, 298));
        assert!(l.is_empty());
        assert!(!skip_to(&mut l, 400));
    }

    #[test]
    fn many_files_intersect_like_a_filter() {
        let mut d = Directory::new();
        d.login(1, peer("alice")).unwrap();
        for i in 0..300 {
            let a = if i % 2 == 0 { "even" } else { "odd" };
            let b = if i % 3 == 0 { "three" } else { "other" };
            let c = if i % 5 == 0 { "five" } else { "rest" };
            d.share(1, meta(&format!("{a} {b} {c} {i}.mp3"))).unwrap();
        }
        let want: Vec<String> = (0..300)
            .filter(|i| i % 30 == 0)
            .map(|i| format!("alice:even three five {i}.mp3"))
            .collect();
        assert_eq!(found(&d, "five three even"), want);
        assert_eq!(found(&d, "odd").len(), 150);
    }

    #[test]
    fn sharing_a_name_again_replaces_it() {
        let mut d = Directory::new();
        d.login(1, peer("alice")).unwrap();
        d.share(1, meta("a.mp3")).unwrap();
        d.share(1, meta("a.mp3")).unwrap();
        assert_eq!(d.file_count(), 1);
        assert_eq!(found(&d, "mp3"), ["alice:a.mp3"]);
    }
}
