//! A group leader (组长, a supernode): the accept loop, its coordinator, its links to
//! other leaders, and the handle that stops it gracefully or kills it.

use super::conn::{link_out, serve_incoming, Event};
use super::index::Index;
use super::msg::Role;
use super::state::Coordinator;
use super::{LeaderStats, KEEPALIVE, MAX_MISSES, WRITE_TIMEOUT};
use crate::net::{Conns, Server, ServerConfig};
use crossbeam_channel::{bounded, unbounded, Sender};
use log::info;
use std::io;
use std::net::{SocketAddr, SocketAddrV4};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How a leader behaves.
#[derive(Debug, Clone)]
pub struct LeaderConfig {
    /// Where to listen (`127.0.0.1:0` picks a free port).
    pub listen: String,
    /// Leaders to link to at start.
    pub links: Vec<SocketAddr>,
    /// More children than this and the leader promotes its most capable child (0: never).
    pub max_children: usize,
    /// Files the index holds at most (0: no limit).
    pub index_limit: usize,
    /// Drop queries already seen (by id). Off is the instructive mistake: with a mesh
    /// of leaders and TTL > 1 the same query is searched and answered again and again.
    pub dedup: bool,
    /// Set when this leader is a promoted child: its first link is its old leader, which
    /// is told so (Role::Promoted) and moves some children over.
    pub promoted_from: Option<SocketAddr>,
    /// Ping period; a peer silent for [`MAX_MISSES`] periods is dropped. Tests shorten it.
    pub keepalive: Duration,
}

impl LeaderConfig {
    pub fn new(listen: &str) -> LeaderConfig {
        LeaderConfig {
            listen: listen.to_string(),
            links: Vec::new(),
            max_children: super::DEFAULT_MAX_CHILDREN,
            index_limit: 0,
            dedup: true,
            promoted_from: None,
            keepalive: KEEPALIVE,
        }
    }
}

/// A running leader. Dropping it stops it gracefully.
pub struct Leader {
    addr: SocketAddrV4,
    server: Server,
    conns: Conns,
    events: Sender<Event>,
    ids: Arc<AtomicU64>,
    stats: Arc<Mutex<LeaderStats>>,
    silence: Duration,
}

impl Leader {
    pub fn start(cfg: LeaderConfig) -> io::Result<Leader> {
        let (events, rx) = unbounded();
        let conns = Conns::new();
        let ids = Arc::new(AtomicU64::new(1));
        let mut sc = ServerConfig::new("kazaa-leader");
        let silence = cfg.keepalive * MAX_MISSES;
        sc.read_timeout = Some(silence);
        sc.write_timeout = Some(WRITE_TIMEOUT);
        let (tx, ids2) = (events.clone(), ids.clone());
        let server = Server::bind_with(&cfg.listen, sc, conns.clone(), move |s| {
            serve_incoming(s, tx.clone(), ids2.clone(), silence)
        })?;
        let SocketAddr::V4(addr) = server.local_addr() else {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "leaders listen on IPv4",
            ));
        };
        let stats = Arc::new(Mutex::new(LeaderStats::default()));
        let coord = Coordinator::new(
            addr,
            cfg.max_children,
            cfg.dedup,
            Index::new(cfg.index_limit),
            stats.clone(),
            cfg.keepalive,
        );
        conns.spawn_worker(format!("kazaa-leader-{addr}"), move || coord.run(rx))?;
        let leader = Leader {
            addr,
            server,
            conns,
            events,
            ids,
            stats,
            silence,
        };
        if let Some(old) = cfg.promoted_from {
            leader.link_as(old, Role::Promoted)?;
        }
        for to in cfg.links.iter().filter(|a| Some(**a) != cfg.promoted_from) {
            if let Err(e) = leader.link(*to) {
                // A dead address in the list is not fatal: the others still link.
                info!("leader {addr}: cannot link to {to}: {e}");
            }
        }
        Ok(leader)
    }

    /// Opens a link to another leader.
    pub fn link(&self, to: SocketAddr) -> io::Result<()> {
        self.link_as(to, Role::Leader)
    }

    fn link_as(&self, to: SocketAddr, role: Role) -> io::Result<()> {
        let (c, e, i) = (&self.conns, self.events.clone(), self.ids.clone());
        link_out(to, self.addr.port(), role, c, e, i, self.silence)
            .map_err(|e| io::Error::other(e.to_string()))
    }

    pub fn local_addr(&self) -> SocketAddr {
        SocketAddr::V4(self.addr)
    }

    /// Counters and gauges right now.
    pub fn stats(&self) -> LeaderStats {
        self.stats.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Leaves: Bye to every child and leader, then closes everything.
    pub fn stop(&mut self) {
        self.end(true);
    }

    /// Dies: every connection just closes, as when the process crashes. Children
    /// notice the closed connection (or, for a silent death, the missing keep-alives).
    pub fn kill(&mut self) {
        self.end(false);
    }

    fn end(&mut self, graceful: bool) {
        let (done, wait) = bounded(1);
        if self.events.send(Event::Stop { graceful, done }).is_ok() {
            // The coordinator answers at once unless a write is stuck; don't hang on it.
            let _ = wait.recv_timeout(Duration::from_secs(5));
        }
        self.server.stop();
        self.conns.shutdown_all();
        self.conns.join_all();
    }
}

impl Drop for Leader {
    fn drop(&mut self) {
        self.end(true);
    }
}
