//! A group leader's coordinator: one thread owns the children's index, the peers and
//! the queries in flight, and decides everything. Connection threads feed it events;
//! the handle (`node/leader.rs`) sends it commands. It never touches a socket: it hands
//! frames to each connection's bounded queue, and a peer whose queue is full has
//! stopped reading and is dropped.
//!
//! ```text
//!   events (bounded) ──┐
//!   commands ──────────┼──select!──► LeaderState ──try_send──► each peer's writer
//!   tick (50 ms) ──────┘
//! ```
//!
//! Events are handled in batches (what has arrived by then), and each peer's frames of
//! a batch go to its writer in one hand-off. The query path is `query_path.rs`,
//! promotion `promotion.rs`.

use super::cmd::{LeaderCmd, Rules};
use super::copies::Copies;
use super::peers::{Kind, Peer, Peers};
use super::queries::Queries;
use super::stats::LeaderStats;
use crate::kazaa::conn::{ConnId, Event, Opened};
use crate::kazaa::index::Index;
use crate::kazaa::msg::{Msg, Role, MAX_TTL};
use crossbeam_channel::{select, tick, Receiver};
use log::{debug, info, warn};
use std::net::SocketAddrV4;
use std::time::{Duration, Instant};

/// How often queries are checked for expiry and idle peers pinged.
const TICK: Duration = Duration::from_millis(50);
/// How long a leaving leader waits for its Byes to be written.
const BYE_GRACE: Duration = Duration::from_secs(1);
/// Events handled at most before the frames they caused are handed to the writers.
const BATCH: usize = 64;

/// Everything a leader knows, owned by its coordinator thread.
pub struct LeaderState {
    pub(super) me: SocketAddrV4,
    pub(super) rules: Rules,
    pub(super) index: Index,
    pub(super) peers: Peers,
    pub(super) queries: Queries,
    /// Counters; the gauges are filled in when asked.
    pub(super) stats: LeaderStats,
    /// A child told to become a leader, whose leader link we are waiting for, since when
    /// (a promotion that never shows up is given up after [`PROMOTION_PATIENCE`]).
    pub(super) promoting: Option<(ConnId, Instant, u64)>,
    /// Copies of the other leaders' indexes (copy mode), one per link.
    pub(super) copies: Copies,
    /// Links to leaders that keep a copy of our index: every change goes to them.
    pub(super) subscribers: Vec<ConnId>,
}

impl LeaderState {
    pub fn new(me: SocketAddrV4, rules: Rules, index: Index) -> LeaderState {
        LeaderState {
            me,
            rules,
            index,
            peers: Peers::new(me),
            queries: Queries::new(Instant::now()),
            stats: LeaderStats::default(),
            promoting: None,
            copies: Copies::default(),
            subscribers: Vec::new(),
        }
    }

    /// Runs until the handle says Stop (or goes away).
    pub fn run(mut self, events: Receiver<Event>, cmds: Receiver<LeaderCmd>) {
        let ticker = tick(TICK);
        let mut last_ping = Instant::now();
        loop {
            select! {
                recv(events) -> ev => match ev {
                    Ok(ev) => self.handle(ev),
                    Err(_) => return,
                },
                recv(cmds) -> cmd => match cmd {
                    Ok(LeaderCmd::Stats(reply)) => {
                        let _ = reply.send(self.stats());
                    }
                    Ok(LeaderCmd::Names(holder, reply)) => {
                        let named = self.index.names(holder) || self.copies.names(holder);
                        let _ = reply.send(named);
                    }
                    Ok(LeaderCmd::Stop { graceful, done }) => {
                        self.leave(graceful);
                        let _ = done.send(self.stats());
                        return;
                    }
                    Err(_) => return,
                },
                recv(ticker) -> _ => {
                    let now = Instant::now();
                    for a in self.queries.expire(now) {
                        self.answer(a);
                    }
                    if now.duration_since(last_ping) >= self.rules.keepalive {
                        last_ping = now;
                        let all = self.peers.all();
                        self.peers.send_all(&all, &Msg::Ping);
                    }
                }
            }
            // What else has arrived is handled before anything is written: each peer's
            // frames of the whole batch go to its writer in one hand-off.
            for ev in events.try_iter().take(BATCH) {
                self.handle(ev);
            }
            self.flush();
        }
    }

    /// Hands the batch's frames to the writers; drops the peers that cannot take them
    /// (which may give the others more to send: Leaders lists, answers completed).
    fn flush(&mut self) {
        loop {
            self.peers.flush();
            let doomed = self.peers.take_doomed();
            if doomed.is_empty() {
                return;
            }
            for c in doomed {
                self.gone(c, "stopped reading (its queue is full)");
            }
        }
    }

    fn handle(&mut self, ev: Event) {
        match ev {
            Event::Up(o) => self.joined(o),
            Event::Frame { conn, msg } => self.frame(conn, msg),
            Event::Gone { conn, why } => self.gone(conn, &why),
            Event::Failed { to, why, .. } => info!("leader {}: no link to {to}: {why}", self.me),
        }
    }

