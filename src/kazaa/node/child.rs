//! An ordinary node (a child, 孩子): its files served over HTTP, one TCP connection to
//! its group leader, queries through the leader, downloads straight from the holder.
//! This is the handle: it starts the node, asks its coordinator (`state/child.rs`)
//! with commands that carry a reply channel, and stops it.

use super::answer::{NodeError, QueryAnswer};
use super::leader::LeaderConfig;
use crate::kazaa::conn::{Ctx, EVENT_QUEUE};
use crate::kazaa::index::describe;
use crate::kazaa::msg::{Hit, MAX_QUERY_LEN};
use crate::kazaa::policy::pick_leader;
use crate::kazaa::state::{ChildCmd, ChildState, LeaderStats, Me, Status};
use crate::kazaa::{KEEPALIVE, MAX_MISSES, QUERY_WAIT};
use crate::locate::Traffic;
use crate::net::{Conns, TokenBucket};
use crate::share::{fetch, Download, FetchError, Folder, HttpConfig, ShareServer};
use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};
use std::net::{SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

/// How long the handle waits for its coordinator to take a command and answer it
/// (a query waits [`QUERY_WAIT`] more).
const ASK_TIMEOUT: Duration = Duration::from_secs(5);

/// How a node behaves.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Leaders it may attach to; it tries them in [`pick_leader`] order.
    pub leaders: Vec<SocketAddr>,
    pub share_dir: PathBuf,
    pub share_listen: String,
    /// Upload capacity in KiB/s: announced to the leader (who promotes the most capable)
    /// and enforced on the HTTP server.
    pub capacity: u32,
    /// This node's number: spreads orphans over leaders and seeds its query ids.
    pub id: u64,
    /// Ping period toward the leader; a leader silent for [`MAX_MISSES`] periods is
    /// taken for dead. Tests shorten it.
    pub keepalive: Duration,
    /// Used if this node is promoted: where its leader listens, and how it behaves.
    pub as_leader: LeaderConfig,
}

impl NodeConfig {
    pub fn new(leaders: Vec<SocketAddr>, share_dir: &Path, id: u64) -> NodeConfig {
        NodeConfig {
            leaders,
            share_dir: share_dir.to_path_buf(),
            share_listen: "127.0.0.1:0".into(),
            capacity: 1024,
            id,
            keepalive: KEEPALIVE,
            as_leader: LeaderConfig::new("127.0.0.1:0"),
        }
    }
}

/// A running node; dropping it stops it (with a Bye to its leader).
pub struct Node {
    cmds: Sender<ChildCmd>,
    conns: Conns,
    share: ShareServer,
    capacity: u32,
    files: usize,
    traffic: Traffic,
    /// The last status, once stopped.
    last: Option<Status>,
}

impl Node {
    /// Scans the share folder, starts serving it, and attaches to the first leader
    /// that answers. Returns once the leader has indexed every file.
    pub fn start(cfg: NodeConfig) -> Result<Node, NodeError> {
        let io = |e: std::io::Error| NodeError::Io(Box::new(e));
        let folder = Arc::new(Folder::scan(&cfg.share_dir).map_err(io)?);
        let http = HttpConfig {
            rate: Some(TokenBucket::new(cfg.capacity as u64 * 1024)),
            ..HttpConfig::default()
        };
        let share = ShareServer::start(folder.clone(), &cfg.share_listen, http).map_err(io)?;
        let files = (folder.files().iter())
            .map(|f| describe(&f.name, f.size, f.sha1))
            .collect();
        let configured: Vec<SocketAddrV4> = cfg.leaders.iter().filter_map(v4).collect();
        let first = pick_leader(&configured, &[], cfg.id);
        let (events, events_rx) = bounded(EVENT_QUEUE);
        let (cmds, cmds_rx) = bounded(64);
        let (ready, started) = bounded(1);
        let conns = Conns::new();
        let traffic = Traffic::new();
        let ctx = Ctx {
            name: "kazaa-node".into(),
            events,
            conns: conns.clone(),
            ids: Arc::new(AtomicU64::new(1)),
            silence: cfg.keepalive * MAX_MISSES,
            traffic: traffic.clone(),
        };
        let me = Me {
            id: cfg.id,
            share_port: share.local_addr().port(),
            capacity: cfg.capacity,
            files,
            configured,
            keepalive: cfg.keepalive,
            as_leader: cfg.as_leader,
        };
        let state = ChildState::new(me, ctx, ready);
        conns
            .spawn_worker(format!("kazaa-node-{}", share.local_addr()), move || {
                state.run(first, events_rx, cmds_rx)
            })
            .map_err(io)?;
        let mut node = Node {
            cmds,
            conns,
            share,
            capacity: cfg.capacity,
            files: folder.files().len(),
            traffic,
            last: None,
        };
        // Every attempt ends (each phase has its deadline), so this answer comes.
        match started.recv() {
            Ok(Ok(())) => Ok(node),
            Ok(Err(e)) => {
                node.stop();
                Err(e)
            }
            Err(_) => {
                node.stop();
                Err(NodeError::NoLeader)
            }
        }
    }

