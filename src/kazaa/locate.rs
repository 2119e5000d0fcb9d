//! KaZaA as a [`Design`] of notes 6.4 (半分散, group leaders 组长): a few leaders linked
//! in a mesh, every workload peer a child of one of them.
//!
//! - **start**: L = max(2, N/16) leaders, each linked to every leader started before it
//!   (组长对之间有TCP连接). Promotion is off (`max_children = 0`), so the leaders stay the
//!   same few for the whole run and a table can name them.
//! - **join**: the peer's share folder is written (one real file per song, its bytes
//!   [`song_bytes`] of its name, so the SHA-1 the child computes is the workload's), and
//!   a child starts: it serves the folder over HTTP, attaches to a leader (spread by its
//!   peer index) and uploads its list; `join` returns once the leader indexed it.
//! - **search**: the child's query, answered by its leader from its index and forwarded
//!   to the other leaders ([`DEFAULT_TTL`] hops, duplicates dropped). Each hit names the
//!   holder's share address, which is mapped back to the workload peer that opened it.
//! - **leave**: the child says Bye; its leader drops its files from the index at once.
//! - **the mode** ([`Mode`], 组长与其它组长联系): `Forward` as above; `Copy`: each leader
//!   keeps a copy of every other leader's index (获得其他组长的数据拷贝), so a search is
//!   answered by the child's leader alone, and a join or leave is sent to every other
//!   leader; `Both`: copies, and forwarding when the copy finds nothing. With copies,
//!   `join` and `leave` return once every live leader's copy agrees (asked through each
//!   leader's handle, `Leader::names`: no message on the wire), so the change travels
//!   inside the measured join or leave, and a search right after it sees it.
//! - **crash**: the child's sockets close with no Bye ([`Node::crash`]). Its leader
//!   forgets its files as soon as it reads the end of the connection; a host that
//!   vanished without a FIN is dropped after [`MAX_MISSES`] silent keep-alive periods,
//!   which is this design's crash timeout.
//! - **kill_special**: the first live leader dies (`Leader::kill`: no Bye). Its children
//!   notice the closed connection, go to another leader they heard of in Welcome and
//!   upload their lists again; until then their queries fail and their files cannot
//!   be found. No workload peer is a leader, so `Killed::peers` is empty.
//!
//! Traffic is counted on every node's sockets (`conn/threads.rs`, `conn/open.rs`):
//! leaders first in [`Design::traffic`], then the peers. Downloads are not counted:
//! locating a file is the question here, not fetching it.

use super::{Leader, LeaderConfig, Mode, Node, NodeConfig, NodeError, DEFAULT_TTL, MAX_MISSES};
use crate::locate::workload::song_bytes;
use crate::locate::{Design, Killed, LocateError, NodeTraffic, PeerId, Provider, SharedFile};
use std::collections::{BTreeMap, HashMap};
use std::net::{SocketAddr, SocketAddrV4};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Keep-alive period of leaders and children: short, so a silent death is noticed in
/// seconds ([`MAX_MISSES`] periods), not a minute.
pub const LAB_KEEPALIVE: Duration = Duration::from_secs(1);

/// Numbers each network's folder in this process.
static NETWORKS: AtomicU64 = AtomicU64::new(0);

/// Leaders and their children, on real sockets.
pub struct Groups {
    /// Every leader started, the killed ones too (their counts stay readable).
    leaders: Vec<Leader>,
    killed: Vec<bool>,
    children: BTreeMap<PeerId, Node>,
    /// Counts of each peer's nodes that are gone (a peer that rejoins gets a new node).
    past: BTreeMap<PeerId, NodeTraffic>,
    /// Share address → the peer that served it (kept after it leaves: a stale hit
    /// must still be recognised as that peer's).
    holders: HashMap<SocketAddr, PeerId>,
    /// Holds `peer<i>/`, one share folder per peer; removed at stop.
    dir: PathBuf,
    mode: Mode,
}

