//! The directory server: bind, accept, the public handle, stop.
//!
//! | file | role |
//! |---|---|
//! | `mod.rs` | [`DirectoryServer`]: start (bind, accept, spawn the coordinator), counters, stop |
//! | `coordinator.rs` | [`Coordinator`]: the one thread that owns the directory and answers |
//!
//! ```text
//!   accept ──► conn::serve (reader + writer per peer) ──Event──► coordinator ──► Directory
//!   stop():  stop channel closes ─► coordinator closes every socket ─► accept and all
//!            threads joined (net::Server::stop)
//! ```
//!
//! Defences (slots are scarce: each peer costs two threads): the login must be over
//! within [`LOGIN_DEADLINE`] however slowly its bytes trickle (the listener's watchdog;
//! the coordinator's own `login_timeout` check backs it up); a full server closes its
//! least useful connection to admit a newcomer (one still logging in first, then the
//! peer silent longest: every message a peer sends marks it useful); one address holds
//! at most [`ServerOptions::max_per_addr`] connections; a peer shares at most
//! [`crate::napster::state::MAX_FILES_PER_PEER`] files (its oldest share goes first).

mod coordinator;

pub use coordinator::Stats;

use coordinator::Coordinator;

use super::conn::{self, Ctx};
use crate::locate::Traffic;
use crate::net::{Conns, Server, ServerConfig};
use crossbeam_channel::{bounded, Sender};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Default port of a Napster server, as OpenNap used.
pub const DEFAULT_PORT: u16 = 8888;
/// Events waiting for the coordinator. A reader finding it full waits: that slows only
/// the peer it reads for, never the coordinator.
pub const EVENT_QUEUE: usize = 4096;

/// A connection must log in within this time, however it paces its bytes.
pub const LOGIN_DEADLINE: Duration = Duration::from_secs(10);

/// How the server treats its peers.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Peers served at once.
    pub max_conns: usize,
    /// A connection must log in within this time, or it is dropped: a client that
    /// connects and never speaks must not hold two threads for ever.
    pub login_timeout: Duration,
    /// A logged-in peer silent this long is dropped (and its files with it).
    pub idle_timeout: Duration,
    /// Connections one address may hold. Unlimited by default: labs log every peer in
    /// from 127.0.0.1; a server on a real network would allow a few (a NAT's worth).
    pub max_per_addr: usize,
}

impl Default for ServerOptions {
    fn default() -> ServerOptions {
        ServerOptions {
            max_conns: 4096,
            login_timeout: LOGIN_DEADLINE,
            idle_timeout: Duration::from_secs(600),
            max_per_addr: usize::MAX,
        }
    }
}

/// A running directory server; dropping it stops it.
pub struct DirectoryServer {
    server: Server,
    stats: Arc<Stats>,
    /// Messages and bytes on the server's sockets (6.4: who carries the load).
    traffic: Traffic,
    /// Dropped at stop: the coordinator and every writer see it disconnect.
    stop: Option<Sender<()>>,
}

impl DirectoryServer {
    /// Binds `listen` (port 0 picks a free port), starts the coordinator, accepts.
    pub fn start(listen: &str, opts: ServerOptions) -> io::Result<DirectoryServer> {
        let mut cfg = ServerConfig::new("napster-server");
        cfg.max_conns = opts.max_conns;
        cfg.read_timeout = Some(opts.idle_timeout);
        cfg.write_timeout = Some(conn::WRITE_TIMEOUT);
        cfg.opening_deadline = Some(opts.login_timeout);
        cfg.max_per_addr = opts.max_per_addr;
        cfg.evict_when_full = true;
        let (events, events_rx) = bounded(EVENT_QUEUE);
        let (stop, stop_rx) = bounded::<()>(0);
        let stats = Arc::new(Stats::default());
        let conns = Conns::new();
        let traffic = Traffic::new();
        let coordinator = Coordinator::new(
            stats.clone(),
            opts.login_timeout,
            traffic.clone(),
            conns.clone(),
        );
        let rx = stop_rx.clone();
        conns.spawn_worker("napster-server-coordinator".into(), move || {
            coordinator.run(events_rx, rx)
        })?;
        let ctx = Ctx {
            events,
            conns: conns.clone(),
            next_id: Arc::new(AtomicU64::new(1)),
            stop: stop_rx,
            traffic: traffic.clone(),
        };
        let server =
            match Server::bind_with(listen, cfg, conns.clone(), move |s| conn::serve(s, &ctx)) {
                Ok(server) => server,
                Err(e) => {
                    drop(stop); // ends the coordinator
                    conns.join_all();
                    return Err(e);
                }
            };
        Ok(DirectoryServer {
            server,
            stats,
            traffic,
            stop: Some(stop),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Messages and bytes the server has read and written, counted at its sockets.
    pub fn traffic(&self) -> &Traffic {
        &self.traffic
    }

    /// Peers logged in and files in the directory, as the coordinator last counted.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.stats.peers.load(Ordering::Relaxed),
            self.stats.files.load(Ordering::Relaxed),
        )
    }

    /// Stops accepting and drops every peer: the single point of failure, on purpose.
    pub fn stop(&mut self) {
        self.stop.take();
        self.server.stop();
    }
}

impl Drop for DirectoryServer {
    fn drop(&mut self) {
        self.stop();
    }
}