    /// Asks the network for `text` (keywords, or `urn:sha1:<base32>`), letting the
    /// query travel `ttl` leader-to-leader hops.
    pub fn query(&self, text: &str, ttl: u8) -> Result<QueryAnswer, NodeError> {
        if text.len() > MAX_QUERY_LEN {
            return Err(NodeError::QueryTooLong(text.len()));
        }
        let (reply, answer) = bounded(1);
        let text = text.to_string();
        let sent = self
            .cmds
            .send_timeout(ChildCmd::Query { text, ttl, reply }, ASK_TIMEOUT);
        if sent.is_err() {
            return Err(NodeError::NoLeader);
        }
        match answer.recv_timeout(QUERY_WAIT + ASK_TIMEOUT) {
            Ok(result) => result,
            Err(RecvTimeoutError::Timeout) => Err(NodeError::Timeout),
            Err(RecvTimeoutError::Disconnected) => Err(NodeError::LeaderLost),
        }
    }

    /// Downloads a hit from its holder by hash (`/uri-res/N2R?urn:sha1:...`); the file
    /// takes its name in `out_dir` only if its SHA-1 matches.
    pub fn download(&self, hit: &Hit, out_dir: &Path) -> Result<PathBuf, FetchError> {
        let d = Download::by_sha1(SocketAddr::V4(hit.holder), &hit.name, hit.size, hit.sha1);
        fetch(&d, out_dir, &mut |_| {})
    }

    fn ask<T>(&self, cmd: impl FnOnce(Sender<T>) -> ChildCmd) -> Option<T> {
        let (tx, rx): (Sender<T>, Receiver<T>) = bounded(1);
        self.cmds.send_timeout(cmd(tx), ASK_TIMEOUT).ok()?;
        rx.recv_timeout(ASK_TIMEOUT).ok()
    }

    fn status(&self) -> Status {
        match &self.last {
            Some(s) => s.clone(),
            None => self.ask(ChildCmd::Status).unwrap_or_default(),
        }
    }

    /// The leader this node belongs to now (its list indexed there).
    pub fn leader(&self) -> Option<SocketAddr> {
        self.status().leader.map(SocketAddr::V4)
    }

    /// Where this node serves its files over HTTP.
    pub fn share_addr(&self) -> SocketAddr {
        self.share.local_addr()
    }

    /// The upload capacity this node announces, in KiB/s.
    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    pub fn files(&self) -> usize {
        self.files
    }

    /// Messages and bytes this node sent and received with leaders (not downloads).
    pub fn traffic(&self) -> Traffic {
        self.traffic.clone()
    }

    /// How many times it attached to a leader (1 + reattachments).
    pub fn attaches(&self) -> u64 {
        self.status().history.len() as u64
    }

    /// Every leader this node attached to, first to last.
    pub fn history(&self) -> Vec<SocketAddr> {
        (self.status().history.into_iter())
            .map(SocketAddr::V4)
            .collect()
    }

    /// If promoted: the address of the leader this node now runs.
    pub fn led(&self) -> Option<SocketAddr> {
        self.status().led
    }

    /// If promoted: that leader's counters.
    pub fn led_stats(&self) -> Option<LeaderStats> {
        if self.last.is_some() {
            return None; // stopped, and so is the leader it ran
        }
        self.ask(ChildCmd::LedStats).flatten()
    }

    /// Leaves: Bye to the leader (whose index then forgets our files), stop serving.
    pub fn stop(&mut self) {
        if self.last.is_some() {
            return;
        }
        let last = self.ask(ChildCmd::Stop);
        let (status, led) = last.unwrap_or_default();
        self.last = Some(status);
        if let Some(mut l) = led {
            l.stop();
        }
        self.conns.shutdown_all();
        self.conns.join_all();
        self.share.stop();
    }

    /// Dies: its sockets close without a Bye, as when the process crashes. Its leader
    /// sees the connection end and forgets its files.
    pub fn crash(&mut self) {
        // Told first (and asked once, so the coordinator has read it): it must not go
        // looking for another leader when its connection drops.
        let _ = self.cmds.send_timeout(ChildCmd::Stopping, ASK_TIMEOUT);
        let _ = self.ask(ChildCmd::Status);
        self.conns.shutdown_all();
        self.stop();
    }

    /// Stops many nodes at once. Each is told first, so that a node whose (promoted)
    /// leader stops before it does not go looking for another.
    pub fn stop_all(nodes: &mut [Node]) {
        for n in nodes.iter() {
            let _ = n.cmds.send_timeout(ChildCmd::Stopping, ASK_TIMEOUT);
        }
        nodes.iter_mut().for_each(Node::stop);
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
    }
}

fn v4(a: &SocketAddr) -> Option<SocketAddrV4> {
    match a {
        SocketAddr::V4(a) => Some(*a),
        SocketAddr::V6(_) => None,
    }
}
