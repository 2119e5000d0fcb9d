//! Napster behind the notes' common interface (6.4 集中: a central directory), so a lab
//! can set it beside flooding, group leaders and the ring on one workload.
//!
//! Every verb is the real thing: a [`DirectoryServer`] on 127.0.0.1 and one [`Peer`]
//! per workload peer, with its own file server and its own session to the directory.
//!
//! | verb | on the wire |
//! |---|---|
//! | join | the peer's file server starts; login (2) → ack (3); one share (100) per file; then a download request (203) for its own last file, whose ack (204) says the directory lists them all |
//! | search | search (200) → one result (201) per file + end (202), from the directory alone |
//! | leave | the peer closes its sending side; the directory drops its files, then closes; the end of the stream comes back |
//! | crash | the peer's socket closes at once, without waiting for anything (what the kernel does for a dead process) |
//! | kill_special | the directory stops: every later join and search fails (单点故障) |
//! | traffic | `directory` first, then `peer i`: each session's messages and bytes to and from the directory |
//!
//! A provider's address: a result (201) names the nick and IP; the port comes with the
//! download ack (204) in Napster. Rather than pay a 203/204 round trip per result (a
//! download's cost, not a search's), the port is the one that nick logged in with.
//! The asker's own files are never in its results (`policy::pick_hits`).

use super::{DirectoryServer, NapsterError, Peer, PeerConfig, ServerOptions, MAX_RESULTS};
use crate::locate::folders::Scratch;
use crate::locate::Traffic;
use crate::locate::{Design, Killed, LocateError, NodeTraffic, PeerId, Provider, SharedFile};
use crate::share::ids;
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

/// A directory server and its peers, as one [`Design`].
pub struct NapsterNet {
    /// `None` once killed (or stopped).
    dir: Option<DirectoryServer>,
    server: SocketAddr,
    /// Kept apart from the server, so its counts outlive a kill.
    dir_traffic: Traffic,
    peers: BTreeMap<PeerId, Peer>,
    /// Each peer's counters, kept across leaves and re-joins.
    traffic: BTreeMap<PeerId, Traffic>,
    /// Every nick ever logged in: whose it is and where its file server listened. A
    /// rejoining peer gets a new nick, so a stale result still names the right peer.
    nicks: HashMap<String, (PeerId, SocketAddr)>,
    joins: u64,
    scratch: Scratch,
}

impl NapsterNet {
    /// Starts a directory on an ephemeral port; no peers yet.
    pub fn start(opts: ServerOptions) -> io::Result<NapsterNet> {
        let dir = DirectoryServer::start("127.0.0.1:0", opts)?;
        Ok(NapsterNet {
            server: dir.local_addr(),
            dir_traffic: dir.traffic().clone(),
            dir: Some(dir),
            peers: BTreeMap::new(),
            traffic: BTreeMap::new(),
            nicks: HashMap::new(),
            joins: 0,
            scratch: Scratch::new("napster-locate")?,
        })
    }

    pub fn directory_addr(&self) -> SocketAddr {
        self.server
    }

    /// A failure while talking to the directory: once it is dead, that is the design's
    /// single point of failure, not a fault of the peer.
    fn failed(&self, what: &str, e: NapsterError) -> LocateError {
        match (&self.dir, e) {
            (None, _) => LocateError::NoService("the directory is down".into()),
            (_, NapsterError::Io(e)) if e.kind() == io::ErrorKind::ConnectionRefused => {
                LocateError::NoService(format!("{what}: directory refused the connection"))
            }
            (_, e) => LocateError::Failed(format!("{what}: {e}")),
        }
    }
}

impl Design for NapsterNet {
    fn name(&self) -> String {
        "directory (Napster)".into()
    }

    fn join(&mut self, peer: PeerId, files: &[SharedFile]) -> Result<(), LocateError> {
        if self.peers.contains_key(&peer) {
            return Err(LocateError::Failed(format!("peer {peer} is already in")));
        }
        if self.dir.is_none() {
            return Err(LocateError::NoService("the directory is down".into()));
        }
        self.joins += 1;
        let nick = format!("p{peer}.{}", self.joins);
        let folder = self
            .scratch
            .folder(&nick, files)
            .map_err(|e| LocateError::Failed(format!("peer {peer}'s folder: {e}")))?;
        let cfg = PeerConfig {
            server: self.server,
            nick: nick.clone(),
            share_dir: folder.root().to_path_buf(),
            listen: "127.0.0.1:0".into(),
            upload_rate: None,
        };
        let traffic = self.traffic.entry(peer).or_default().clone();
        let mut p = Peer::start_metered(cfg, traffic).map_err(|e| self.failed("join", e))?;
        self.nicks.insert(nick, (peer, p.data_addr()));
        let confirmed = p.confirm_shared();
        self.peers.insert(peer, p);
        confirmed.map_err(|e| self.failed("join", e))
    }

    fn search(&mut self, from: PeerId, keyword: &str) -> Result<Vec<Provider>, LocateError> {
        if self.dir.is_none() {
            return Err(LocateError::NoService("the directory is down".into()));
        }
        let p = self
            .peers
            .get_mut(&from)
            .ok_or(LocateError::UnknownPeer(from))?;
        let hits = match p.search(keyword, MAX_RESULTS) {
            Ok(hits) => hits,
            Err(e) => return Err(self.failed("search", e)),
        };
        Ok(hits
            .into_iter()
            .filter_map(|h| {
                let (peer, data) = *self.nicks.get(&h.nick)?;
                Some(Provider {
                    peer,
                    addr: SocketAddr::new(h.ip.into(), data.port()),
                    sha1: ids::sha1_from_hex(&h.file.md5)?,
                    name: h.file.name,
                })
            })
            .collect())
    }

    fn leave(&mut self, peer: PeerId) -> Result<(), LocateError> {
        let mut p = self
            .peers
            .remove(&peer)
            .ok_or(LocateError::UnknownPeer(peer))?;
        p.leave().map_err(|e| self.failed("leave", e))
    }

    fn crash(&mut self, peer: PeerId) -> Result<(), LocateError> {
        let mut p = self
            .peers
            .remove(&peer)
            .ok_or(LocateError::UnknownPeer(peer))?;
        p.stop();
        Ok(())
    }

    /// No timer: the directory learns of a crash from the closed connection, as soon
    /// as its reader thread runs. (A host that vanished without its kernel closing the
    /// socket would stay listed until `ServerOptions::idle_timeout`.)
    fn crash_timeout(&self) -> Duration {
        Duration::ZERO
    }

    fn kill_special(&mut self) -> Result<Killed, LocateError> {
        let mut dir = self
            .dir
            .take()
            .ok_or_else(|| LocateError::NoService("the directory is already down".into()))?;
        dir.stop();
        Ok(Killed {
            what: "the directory".into(),
            nodes: 1,
            peers: Vec::new(),
        })
    }

    fn traffic(&self) -> Vec<NodeTraffic> {
        let mut out = vec![self.dir_traffic.snapshot("directory")];
        out.extend(
            self.traffic
                .iter()
                .map(|(p, t)| t.snapshot(&format!("peer {p}"))),
        );
        out
    }

    fn stop(&mut self) {
        for (_, mut p) in std::mem::take(&mut self.peers) {
            p.stop();
        }
        if let Some(mut dir) = self.dir.take() {
            dir.stop();
        }
    }
}

impl Drop for NapsterNet {
    fn drop(&mut self) {
        self.stop();
    }
}
