//! The leader's coordinator: one thread owns the index, the peers and the queries in
//! flight, and decides everything (STYLE rule 8). Connection threads feed it events.

use super::conn::{send, ConnId, Event};
use super::index::Index;
use super::msg::{Hit, Msg, Role, MAX_HITS, MAX_TTL};
use super::policy::{forward_targets, needs_promotion, pick_movers, pick_promotion};
use super::query::{Pending, Seen, MAX_PENDING};
use super::{LeaderStats, QUERY_TIMEOUT};
use crossbeam_channel::{select, tick, Receiver};
use log::{debug, info, warn};
use std::collections::BTreeMap;
use std::net::{Shutdown, SocketAddrV4, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often pending queries are checked for expiry and idle links pinged.
const TICK: Duration = Duration::from_millis(50);

enum Kind {
    Child { capacity: u32 },
    Leader,
}

struct Peer {
    addr: SocketAddrV4,
    kind: Kind,
    writer: TcpStream,
}

/// What a query came from: a child or another leader, by connection.
pub struct Coordinator {
    pub me: SocketAddrV4,
    pub max_children: usize,
    pub dedup: bool,
    pub index: Index,
    pub stats: Arc<Mutex<LeaderStats>>,
    keepalive: Duration,
    peers: BTreeMap<ConnId, Peer>,
    pending: Vec<Pending>,
    seen: Seen,
    /// A child told to become a leader, whose leader link we are waiting for.
    /// (since when: a promotion that never shows up is given up after a while).
    promoting: Option<(ConnId, Instant)>,
}

impl Coordinator {
    pub fn new(
        me: SocketAddrV4,
        max_children: usize,
        dedup: bool,
        index: Index,
        stats: Arc<Mutex<LeaderStats>>,
        keepalive: Duration,
    ) -> Coordinator {
        Coordinator {
            me,
            max_children,
            dedup,
            index,
            stats,
            keepalive,
            peers: BTreeMap::new(),
            pending: Vec::new(),
            seen: Seen::default(),
            promoting: None,
        }
    }

    /// Runs until the handle says Stop.
    pub fn run(mut self, events: Receiver<Event>) {
        let ticker = tick(TICK);
        let mut last_ping = Instant::now();
        loop {
            select! {
                recv(events) -> ev => match ev {
                    Ok(Event::Stop { graceful, done }) => {
                        for p in self.peers.values() {
                            if graceful {
                                let _ = send(&p.writer, &Msg::Bye);
                            }
                            let _ = p.writer.shutdown(Shutdown::Both);
                        }
                        // Gauges say "now": a stopped leader has nobody.
                        self.stats_mut(|s| (s.children, s.links, s.files) = (0, 0, 0));
                        let _ = done.send(());
                        return;
                    }
                    Ok(ev) => self.handle(ev),
                    Err(_) => return,
                },
                recv(ticker) -> _ => {
                    self.expire(Instant::now());
                    if last_ping.elapsed() >= self.keepalive {
                        last_ping = Instant::now();
                        let ids: Vec<ConnId> = self.peers.keys().copied().collect();
                        for c in ids {
                            self.send_to(c, &Msg::Ping);
                        }
                    }
                }
            }
            self.update_gauges();
        }
    }

    fn handle(&mut self, ev: Event) {
        match ev {
            Event::Joined {
                conn,
                addr,
                role,
                capacity,
                writer,
                outgoing,
            } => self.joined(conn, addr, role, capacity, writer, outgoing),
            Event::Frame { conn, msg } => self.frame(conn, msg),
            Event::Gone { conn, why } => self.gone(conn, &why),
            Event::Stop { .. } => {}
        }
    }

    fn joined(
        &mut self,
        conn: ConnId,
        addr: SocketAddrV4,
        role: Role,
        capacity: u32,
        writer: TcpStream,
        outgoing: bool,
    ) {
        let kind = match role {
            Role::Node => Kind::Child { capacity },
            Role::Leader | Role::Promoted => Kind::Leader,
        };
        let is_child = matches!(kind, Kind::Child { .. });
        info!(
            "leader {}: {} {addr} joined",
            self.me,
            if is_child { "child" } else { "leader" }
        );
        self.peers.insert(conn, Peer { addr, kind, writer });
        self.update_gauges();
        if !outgoing {
            self.send_to(conn, &Msg::Welcome(self.leader_addrs()));
        }
        if is_child {
            self.index.set_holder(conn, addr);
            self.maybe_promote();
        } else {
            self.tell_children_leaders();
            if role == Role::Promoted {
                if let Some((promoted, _)) = self.promoting.take() {
                    self.move_children_to(addr, promoted);
                }
            }
        }
    }

    fn frame(&mut self, conn: ConnId, msg: Msg) {
        let Some(peer) = self.peers.get(&conn) else {
            return;
        };
        let from_child = matches!(peer.kind, Kind::Child { .. });
        match msg {
            Msg::Ping => {}
            Msg::Publish(files) if from_child => {
                let n = files.len();
                let taken = self.index.publish(conn, files);
                self.update_gauges();
                if taken < n {
                    info!("leader {}: index full, took {taken} of {n} files", self.me);
                }
                self.send_to(conn, &Msg::Indexed(taken as u32));
            }
            Msg::Query {
                id,
                ttl,
                hops,
                text,
            } => self.query(conn, from_child, id, ttl.min(MAX_TTL), hops, text),
            Msg::Hits { id, leaders, hits } if !from_child => self.answer(conn, id, leaders, hits),
            other => {
                // A message this peer has no business sending: end the peer, not the node.
                warn!(
                    "leader {}: dropping {}: unexpected {} from a {}",
                    self.me,
                    peer.addr,
                    short(&other),
                    if from_child { "child" } else { "leader" }
                );
                let _ = peer.writer.shutdown(Shutdown::Both);
            }
        }
    }

    fn gone(&mut self, conn: ConnId, why: &str) {
        let Some(peer) = self.peers.remove(&conn) else {
            return;
        };
        info!("leader {}: {} left ({why})", self.me, peer.addr);
        if matches!(peer.kind, Kind::Child { .. }) {
            self.index.remove_child(conn);
        }
        self.update_gauges();
        match peer.kind {
            Kind::Child { .. } => {
                // Departed peers' files left the index above, at once.
                if self.promoting.is_some_and(|p| p.0 == conn) {
                    // It left to become a leader; its link arrives as Role::Promoted.
                    debug!("leader {}: promoted child detached", self.me);
                }
            }
            Kind::Leader => {
                self.tell_children_leaders();
                // Queries waiting on that leader will get nothing more from it.
                let done: Vec<usize> = (0..self.pending.len())
                    .filter(|&i| self.pending[i].waiting.remove(&conn) && self.pending[i].is_done())
                    .collect();
                self.finish(done);
            }
        }
    }

    /// Writes to one peer; a peer that cannot take it is shut (its thread reports Gone).
    fn send_to(&mut self, conn: ConnId, msg: &Msg) -> bool {
        let Some(p) = self.peers.get(&conn) else {
            return false;
        };
        match send(&p.writer, msg) {
            Ok(()) => true,
            Err(e) => {
                info!("leader {}: cannot write to {}: {e}", self.me, p.addr);
                let _ = p.writer.shutdown(Shutdown::Both);
                false
            }
        }
    }

    fn stats_mut(&self, f: impl FnOnce(&mut LeaderStats)) {
        f(&mut self.stats.lock().unwrap_or_else(|p| p.into_inner()));
    }

    fn update_gauges(&self) {
        let children = self.children().len();
        let links = self.peers.len() - children;
        let files = self.index.len();
        let seen = self.seen.len();
        self.stats_mut(|s| {
            s.seen = seen;
            s.children = children;
            s.links = links;
            s.files = files;
        });
    }
}

#[path = "state_churn.rs"]
mod churn;
#[path = "state_query.rs"]
mod search;

/// A message's name for a log line (not its whole content).
fn short(m: &Msg) -> &'static str {
    match m {
        Msg::Ping => "Ping",
        Msg::Hello { .. } => "Hello",
        Msg::Welcome(_) => "Welcome",
        Msg::Leaders(_) => "Leaders",
        Msg::Publish(_) => "Publish",
        Msg::Indexed(_) => "Indexed",
        Msg::Query { .. } => "Query",
        Msg::Hits { .. } => "Hits",
        Msg::Promote => "Promote",
        Msg::Redirect(_) => "Redirect",
        Msg::Bye => "Bye",
    }
}
