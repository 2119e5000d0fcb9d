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
/// Events (descriptors, connections) waiting for the coordinator; a reader that finds
/// it full waits, and TCP slows its neighbour down. A bounded crossbeam channel makes
/// every slot when it is made (~190 bytes each here): 8,192 of them were 1.5 MiB of
/// each servent's 2.9 MiB (`lab-gnutella --scale`). With at most [`MAX_DEGREE`]
/// readers, each waiting with one event, 1,024 still absorbs a flood's burst.
pub const EVENT_QUEUE: usize = 1024;
/// QueryHits kept for the handle until read; more are dropped. Counted, not allocated:
/// the channel grows only while hits wait.
pub const HIT_QUEUE: usize = 4096;
/// Stack of each of a servent's threads (accept, coordinator, dialer, and the reader
/// and writer of each neighbour). Measured with [`STACK_KIB_ENV`]: `tests/gnutella.rs`
/// and `lab-gnutella` (release) pass with 16 KiB, the smallest stack a thread gets
/// (PTHREAD_STACK_MIN), and the deepest stack `lab-gnutella --scale` finds touched is
/// its "stack KiB" column (under 16 KiB); this is four times the minimum, for debug
/// builds and log formatting. Only touched pages are resident, so the size saves
/// address space and map count (1,000 servents: ~13,000 stacks), not RSS.
pub const STACK_SIZE: usize = 64 * 1024;
/// Environment variable that overrides [`STACK_SIZE`] (in KiB), to measure how small a
/// stack the servent's threads survive on.
pub const STACK_KIB_ENV: &str = "P2PLAB_GNUTELLA_STACK_KIB";

/// [`STACK_SIZE`], or the size [`STACK_KIB_ENV`] asks for.
pub fn stack_size() -> usize {
    static STACK: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *STACK.get_or_init(|| {
        let kib = std::env::var(STACK_KIB_ENV).ok();
        kib.and_then(|v| v.parse().ok())
            .map_or(STACK_SIZE, |k: usize| k * 1024)
    })
}
/// Every neighbour gets a one-hop Ping this often, so a healthy but quiet link is not
/// mistaken for a dead one (`conn::READ_TIMEOUT`). The default of `Config::keepalive`.
pub const KEEPALIVE: Duration = Duration::from_secs(30);
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
    /// this long (every neighbour is pinged each `keepalive`, so a live one
    /// is never idle this long); only when none is idle does a newcomer get a 503.
    pub idle_grace: Duration,
    /// How often every neighbour gets a one-hop Ping ([`KEEPALIVE`]). Keep
    /// it well under `conn::READ_TIMEOUT`, or quiet neighbours are taken for dead;
    /// tests shorten it to see a keep-alive round without waiting 30 s.
    pub keepalive: Duration,
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
            keepalive: KEEPALIVE,
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