    /// Counters, and the gauges as they are now.
    fn stats(&self) -> LeaderStats {
        let children = self.peers.children().len();
        LeaderStats {
            children,
            links: self.peers.len() - children,
            files: self.index.len(),
            seen: self.queries.seen(),
            copy_files: self.copies.len(),
            ..self.stats.clone()
        }
    }

    /// Leaves: Bye to every peer (written within [`BYE_GRACE`]), or just closes
    /// everything (a crash). A stopped leader has nobody: the gauges go to 0.
    fn leave(&mut self, graceful: bool) {
        self.peers.close_all(graceful.then_some(BYE_GRACE));
        self.index = Index::new(0);
        self.copies = Copies::default();
        self.subscribers.clear();
    }

    fn joined(&mut self, o: Opened) {
        let kind = match o.role {
            Role::Node => Kind::Child {
                capacity: o.capacity,
            },
            Role::Leader | Role::Promoted(_) => Kind::Leader,
        };
        let is_child = matches!(kind, Kind::Child { .. });
        let what = if is_child { "child" } else { "leader" };
        info!("leader {}: {what} {} joined", self.me, o.addr);
        let (conn, addr) = (o.conn, o.addr);
        self.peers.insert(conn, Peer::new(addr, kind, o.link));
        if !o.outgoing {
            let welcome = Msg::Welcome(self.peers.leader_addrs());
            self.peers.send(conn, &welcome);
        }
        if is_child {
            self.index.set_holder(conn, addr);
            self.maybe_promote();
        } else {
            if self.rules.mode.keeps_copies() {
                self.peers.send(conn, &Msg::Subscribe);
            }
            self.tell_children_leaders();
            if let Role::Promoted(grant) = o.role {
                self.promoted_linked(addr, grant);
            }
        }
    }

    fn frame(&mut self, conn: ConnId, msg: Msg) {
        let Some(peer) = self.peers.get(conn) else {
            return; // a peer already dropped: what it still had in flight is ignored
        };
        let from_child = peer.is_child();
        match msg {
            Msg::Ping => {}
            Msg::Publish(files) if from_child => {
                let n = files.len();
                let copy = (!self.subscribers.is_empty()).then(|| files.clone());
                let taken = self.index.publish(conn, files);
                if taken < n {
                    info!("leader {}: index full, took {taken} of {n} files", self.me);
                }
                if let Some(copy) = copy {
                    self.copy_published(conn, &copy[..taken]);
                }
                self.peers.send(conn, &Msg::Indexed(taken as u32));
            }
            Msg::Subscribe if !from_child => self.subscribed(conn),
            Msg::Copy {
                child,
                holder,
                files,
            } if !from_child && self.rules.mode.keeps_copies() => {
                self.stats.copies_in += 1;
                self.copies.add(conn, child, holder, files);
            }
            Msg::Uncopy(child) if !from_child && self.rules.mode.keeps_copies() => {
                self.stats.copies_in += 1;
                self.copies.remove(conn, child);
            }
            Msg::Query {
                id,
                ttl,
                hops,
                text,
            } => self.query(conn, from_child, id, ttl.min(MAX_TTL), hops, text),
            Msg::Hits { id, leaders, hits } if !from_child => {
                match self.queries.answer(conn, id, leaders, hits) {
                    Some(a) => self.answer(a),
                    None => debug!("leader {}: answer to a query no longer waiting", self.me),
                }
            }
            other => {
                // A message this peer has no business sending: end the peer, not the node.
                let who = if from_child { "child" } else { "leader" };
                let what = other.name();
                warn!(
                    "leader {}: dropping {}: unexpected {what} from a {who}",
                    self.me, peer.addr
                );
                peer.link.close();
            }
        }
    }

    fn gone(&mut self, conn: ConnId, why: &str) {
        let Some(peer) = self.peers.remove(conn) else {
            return;
        };
        peer.link.close();
        info!("leader {}: {} left ({why})", self.me, peer.addr);
        match peer.kind {
            Kind::Child { .. } => {
                // A departed peer's files leave the index at once, and every copy.
                self.index.remove_child(conn);
                self.copy_removed(conn);
                if self.promoting.is_some_and(|p| p.0 == conn) {
                    // It left to become a leader; its link arrives as Role::Promoted.
                    debug!("leader {}: promoted child detached", self.me);
                }
            }
            Kind::Leader => {
                // Its children's entries leave our copy with the link.
                self.copies.drop_link(conn);
                self.subscribers.retain(|c| *c != conn);
                self.tell_children_leaders();
                // Queries waiting on that leader will get nothing more from it.
                for a in self.queries.link_gone(conn) {
                    self.answer(a);
                }
            }
        }
    }

    fn tell_children_leaders(&mut self) {
        let list = Msg::Leaders(self.peers.leader_addrs());
        let kids: Vec<ConnId> = self.peers.children().into_iter().map(|c| c.0).collect();
        self.peers.send_all(&kids, &list);
    }
}
