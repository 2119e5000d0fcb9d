//! The central directory (集中化目录): who is online and what each one shares.
//!
//! Plain data, owned by the directory server's coordinator thread and touched by no
//! other thread, so it needs no lock. Searching goes through an inverted index,
//! keyword → files ([`index`]).
//!
//! Each file keeps its search result (type 201) already encoded, made once when it is
//! shared: a search, the directory's hot path (6.4, 性能瓶颈), then only copies bytes.

pub mod index;

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

#[derive(Debug, Default)]
pub struct Directory {
    peers: HashMap<PeerId, (PeerInfo, Vec<FileId>)>,
    nicks: HashMap<String, PeerId>,
    files: HashMap<FileId, File>,
    index: Index,
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
    fn sharing_a_name_again_replaces_it() {
        let mut d = Directory::new();
        d.login(1, peer("alice")).unwrap();
        d.share(1, meta("a.mp3")).unwrap();
        d.share(1, meta("a.mp3")).unwrap();
        assert_eq!(d.file_count(), 1);
        assert_eq!(found(&d, "mp3"), ["alice:a.mp3"]);
    }
}
