//! An ordinary node (a child, 孩子): one TCP connection to its group leader, its files
//! served over HTTP, queries through the leader, downloads straight from the holder.
//!
//! ```text
//!   start: connect -> Hello -> Welcome(other leaders) -> Publish.. -> Indexed
//!   then:  one thread reads from the leader: Hits (answers), Leaders (who else leads),
//!          Promote (become a leader), Redirect (move), Bye/close/silence (reattach)
//! ```

use super::conn::{read_msg, send};
use super::index::describe;
use super::leader::{Leader, LeaderConfig};
use super::msg::{Hit, Msg, Role, MAX_PUBLISH, MAX_QUERY_LEN};
use super::policy::pick_leader;
use super::{LeaderStats, HELLO_TIMEOUT, KEEPALIVE, MAX_MISSES, QUERY_WAIT, WRITE_TIMEOUT};
use crate::net::{self, TokenBucket};
use crate::share::{fetch, Download, FetchError, Folder, HttpConfig, ShareServer};
use crossbeam_channel::{bounded, RecvTimeoutError, Sender};
use log::{info, warn};
use std::collections::HashMap;
use std::fmt;
use std::net::{Shutdown, SocketAddr, SocketAddrV4, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Duration;
use std::time::Instant;

/// Rounds of trying every known leader before a node gives up and leads itself.
const REATTACH_ROUNDS: usize = 3;
/// Pause between rounds: a leader being promoted needs a moment to listen.
const REATTACH_PAUSE: Duration = Duration::from_millis(200);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

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

/// The combined answer to one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryAnswer {
    pub hits: Vec<Hit>,
    /// Leaders that searched their children's index for it.
    pub leaders: u16,
}

#[derive(Debug)]
pub enum NodeError {
    /// No leader could be reached (at start) or the node is between leaders.
    NoLeader,
    /// The leader went away before answering.
    LeaderLost,
    Timeout,
    QueryTooLong(usize),
    Io(BoxError),
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeError::NoLeader => write!(f, "no group leader answered"),
            NodeError::LeaderLost => write!(f, "the leader went away before answering"),
            NodeError::Timeout => write!(f, "no answer within {QUERY_WAIT:?}"),
            NodeError::QueryTooLong(n) => {
                write!(f, "query of {n} bytes, at most {MAX_QUERY_LEN}")
            }
            NodeError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for NodeError {}

/// Why the connection to a leader ended.
enum Outcome {
    Lost(String),
    Bye,
    Redirect(SocketAddrV4),
    Promote,
}

/// What the node's thread and its handle share.
struct Shared {
    cfg: NodeConfig,
    folder: Arc<Folder>,
    share_port: u16,
    /// The write half of the leader connection. This lock guards nothing but the
    /// socket, so that two queries' frames never interleave; no state sits behind it.
    writer: Mutex<Option<TcpStream>>,
    /// The leader whose index holds our list now.
    attached: Mutex<Option<SocketAddrV4>>,
    /// The leader now (or being attached to), kept to shut the socket on stop.
    current: Mutex<Option<(SocketAddrV4, TcpStream)>>,
    known: Mutex<Vec<SocketAddrV4>>,
    /// Every leader this node attached to, in order.
    history: Mutex<Vec<SocketAddrV4>>,
    pending: Mutex<HashMap<u64, Sender<QueryAnswer>>>,
    promoted: Mutex<Option<Leader>>,
    stopping: AtomicBool,
    attaches: AtomicU64,
    queries: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running node; dropping it stops it (with a Bye to its leader).
pub struct Node {
    shared: Arc<Shared>,
    share: ShareServer,
    thread: Option<JoinHandle<()>>,
}

impl Node {
    /// Scans the share folder, starts serving it, and attaches to the first leader
    /// that answers. Returns once the leader has indexed every file.
    pub fn start(cfg: NodeConfig) -> Result<Node, NodeError> {
        let folder =
            Arc::new(Folder::scan(&cfg.share_dir).map_err(|e| NodeError::Io(Box::new(e)))?);
        let http = HttpConfig {
            rate: Some(TokenBucket::new(cfg.capacity as u64 * 1024)),
            ..HttpConfig::default()
        };
        let share = ShareServer::start(folder.clone(), &cfg.share_listen, http)
            .map_err(|e| NodeError::Io(Box::new(e)))?;
        let known: Vec<SocketAddrV4> = cfg.leaders.iter().filter_map(v4).collect();
        let shared = Arc::new(Shared {
            share_port: share.local_addr().port(),
            folder,
            writer: Mutex::new(None),
            attached: Mutex::new(None),
            current: Mutex::new(None),
            known: Mutex::new(known.clone()),
            history: Mutex::new(Vec::new()),
            pending: Mutex::new(HashMap::new()),
            promoted: Mutex::new(None),
            stopping: AtomicBool::new(false),
            attaches: AtomicU64::new(0),
            queries: AtomicU64::new(0),
            cfg,
        });
        let order = pick_leader(&known, &[], shared.cfg.id);
        let (stream, addr, early) = shared.attach_any(&order).ok_or(NodeError::NoLeader)?;
        let s2 = shared.clone();
        let thread = thread::Builder::new()
            .name(format!("kazaa-node-{}", share.local_addr()))
            .spawn(move || s2.run(stream, addr, early))
            .map_err(|e| NodeError::Io(Box::new(e)))?;
        Ok(Node {
            shared,
            share,
            thread: Some(thread),
        })
    }

