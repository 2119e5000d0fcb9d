//! How to run a servent: [`Config`] and its defaults.

use crate::gnutella::trace::Trace;
use crate::locate::Traffic;
use crate::seen::{SEEN_CAPACITY, SEEN_LIFETIME};
use crate::share::Folder;
use crossbeam_channel::Sender;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Neighbours a servent keeps by default (the target degree).
pub const DEFAULT_DEGREE: usize = 4;
/// Never more neighbours than this: "给定一个对等方，通常所连接的节点少于10个".
pub const MAX_DEGREE: usize = 10;
/// Events (descriptors, connections) waiting for the coordinator.
pub const EVENT_QUEUE: usize = 8192;
/// QueryHits kept for the handle until read; more are dropped.
pub const HIT_QUEUE: usize = 4096;
/// Initial TTL of our own queries and pings.
pub const DEFAULT_TTL: u8 = 7;

/// How to run a servent.
#[derive(Clone)]
pub struct Config {
    /// Gnutella listening address (`127.0.0.1:0` picks a port).
    pub listen: String,
    /// HTTP address of the share server that QueryHits point to.
    pub http_listen: String,
    pub share: Arc<Folder>,
    /// Addresses tried first, like the host list.
    pub peers: Vec<SocketAddr>,
    /// The on-disk host list ("死党列表"): read at start, written on leave.
    pub host_list: Option<PathBuf>,
    /// A host cache URL, asked when no known host answers.
    pub cache: Option<String>,
    /// Target number of neighbours; 0 leaves connecting to the caller.
    pub degree: usize,
    pub max_degree: usize,
    /// TTL of the Ping sent after joining.
    pub ping_ttl: u8,
    /// Duplicate suppression. `false` is the instructive mistake: see `policy::forward_targets`.
    pub dedup: bool,
    pub seen_capacity: usize,
    pub seen_lifetime: Duration,
    /// Every routing event, for labs and tests.
    pub trace: Option<Sender<Trace>>,
    /// Messages and bytes on the servent's sockets, counted by its connection threads
    /// (a fresh counter by default; pass one to keep counting across restarts).
    pub traffic: Traffic,
    pub seed: u64,
}

impl Config {
    pub fn new(share: Arc<Folder>) -> Config {
        Config {
            listen: "127.0.0.1:0".into(),
            http_listen: "127.0.0.1:0".into(),
            share,
            peers: Vec::new(),
            host_list: None,
            cache: None,
            degree: DEFAULT_DEGREE,
            max_degree: MAX_DEGREE,
            ping_ttl: DEFAULT_TTL,
            dedup: true,
            seen_capacity: SEEN_CAPACITY,
            seen_lifetime: SEEN_LIFETIME,
            trace: None,
            traffic: Traffic::new(),
            seed: 1,
        }
    }
}
