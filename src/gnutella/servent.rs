//! One servent (server + client): its configuration, its handle, what it reports.
//!
//! ```text
//!   Servent::start ─► accept thread ─► "gnutella-peer-ADDR" (handshake, then reads)
//!                 ├─► "gnutella-route-ADDR"  the coordinator: every routing decision
//!                 ├─► "gnutella-join-ADDR"   keeps the degree: host list, cache, Pongs
//!                 └─► a share server (HTTP) for downloads
//! ```

use super::conn::{self, Ctx, Shared};
use super::descriptor::Guid;
pub use super::report::{Hit, Stats, Trace};
use super::{connector, coordinator, hosts};
use crate::net::{Conns, Server, ServerConfig};
use crate::seen::{SEEN_CAPACITY, SEEN_LIFETIME};
use crate::share::{Folder, HttpConfig, ShareServer};
use crossbeam_channel::{bounded, unbounded, Receiver, Sender};
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

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
            seed: 1,
        }
    }
}

/// Things the handle asks the coordinator.
pub(crate) enum Command {
    Query {
        guid: Guid,
        text: String,
        ttl: u8,
    },
    Ping {
        guid: Guid,
        ttl: u8,
    },
    Push {
        guid: Guid,
        servent_id: Guid,
        index: u32,
    },
    Leave {
        done: Sender<Receiver<()>>,
    },
}

/// A running servent. Dropping it stops it (without a Bye; see [`Servent::leave`]).
pub struct Servent {
    addr: SocketAddr,
    http: SocketAddr,
    id: Guid,
    ctx: Ctx,
    cmds: Option<Sender<Command>>,
    wake: Option<Sender<()>>,
    /// Dropped first in `stop`: disconnects `Ctx::stop` for every writer thread.
    stop: Option<Sender<()>>,
    hits: Receiver<Hit>,
    rng: Mutex<u64>,
    host_list: Option<PathBuf>,
    server: Server,
    share: ShareServer,
}