impl Groups {
    /// Starts max(2, `peers`/16) forwarding leaders, linked to each other, and no child yet.
    pub fn new(peers: usize) -> Result<Groups, LocateError> {
        Groups::with_mode(peers, Mode::Forward)
    }

    /// The same, with leaders that forward, copy, or both.
    pub fn with_mode(peers: usize, mode: Mode) -> Result<Groups, LocateError> {
        let n = NETWORKS.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("p2plab-locate-kazaa-{}-{n}", std::process::id()));
        let mut g = Groups {
            leaders: Vec::new(),
            killed: Vec::new(),
            children: BTreeMap::new(),
            past: BTreeMap::new(),
            holders: HashMap::new(),
            dir,
            mode,
        };
        for _ in 0..(peers / 16).max(2) {
            let mut cfg = LeaderConfig::new("127.0.0.1:0");
            cfg.links = g.leaders.iter().map(Leader::local_addr).collect();
            cfg.max_children = 0;
            cfg.keepalive = LAB_KEEPALIVE;
            cfg.mode = mode;
            let l = Leader::start(cfg).map_err(|e| LocateError::Failed(e.to_string()))?;
            g.leaders.push(l);
            g.killed.push(false);
        }
        Ok(g)
    }

    /// Every started leader's counters (a killed one's last), in start order.
    pub fn leader_stats(&self) -> Vec<super::LeaderStats> {
        self.leaders.iter().map(Leader::stats).collect()
    }

    fn live_leaders(&self) -> Vec<SocketAddr> {
        (self.leaders.iter().zip(&self.killed))
            .filter(|(_, k)| !**k)
            .map(|(l, _)| l.local_addr())
            .collect()
    }

    /// With copies: waits until every live leader names `holder` (`named`) or none
    /// does (`!named`), up to the crash timeout; a leader that dies meanwhile is not
    /// waited for. Forwarding leaders have nothing to wait for.
    fn settle(&self, holder: SocketAddr, named: bool) -> Result<(), LocateError> {
        let SocketAddr::V4(holder) = holder else {
            return Ok(());
        };
        if !self.mode.keeps_copies() {
            return Ok(());
        }
        let live: Vec<&Leader> = (self.leaders.iter().zip(&self.killed))
            .filter(|(_, k)| !**k)
            .map(|(l, _)| l)
            .collect();
        let agreed = |h: SocketAddrV4| live.iter().all(|l| l.names(h) == named);
        if crate::wait::until(self.crash_timeout(), || agreed(holder)) {
            return Ok(());
        }
        let what = if named { "learnt" } else { "forgot" };
        Err(LocateError::Failed(format!(
            "not every leader's copy {what} {holder} in {:?}",
            self.crash_timeout()
        )))
    }

    /// Writes peer `peer`'s share folder afresh: exactly `files`.
    fn folder(&self, peer: PeerId, files: &[SharedFile]) -> std::io::Result<PathBuf> {
        let dir = self.dir.join(format!("peer{peer}"));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        for f in files {
            std::fs::write(dir.join(&f.name), song_bytes(&f.name))?;
        }
        Ok(dir)
    }

    /// Takes `peer`'s node out; `end` stops it (politely or not); its counts are kept.
    fn end(&mut self, peer: PeerId, end: fn(&mut Node)) -> Result<SocketAddr, LocateError> {
        let mut node = (self.children.remove(&peer)).ok_or(LocateError::UnknownPeer(peer))?;
        let t = node.traffic();
        let holder = node.share_addr();
        end(&mut node);
        let past = self.past.entry(peer).or_default();
        *past = past.plus(&t.snapshot(""));
        Ok(holder)
    }
}

impl Design for Groups {
    fn name(&self) -> String {
        match self.mode {
            Mode::Forward => "group leaders (KaZaA)".into(),
            m => format!("group leaders (KaZaA, {m})"),
        }
    }

