//! One servent (server + client): bind, accept, the public handle, stop.
//!
//! ```text
//!   Servent::start ─► accept thread ─► "gnutella-peer-ADDR" (handshake, then reads)
//!                 ├─► "gnutella-route-ADDR"  the coordinator: owns the State, decides
//!                 ├─► "gnutella-join-ADDR"   the dialer: dials and asks the host cache
//!                 └─► a share server (HTTP) for downloads
//! ```
//!
//! | file | role |
//! |---|---|
//! | `mod.rs` | [`Servent`]: start, the handle's requests (commands to the coordinator), stop |
//! | `config.rs` | [`Config`] and the defaults |
//! | `coordinator.rs` | the coordinator thread: a `select!` over events, commands and a tick |
//! | `relay.rs` | what the coordinator does with each descriptor, ours or a neighbour's |
//! | `dial.rs` | the dialer thread: the blocking connects the coordinator asks for |

mod config;
mod coordinator;
mod dial;
mod relay;

pub use config::{
    stack_size, Config, DEFAULT_DEGREE, DEFAULT_TTL, EVENT_QUEUE, IDLE_GRACE, KEEPALIVE,
    MAX_DEGREE, STACK_KIB_ENV, STACK_SIZE,
};

use crate::gnutella::conn::{self, Ctx};
use crate::gnutella::event::Command;
use crate::gnutella::hosts;
use crate::gnutella::msg::handshake::Answer;
use crate::gnutella::msg::{new_guid, Guid};
use crate::gnutella::trace::{Counters, Hit, Stats};
use crate::locate::Traffic;
use crate::net::{Conns, Server, ServerConfig};
use crate::rng::Rng;
use crate::share::{HttpConfig, ShareServer};
use crossbeam_channel::{bounded, unbounded, Receiver, Sender};
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long the handle waits for the coordinator to answer a question.
pub const ASK_TIMEOUT: Duration = Duration::from_secs(5);

/// A running servent. Dropping it stops it (without a Bye; see [`Servent::leave`]).
pub struct Servent {
    addr: SocketAddr,
    http: SocketAddr,
    id: Guid,
    ctx: Ctx,
    cmds: Option<Sender<Command>>,
    /// Dropped first in `stop`: disconnects `Ctx::stop` for every writer and the dialer.
    stop: Option<Sender<()>>,
    hits: Receiver<Hit>,
    /// Written by the coordinator alone; read here without asking it.
    stats: Arc<Counters>,
    /// GUIDs of the handle's own queries, pings and pushes.
    rng: Mutex<Rng>,
    host_list: Option<PathBuf>,
    server: Server,
    share: ShareServer,
}

impl Servent {
    pub fn start(mut cfg: Config) -> io::Result<Servent> {
        cfg.max_degree = cfg.max_degree.clamp(1, MAX_DEGREE);
        let share = ShareServer::start(cfg.share.clone(), &cfg.http_listen, HttpConfig::default())?;
        let http = share.local_addr();
        // Every thread of the servent, its connections' included, on a small stack.
        let conns = Conns::with_stack(stack_size());
        let cell: Arc<OnceLock<Ctx>> = Arc::new(OnceLock::new());
        let mut sc = ServerConfig::new("gnutella");
        // Room for handshakes in progress beyond the neighbours (they get a 503).
        sc.max_conns = cfg.max_degree + 16;
        sc.read_timeout = Some(conn::HANDSHAKE_TIMEOUT);
        sc.write_timeout = Some(conn::WRITE_TIMEOUT);
        // Defences of scarce slots (see `conn`): a handshake deadline, a cap per
        // address, and a full listener closes its least useful connection.
        sc.opening_deadline = Some(cfg.handshake_deadline);
        sc.max_per_addr = cfg.max_per_addr;
        sc.evict_when_full = true;
        let c = cell.clone();
        let server = Server::bind_with(&cfg.listen, sc, conns.clone(), move |s| match c.get() {
            Some(ctx) => conn::serve_incoming(s, ctx.clone()),
            None => Ok(()), // still starting: the peer retries
        })?;
        let addr = server.local_addr();
        let mut rng = Rng::new(cfg.seed ^ (addr.port() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let id = new_guid(&mut rng);

        // Bounded: a neighbour that sends faster than the coordinator routes is slowed
        // down by TCP, instead of growing a queue in our memory.
        let (events, events_rx) = bounded(EVENT_QUEUE);
        let (cmds, cmds_rx) = unbounded();
        let (jobs, jobs_rx) = bounded(1);
        // Bounded by the coordinator's count (`HIT_QUEUE`), so no buffer is made up front.
        let (hits_tx, hits) = unbounded();
        let (stop, stop_rx) = bounded(0);
        let ctx = Ctx {
            me: addr,
            events,
            conns: conns.clone(),
            next_id: Arc::new(AtomicU64::new(1)),
            stop: stop_rx,
            traffic: cfg.traffic.clone(),
        };
        let _ = cell.set(ctx.clone());
        let stats = Arc::new(Counters::default());
        let route =
            coordinator::Coordinator::new(&cfg, addr, id, http, hits_tx, jobs, stats.clone());
        conns.spawn_worker(format!("gnutella-route-{addr}"), move || {
            route.run(events_rx, cmds_rx)
        })?;
        let (c, cache) = (ctx.clone(), cfg.cache.clone());
        conns.spawn_worker(format!("gnutella-join-{addr}"), move || {
            dial::run(c, cache, jobs_rx)
        })?;
        Ok(Servent {
            addr,
            http,
            id,
            ctx,
            cmds: Some(cmds),
            stop: Some(stop),
            hits,
            stats,
            rng: Mutex::new(rng),
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

    fn guid(&self) -> Guid {
        new_guid(&mut self.rng.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn send(&self, c: Command) {
        if let Some(cmds) = &self.cmds {
            let _ = cmds.send(c);
        }
    }

    /// Asks the coordinator a question; `None` if it is gone or does not answer in time.
    fn ask<T>(&self, question: impl FnOnce(Sender<T>) -> Command) -> Option<T> {
        let (tx, rx) = bounded(1);
        self.send(question(tx));
        rx.recv_timeout(ASK_TIMEOUT).ok()
    }

    /// Connects to `peer` now; returns once it is a neighbour (or why not).
    pub fn connect(&self, peer: SocketAddr) -> Result<(), String> {
        match conn::dial(&self.ctx, peer)? {
            Answer::Accepted(_) => Ok(()),
            Answer::Refused { code, .. } => Err(format!("{peer} answered {code}")),
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
        self.ask(Command::Neighbours).unwrap_or_default()
    }

    pub fn known_hosts(&self) -> Vec<SocketAddr> {
        self.ask(Command::KnownHosts).unwrap_or_default()
    }

    pub fn stats(&self) -> Stats {
        self.stats.snapshot()
    }

    /// Messages and bytes this servent has sent and received, handshakes included.
    pub fn traffic(&self) -> &Traffic {
        &self.ctx.traffic
    }

    /// Changes the target degree (capped at the maximum); the coordinator refills.
    pub fn set_degree(&self, degree: usize) {
        self.send(Command::SetDegree(degree));
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
        self.server.stop();
        self.share.stop();
    }
}

impl Drop for Servent {
    fn drop(&mut self) {
        self.stop();
    }
}
