//! The central directory (集中化目录): who is online and what each one shares.
//!
//! Plain data, owned by the directory server's coordinator thread and touched by no
//! other thread, so it needs no lock. Searching goes through an inverted index,
//! keyword → files ([`index`]).
//!
//! Each file keeps its search result (type 201) already encoded, made once when it is
//! shared: a search, the directory's hot path (6.4, 性能瓶颈), then only copies bytes.

pub mod index;

/// Files one peer may share at once. One more evicts that peer's oldest share: the
/// directory's memory is the server's, and a peer must not fill it alone. OpenNap
/// servers had such a limit too; a library peer of the lab shares 100.
pub const MAX_FILES_PER_PEER: usize = 1000;

use super::msg::{FileMeta, Msg};
use super::policy::PeerId;
use index::{FileId, Index};
use std::collections::HashMap;
use std::net::Ipv4Addr;

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

#[derive(Debug)]
pub struct Directory {
    /// Each peer and its files, oldest share first.
    peers: HashMap<PeerId, (PeerInfo, Vec<FileId>)>,
    nicks: HashMap<String, PeerId>,
    files: HashMap<FileId, File>,
    index: Index,
    next_file: FileId,
    max_files_per_peer: usize,
}

impl Default for Directory {
    fn default() -> Directory {
        Directory::with_cap(MAX_FILES_PER_PEER)
    }
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

    /// A directory where one peer shares at most `max_files_per_peer` files (at least 1).
    pub fn with_cap(max_files_per_peer: usize) -> Directory {
        Directory {
            peers: HashMap::new(),
            nicks: HashMap::new(),
            files: HashMap::new(),
            index: Index::default(),
            next_file: 0,
            max_files_per_peer: max_files_per_peer.max(1),
        }
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

    /// Adds a file to a peer's list (replacing one of the same name). A share whose
    /// search result could not be encoded is refused here, so no search ever meets it;
    /// a peer at its cap loses its oldest share to make room.
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
        let oldest = match self.peers.get(&id) {
            Some((_, list)) if list.len() >= self.max_files_per_peer => Some(list[0]),
            _ => None,
        };
        if let Some(fid) = oldest {
            if let Some((_, list)) = self.peers.get_mut(&id) {
                list.remove(0);
            }
            self.drop_file(fid);
        }
        let fid = self.next_file;
        self.next_file += 1;
        self.index.add(fid, &meta.name);
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
        let fid = list.remove(pos); // not swap_remove: the list stays oldest first
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
            self.index.remove(fid, &file.meta.name);
        }
    }

    /// Files whose names contain every keyword of `query`, oldest share first, as
    /// (owner, file). Lazy, so `policy::pick_hits` taking 100 stops the walk there.
    pub fn matches<'a>(&'a self, query: &str) -> impl Iterator<Item = (PeerId, &'a File)> + 'a {
        self.index
            .matches(query)
            .filter_map(|fid| self.files.get(&fid))
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
    fn a_peer_at_its_cap_loses_its_oldest_share() {
        let mut d = Directory::with_cap(3);
        d.login(1, peer("alice")).unwrap();
        d.login(2, peer("bob")).unwrap();
        d.share(2, meta("bob song.mp3")).unwrap();
        for n in 0..5 {
            d.share(1, meta(&format!("song {n}.mp3"))).unwrap();
        }
        assert_eq!(d.file_count(), 4); // alice's 3 newest, and bob's
        assert_eq!(
            found(&d, "song"),
            [
                "bob:bob song.mp3",
                "alice:song 2.mp3",
                "alice:song 3.mp3",
                "alice:song 4.mp3"
            ]
        );
    }

    #[test]
    fn a_name_no_result_frame_could_carry_is_refused_at_share() {
        let mut d = Directory::new();
        d.login(1, peer("alice")).unwrap();
        // The longest name a Share frame still carries: its search result, which adds
        // the owner's nick, address and link, is too long for a frame.
        let long = (4000..4096)
            .map(|n| format!("{} song.mp3", "x".repeat(n)))
            .take_while(|name| Msg::Share(meta(name)).encode().is_ok())
            .last()
            .unwrap();
        assert_eq!(d.share(1, meta(&long)), Err(Refused::TooLong));
        d.share(1, meta("short song.mp3")).unwrap();
        assert_eq!(found(&d, "song"), ["alice:short song.mp3"]);
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