    fn join(&mut self, peer: PeerId, files: &[SharedFile]) -> Result<(), LocateError> {
        if self.children.contains_key(&peer) {
            return Err(LocateError::Failed(format!("peer {peer} is already in")));
        }
        let leaders = self.live_leaders();
        if leaders.is_empty() {
            return Err(LocateError::NoService("every group leader is gone".into()));
        }
        let dir = (self.folder(peer, files)).map_err(|e| LocateError::Failed(e.to_string()))?;
        let mut cfg = NodeConfig::new(leaders, &dir, peer as u64);
        cfg.keepalive = LAB_KEEPALIVE;
        let node = Node::start(cfg).map_err(|e| match e {
            NodeError::NoLeader => LocateError::NoService("no group leader answered".into()),
            e => LocateError::Failed(e.to_string()),
        })?;
        let holder = node.share_addr();
        self.holders.insert(holder, peer);
        self.children.insert(peer, node);
        if files.is_empty() {
            return Ok(()); // nothing to copy
        }
        self.settle(holder, true)
    }

    fn search(&mut self, from: PeerId, keyword: &str) -> Result<Vec<Provider>, LocateError> {
        let node = (self.children.get(&from)).ok_or(LocateError::UnknownPeer(from))?;
        let answer = node.query(keyword, DEFAULT_TTL).map_err(|e| match e {
            NodeError::NoLeader | NodeError::LeaderLost => LocateError::NoService(e.to_string()),
            e => LocateError::Failed(e.to_string()),
        })?;
        let mut out = Vec::new();
        for hit in answer.hits {
            let addr = SocketAddr::V4(hit.holder);
            match self.holders.get(&addr) {
                Some(&peer) => out.push(Provider {
                    peer,
                    addr,
                    sha1: hit.sha1,
                    name: hit.name,
                }),
                None => log::warn!("a hit names {addr}, which no peer of ours served"),
            }
        }
        Ok(out)
    }

    fn leave(&mut self, peer: PeerId) -> Result<(), LocateError> {
        let holder = self.end(peer, Node::stop)?;
        self.settle(holder, false)
    }

    fn crash(&mut self, peer: PeerId) -> Result<(), LocateError> {
        // Not waited for: a crash is noticed within the crash timeout, as with forwarding.
        self.end(peer, Node::crash).map(|_| ())
    }

    fn crash_timeout(&self) -> Duration {
        LAB_KEEPALIVE * MAX_MISSES
    }

    fn kill_special(&mut self) -> Result<Killed, LocateError> {
        let i = (self.killed.iter().position(|k| !k))
            .ok_or_else(|| LocateError::NoService("every group leader is gone".into()))?;
        self.leaders[i].kill();
        self.killed[i] = true;
        Ok(Killed {
            what: "one group leader".into(),
            nodes: 1,
            peers: Vec::new(),
        })
    }

    fn traffic(&self) -> Vec<NodeTraffic> {
        let leaders = (self.leaders.iter().enumerate())
            .map(|(i, l)| l.traffic().snapshot(&format!("leader {i}")));
        let peers: std::collections::BTreeSet<PeerId> =
            (self.children.keys().chain(self.past.keys()))
                .copied()
                .collect();
        let peers = peers.into_iter().map(|p| {
            let now = (self.children.get(&p))
                .map(|n| n.traffic().snapshot(""))
                .unwrap_or_default();
            let mut sum = now.plus(self.past.get(&p).unwrap_or(&NodeTraffic::default()));
            sum.node = format!("peer {p}");
            sum
        });
        leaders.chain(peers).collect()
    }

    fn stop(&mut self) {
        let mut nodes: Vec<(PeerId, Node)> =
            std::mem::take(&mut self.children).into_iter().collect();
        let counts: Vec<_> = nodes.iter().map(|(p, n)| (*p, n.traffic())).collect();
        let mut only: Vec<Node> = nodes.drain(..).map(|(_, n)| n).collect();
        Node::stop_all(&mut only);
        for (p, t) in counts {
            let past = self.past.entry(p).or_default();
            *past = past.plus(&t.snapshot(""));
        }
        self.leaders.iter_mut().for_each(Leader::stop);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Groups {
    fn drop(&mut self) {
        self.stop();
    }
}