impl Servent {
    pub fn start(mut cfg: Config) -> io::Result<Servent> {
        cfg.max_degree = cfg.max_degree.clamp(1, MAX_DEGREE);
        let share = ShareServer::start(cfg.share.clone(), &cfg.http_listen, HttpConfig::default())?;
        let http = share.local_addr();
        let conns = Conns::new();
        let cell: Arc<OnceLock<Ctx>> = Arc::new(OnceLock::new());
        let mut sc = ServerConfig::new("gnutella");
        // Room for handshakes in progress beyond the neighbours (they get a 503).
        sc.max_conns = cfg.max_degree + 16;
        sc.read_timeout = Some(conn::HANDSHAKE_TIMEOUT);
        sc.write_timeout = Some(conn::WRITE_TIMEOUT);
        let c = cell.clone();
        let server = Server::bind_with(&cfg.listen, sc, conns.clone(), move |s| match c.get() {
            Some(ctx) => conn::serve_incoming(s, ctx.clone()),
            None => Ok(()), // still starting: the peer retries
        })?;
        let addr = server.local_addr();
        let mut seed = (cfg.seed ^ (addr.port() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1;
        let id = new_guid(&mut seed);

        let mut hosts = hosts::Hosts::default();
        let mut start_hosts = cfg.peers.clone();
        if let Some(p) = &cfg.host_list {
            start_hosts.extend(hosts::load(p));
        }
        for h in start_hosts.into_iter().filter(|h| *h != addr) {
            hosts.add_old(h);
        }
        // Bounded: a neighbour that sends faster than the coordinator routes is slowed
        // down by TCP, instead of growing a queue in our memory.
        let (events, events_rx) = bounded(EVENT_QUEUE);
        let (cmds, cmds_rx) = unbounded();
        let (wake, wake_rx) = unbounded();
        let (hits_tx, hits) = bounded(HIT_QUEUE);
        let (stop, stop_rx) = bounded(0);
        let ctx = Ctx {
            me: addr,
            events,
            shared: Arc::new(Mutex::new(Shared {
                neighbours: Vec::new(),
                hosts,
                degree: cfg.degree.min(cfg.max_degree),
                stats: Stats::default(),
            })),
            conns: conns.clone(),
            max_degree: cfg.max_degree,
            trace: cfg.trace.clone(),
            next_id: Arc::new(AtomicU64::new(1)),
            stop: stop_rx,
        };
        let _ = cell.set(ctx.clone());
        let route = coordinator::Coordinator::new(&cfg, &ctx, id, http, hits_tx, wake.clone());
        conns.spawn_worker(format!("gnutella-route-{addr}"), move || {
            route.run(events_rx, cmds_rx)
        })?;
        let join = connector::Connector::new(&cfg, ctx.clone());
        conns.spawn_worker(format!("gnutella-join-{addr}"), move || join.run(wake_rx))?;
        Ok(Servent {
            addr,
            http,
            id,
            ctx,
            cmds: Some(cmds),
            wake: Some(wake),
            stop: Some(stop),
            hits,
            rng: Mutex::new(seed),
            host_list: cfg.host_list,
            server,
            share,
        })
    }

    /// The Gnutella address (what Pongs and host lists carry).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The HTTP address QueryHits point to.
    pub fn http_addr(&self) -> SocketAddr {
        self.http
    }

    pub fn servent_id(&self) -> Guid {
        self.id
    }

    fn shared(&self) -> MutexGuard<'_, Shared> {
        self.ctx.lock()
    }

    fn guid(&self) -> Guid {
        new_guid(&mut self.rng.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn send(&self, c: Command) {
        if let Some(cmds) = &self.cmds {
            let _ = cmds.send(c);
        }
    }

    /// Connects to `peer` now; returns once it is a neighbour (or why not).
    pub fn connect(&self, peer: SocketAddr) -> Result<(), String> {
        match conn::dial(&self.ctx, peer, None)? {
            super::handshake::Answer::Accepted(_) => Ok(()),
            super::handshake::Answer::Refused { code, .. } => {
                Err(format!("{peer} answered {code}"))
            }
        }
    }

    /// Floods a Query; hits arrive on [`Servent::hits`]. Returns its GUID.
    pub fn query(&self, text: &str, ttl: u8) -> Guid {
        let guid = self.guid();
        self.send(Command::Query {
            guid,
            text: text.to_string(),
            ttl,
        });
        guid
    }

    /// Floods a Ping; Pongs fill the host list.
    pub fn ping(&self, ttl: u8) -> Guid {
        let guid = self.guid();
        self.send(Command::Ping { guid, ttl });
        guid
    }

    /// Sends a Push toward the servent that sent a hit (routed by servent id).
    pub fn push(&self, servent_id: Guid, index: u32) -> Guid {
        let guid = self.guid();
        self.send(Command::Push {
            guid,
            servent_id,
            index,
        });
        guid
    }

    pub fn hits(&self) -> &Receiver<Hit> {
        &self.hits
    }

    /// Neighbours' listening addresses, oldest connection first.
    pub fn neighbours(&self) -> Vec<SocketAddr> {
        self.shared().neighbours.iter().map(|n| n.addr).collect()
    }

    pub fn known_hosts(&self) -> Vec<SocketAddr> {
        self.shared().hosts.to_vec()
    }

    pub fn stats(&self) -> Stats {
        self.shared().stats.clone()
    }

    /// Changes the target degree (capped at the maximum) and wakes the connector.
    pub fn set_degree(&self, degree: usize) {
        self.shared().degree = degree.min(self.ctx.max_degree);
        if let Some(w) = &self.wake {
            let _ = w.send(());
        }
    }

    /// Leaves politely: a Bye to every neighbour, the host list saved, then stop.
    pub fn leave(mut self) {
        if let Some(p) = &self.host_list {
            let mut list = self.neighbours();
            list.extend(self.known_hosts());
            let mut seen = std::collections::HashSet::new();
            list.retain(|a| seen.insert(*a));
            if let Err(e) = hosts::save(p, &list) {
                log::warn!("{}: cannot save host list {}: {e}", self.addr, p.display());
            }
        }
        let (tx, rx) = unbounded();
        self.send(Command::Leave { done: tx });
        if let Ok(writers) = rx.recv_timeout(conn::WRITE_TIMEOUT) {
            // Each writer drops its end once its Bye is written (or it failed).
            let end = Instant::now() + conn::WRITE_TIMEOUT;
            while writers.recv_deadline(end).is_ok() {}
        }
        self.stop();
    }

    /// Stops at once: closes every connection and joins every thread.
    pub fn stop(&mut self) {
        self.stop.take();
        self.cmds.take();
        self.wake.take();
        self.server.stop();
        self.share.stop();
    }
}

impl Drop for Servent {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A fresh GUID from a xorshift generator, marked as modern servents mark them.
pub fn new_guid(state: &mut u64) -> Guid {
    let mut g = [0u8; 16];
    for chunk in g.chunks_mut(8) {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        chunk.copy_from_slice(&state.to_le_bytes());
    }
    g[8] = 0xff;
    g[15] = 0x00;
    g
}