    /// Asks the network for `text` (keywords, or `urn:sha1:<base32>`), letting the
    /// query travel `ttl` leader-to-leader hops.
    pub fn query(&self, text: &str, ttl: u8) -> Result<QueryAnswer, NodeError> {
        if text.len() > MAX_QUERY_LEN {
            return Err(NodeError::QueryTooLong(text.len()));
        }
        let id = self.shared.next_query_id();
        let (tx, rx) = bounded(1);
        lock(&self.shared.pending).insert(id, tx);
        let q = Msg::Query {
            id,
            ttl,
            hops: 0,
            text: text.to_string(),
        };
        if let Err(e) = self.shared.send(&q) {
            lock(&self.shared.pending).remove(&id);
            return Err(e);
        }
        match rx.recv_timeout(QUERY_WAIT) {
            Ok(answer) => Ok(answer),
            Err(RecvTimeoutError::Timeout) => {
                lock(&self.shared.pending).remove(&id);
                Err(NodeError::Timeout)
            }
            Err(RecvTimeoutError::Disconnected) => Err(NodeError::LeaderLost),
        }
    }

    /// Downloads a hit from its holder by hash (`/uri-res/N2R?urn:sha1:...`); the file
    /// takes its name in `out_dir` only if its SHA-1 matches.
    pub fn download(&self, hit: &Hit, out_dir: &Path) -> Result<PathBuf, FetchError> {
        let d = Download::by_sha1(SocketAddr::V4(hit.holder), &hit.name, hit.size, hit.sha1);
        fetch(&d, out_dir, &mut |_| {})
    }

    /// The leader this node belongs to now (its list indexed there).
    pub fn leader(&self) -> Option<SocketAddr> {
        lock(&self.shared.attached).map(SocketAddr::V4)
    }

    /// Where this node serves its files over HTTP.
    pub fn share_addr(&self) -> SocketAddr {
        self.share.local_addr()
    }

    /// The upload capacity this node announces, in KiB/s.
    pub fn capacity(&self) -> u32 {
        self.shared.cfg.capacity
    }

    pub fn files(&self) -> usize {
        self.shared.folder.files().len()
    }

    /// How many times it attached to a leader (1 + reattachments).
    pub fn attaches(&self) -> u64 {
        self.shared.attaches.load(Ordering::SeqCst)
    }

    /// Every leader this node attached to, first to last.
    pub fn history(&self) -> Vec<SocketAddr> {
        lock(&self.shared.history)
            .iter()
            .map(|a| SocketAddr::V4(*a))
            .collect()
    }

    /// If promoted: the address of the leader this node now runs.
    pub fn led(&self) -> Option<SocketAddr> {
        lock(&self.shared.promoted).as_ref().map(Leader::local_addr)
    }

    /// If promoted: that leader's counters.
    pub fn led_stats(&self) -> Option<LeaderStats> {
        lock(&self.shared.promoted).as_ref().map(Leader::stats)
    }

    /// Leaves: Bye to the leader (whose index then forgets our files), stop serving.
    pub fn stop(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        self.shared.stopping.store(true, Ordering::SeqCst);
        let _ = self.shared.send(&Msg::Bye);
        if let Some((_, s)) = lock(&self.shared.current).as_ref() {
            let _ = s.shutdown(Shutdown::Both);
        }
        let _ = thread.join();
        if let Some(mut l) = lock(&self.shared.promoted).take() {
            l.stop();
        }
        self.share.stop();
    }

    /// Stops many nodes at once. Each is told first, so that a node whose (promoted)
    /// leader stops before it does not go looking for another.
    pub fn stop_all(nodes: &mut [Node]) {
        for n in nodes.iter() {
            n.shared.stopping.store(true, Ordering::SeqCst);
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

#[path = "node_link.rs"]
mod link;
