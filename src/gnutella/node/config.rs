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
/// Two keepalive rounds unanswered: the neighbour is idle (see `Config::idle_grace`).
pub const IDLE_GRACE: Duration = Duration::from_secs(60);
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
    /// The handshake must be over this long after accept, however slowly it trickles.
    pub handshake_deadline: Duration,
    /// A full servent replaces a neighbour that answered no Ping and brought no hit for
    /// this long (every neighbour is pinged each `coordinator::KEEPALIVE`, so a live one
    /// is never idle this long); only when none is idle does a newcomer get a 503.
    pub idle_grace: Duration,
    /// Connections one address may hold. Unlimited by default: labs run every servent
    /// on 127.0.0.1; on a real network one address would hold one neighbour slot or two.
    pub max_per_addr: usize,
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
            handshake_deadline: crate::gnutella::conn::HANDSHAKE_DEADLINE,
            idle_grace: IDLE_GRACE,
            max_per_addr: usize::MAX,
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
