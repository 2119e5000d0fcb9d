//! A group leader (组长, a supernode): bind, accept, links to other leaders, the handle
//! that reads its counters, and stop (gracefully, or a crash). What it knows and
//! decides is in `state/leader.rs`, on its coordinator thread.

use crate::kazaa::conn::{accept, dial, Ctx, Opening, EVENT_QUEUE};
use crate::kazaa::index::Index;
use crate::kazaa::msg::Role;
use crate::kazaa::policy::Mode;
use crate::kazaa::state::{LeaderCmd, LeaderState, LeaderStats, Rules};
use crate::kazaa::{DEFAULT_MAX_CHILDREN, HELLO_TIMEOUT, KEEPALIVE, MAX_MISSES, WRITE_TIMEOUT};
use crate::locate::Traffic;
use crate::net::{Conns, Server, ServerConfig};
use crossbeam_channel::{bounded, Sender};
use log::info;
use std::io;
use std::net::{SocketAddr, SocketAddrV4};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

/// How long the handle waits for its coordinator to answer.
const ASK_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections a leader serves at once (children and links), by default.
pub const MAX_PEERS: usize = 1024;
/// Connections one IP address may hold at a leader: a host with many sockets cannot
/// take every slot (generous, because a lab runs every child on 127.0.0.1).
pub const MAX_PER_ADDR: usize = 256;

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
    /// The grant from that leader's Promote, shown when linking back to it.
    pub grant: u64,
    /// Ping period; a peer silent for [`MAX_MISSES`] periods is dropped. Tests shorten it.
    pub keepalive: Duration,
    /// How the other leaders' children are reached: forwarding queries, copies of the
    /// other leaders' indexes, or both (notes 6.4; `policy::Mode`).
    pub mode: Mode,
    /// Connections served at once ([`MAX_PEERS`]); when full, the least useful one is
    /// closed for a newcomer. Tests make it small to exercise the eviction.
    pub max_peers: usize,
    /// Connections one IP address may hold ([`MAX_PER_ADDR`]). The cap is checked
    /// before eviction: on one machine, where every peer is 127.0.0.1, an attacker
    /// at the cap keeps newcomers out, so a lab that wants eviction raises it.
    pub max_per_addr: usize,
}

impl LeaderConfig {
    pub fn new(listen: &str) -> LeaderConfig {
        LeaderConfig {
            listen: listen.to_string(),
            links: Vec::new(),
            max_children: DEFAULT_MAX_CHILDREN,
            index_limit: 0,
            dedup: true,
            promoted_from: None,
            grant: 0,
            keepalive: KEEPALIVE,
            mode: Mode::Forward,
            max_peers: MAX_PEERS,
            max_per_addr: MAX_PER_ADDR,
        }
    }
}

/// A running leader. Dropping it stops it gracefully.
pub struct Leader {
    addr: SocketAddrV4,
    server: Server,
    ctx: Ctx,
    cmds: Sender<LeaderCmd>,
    /// The last counters, once stopped.
    last: Option<LeaderStats>,
}

impl Leader {
    pub fn start(cfg: LeaderConfig) -> io::Result<Leader> {
        let (events, events_rx) = bounded(EVENT_QUEUE);
        let (cmds, cmds_rx) = bounded(16);
        let conns = Conns::new();
        let ctx = Ctx {
            name: "kazaa-leader".into(),
            events,
            conns: conns.clone(),
            ids: Arc::new(AtomicU64::new(1)),
            silence: cfg.keepalive * MAX_MISSES,
            traffic: Traffic::new(),
        };
        // The defences of `net` (slots are scarce with a thread per connection): the
        // Hello must arrive whole within HELLO_TIMEOUT (a deadline, not a per-read
        // timeout a slow sender resets with every byte); one address holds at most
        // MAX_PER_ADDR slots; a full leader closes its least useful connection (one
        // still opening, else the one idle longest) to admit a newcomer.
        let mut sc = ServerConfig::new("kazaa-leader");
        sc.read_timeout = Some(HELLO_TIMEOUT);
        sc.write_timeout = Some(WRITE_TIMEOUT);
        sc.max_conns = cfg.max_peers.max(1);
        sc.opening_deadline = Some(HELLO_TIMEOUT);
        sc.max_per_addr = cfg.max_per_addr.max(1);
        sc.evict_when_full = true;
        let c = ctx.clone();
        let server = Server::bind_with(&cfg.listen, sc, conns.clone(), move |s| accept(s, &c))?;
        let SocketAddr::V4(addr) = server.local_addr() else {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "leaders listen on IPv4",
            ));
        };
        if addr.ip().is_unspecified() {
            // Other leaders and children are told this address: 0.0.0.0 reaches nobody.
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a leader listens on a specific address (the host's own), not 0.0.0.0: it is what its children and the other leaders are told",
            ));
        }
        let rules = Rules {
            max_children: cfg.max_children,
            dedup: cfg.dedup,
            keepalive: cfg.keepalive,
            mode: cfg.mode,
        };
        let state = LeaderState::new(addr, rules, Index::new(cfg.index_limit));
        conns.spawn_worker(format!("kazaa-leader-{addr}"), move || {
            state.run(events_rx, cmds_rx)
        })?;
        let leader = Leader {
            addr,
            server,
            ctx,
            cmds,
            last: None,
        };
        if let Some(old) = cfg.promoted_from {
            leader.link_as(old, Role::Promoted(cfg.grant))?;
        }
        for to in cfg.links.iter().filter(|a| Some(**a) != cfg.promoted_from) {
            if let Err(e) = leader.link(*to) {
                // A dead address in the list is not fatal: the others still link.
                info!("leader {addr}: cannot link to {to}: {e}");
            }
        }
        Ok(leader)
    }

    /// Opens a link to another leader; returns once it is up (or could not be).
    pub fn link(&self, to: SocketAddr) -> io::Result<()> {
        self.link_as(to, Role::Leader)
    }

    fn link_as(&self, to: SocketAddr, role: Role) -> io::Result<()> {
        let SocketAddr::V4(to) = to else {
            return Err(io::Error::other("leaders are reached over IPv4"));
        };
        let (ack, wait) = bounded(1);
        let port = self.addr.port();
        dial(&self.ctx, to, Opening::Link { role, port }, Some(ack));
        match wait.recv_timeout(HELLO_TIMEOUT * 2) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(why)) => Err(io::Error::other(why)),
            Err(_) => Err(io::Error::other(format!("no link to {to} in time"))),
        }
    }

    pub fn local_addr(&self) -> SocketAddr {
        SocketAddr::V4(self.addr)
    }

    /// Messages and bytes this leader sent and received, counted on its sockets.
    pub fn traffic(&self) -> Traffic {
        self.ctx.traffic.clone()
    }

    /// Counters and gauges right now (asked of the coordinator).
    pub fn stats(&self) -> LeaderStats {
        if let Some(s) = &self.last {
            return s.clone();
        }
        let (tx, rx) = bounded(1);
        let asked = self.cmds.send_timeout(LeaderCmd::Stats(tx), ASK_TIMEOUT);
        asked
            .ok()
            .and_then(|()| rx.recv_timeout(ASK_TIMEOUT).ok())
            .unwrap_or_default()
    }

    /// Whether this leader's index, or one of its copies of the other leaders'
    /// indexes, names `holder` (a child's share address) as holding a file: what a
    /// student would check to see a join or a leave reach every leader. False once stopped.
    pub fn names(&self, holder: SocketAddrV4) -> bool {
        if self.last.is_some() {
            return false;
        }
        let (tx, rx) = bounded(1);
        let asked = self
            .cmds
            .send_timeout(LeaderCmd::Names(holder, tx), ASK_TIMEOUT);
        asked
            .ok()
            .and_then(|()| rx.recv_timeout(ASK_TIMEOUT).ok())
            .unwrap_or(false)
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
        if self.last.is_some() {
            return;
        }
        let (done, wait) = bounded(1);
        let told = self
            .cmds
            .send_timeout(LeaderCmd::Stop { graceful, done }, ASK_TIMEOUT);
        let last = told.ok().and_then(|()| wait.recv_timeout(ASK_TIMEOUT).ok());
        self.last = Some(last.unwrap_or_default());
        self.server.stop();
        self.ctx.conns.shutdown_all();
        self.ctx.conns.join_all();
    }
}

impl Drop for Leader {
    fn drop(&mut self) {
        self.end(true);
    }
}
