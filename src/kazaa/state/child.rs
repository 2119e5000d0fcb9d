//! A child's coordinator (an ordinary node, 孩子): one thread owns everything the child
//! knows (its leader, the leaders it heard of, its queries waiting for answers, the
//! leader it runs if promoted) and decides everything: when to reattach, where to,
//! when to lead. Its connection threads only read and write; the handle
//! (`node/child.rs`) sends it commands that carry a reply channel.
//!
//! ```text
//!   start:  dial -> Hello -> Welcome(other leaders) -> Publish.. -> Indexed..  (conn/open.rs)
//!   then:   Hits (answers), Leaders (who else leads), Promote (become a leader),
//!           Redirect (move), Bye / close / silence (reattach elsewhere)
//! ```
//!
//! Changing leaders is `reattach.rs`, becoming one `promotion.rs`.

use super::asked::{Asked, Reply};
use super::attach::Attach;
use super::cmd::{ChildCmd, Me, Status};
use crate::kazaa::conn::{frame, ConnId, Ctx, Event, Link};
use crate::kazaa::msg::Msg;
use crate::kazaa::node::{Leader, NodeError, QueryAnswer};
use crate::kazaa::QUERY_WAIT;
use crossbeam_channel::{never, select, tick, Receiver, Sender};
use log::info;
use std::net::SocketAddrV4;
use std::time::{Duration, Instant};

/// How often keep-alives and query deadlines are checked.
const TICK: Duration = Duration::from_millis(50);
/// How long a leaving node waits for its Bye to be written.
const BYE_GRACE: Duration = Duration::from_secs(1);

/// The leader we are attached to.
pub(super) struct Current {
    pub(super) conn: ConnId,
    pub(super) addr: SocketAddrV4,
    pub(super) link: Link,
    pub(super) last_ping: Instant,
}

/// A promotion under way: from which leader (None: leading alone) and the new
/// leader, started on a thread of its own (it dials other leaders).
type Promotion = (Option<SocketAddrV4>, Result<Leader, String>);

pub struct ChildState {
    pub(super) me: Me,
    pub(super) ctx: Ctx,
    pub(super) leader: Option<Current>,
    /// Looking for a leader: what to dial next.
    pub(super) attach: Attach,
    /// The leaders we heard of (the last Welcome or Leaders list, and its sender).
    pub(super) known: Vec<SocketAddrV4>,
    pub(super) history: Vec<SocketAddrV4>,
    pub(super) asked: Asked,
    pub(super) promoted: Option<Leader>,
    pub(super) promotion: Receiver<Promotion>,
    pub(super) stopping: bool,
    /// Node::start waits here for the first attach (or for every address to fail).
    pub(super) ready: Option<Sender<Result<(), NodeError>>>,
    pub(super) quit: bool,
}

impl ChildState {
    pub fn new(me: Me, ctx: Ctx, ready: Sender<Result<(), NodeError>>) -> Self {
        ChildState {
            asked: Asked::new(me.id),
            known: me.configured.clone(),
            me,
            ctx,
            leader: None,
            attach: Attach::default(),
            history: Vec::new(),
            promoted: None,
            promotion: never(),
            stopping: false,
            ready: Some(ready),
            quit: false,
        }
    }

    /// Attaches to the first of `first` that takes our list, then serves, until Stop.
    pub fn run(
        mut self,
        first: Vec<SocketAddrV4>,
        events: Receiver<Event>,
        cmds: Receiver<ChildCmd>,
    ) {
        let ticker = tick(TICK);
        self.begin_attach(first, 1);
        while !self.quit {
            let promotion = self.promotion.clone();
            select! {
                recv(events) -> ev => match ev {
                    Ok(ev) => self.handle(ev),
                    Err(_) => return,
                },
                recv(cmds) -> cmd => match cmd {
                    Ok(ChildCmd::Stop(reply)) => {
                        let last = self.stop();
                        let _ = reply.send(last);
                        return;
                    }
                    Ok(cmd) => self.command(cmd),
                    Err(_) => return,
                },
                recv(promotion) -> p => {
                    self.promotion = never();
                    if let Ok((from, result)) = p {
                        self.promoted(from, result);
                    }
                },
                recv(ticker) -> _ => self.tick(Instant::now()),
            }
        }
    }

    fn handle(&mut self, ev: Event) {
        let current = self.leader.as_ref().map(|c| c.conn);
        match ev {
            Event::Up(o) if Some(o.conn) == self.attach.dialling => self.attached(o),
            Event::Up(o) => o.link.close(), // an attempt we gave up on
            Event::Failed { conn, to, why } if Some(conn) == self.attach.dialling => {
                info!("node {}: cannot attach to {to}: {why}", self.me.share_port);
                self.attach_next();
            }
            Event::Frame { conn, msg } if Some(conn) == current => self.leader_said(msg),
            Event::Gone { conn, why } if Some(conn) == current => self.lost(None, &why),
            _ => {}
        }
    }

    fn command(&mut self, cmd: ChildCmd) {
        match cmd {
            ChildCmd::Query { text, ttl, reply } => self.query(text, ttl, reply),
            ChildCmd::Status(reply) => {
                let _ = reply.send(self.status());
            }
            ChildCmd::LedStats(reply) => {
                let _ = reply.send(self.promoted.as_ref().map(Leader::stats));
            }
            ChildCmd::Stopping => self.stopping = true,
            ChildCmd::Stop(_) => {}
        }
    }

    fn status(&self) -> Status {
        Status {
            leader: self.leader.as_ref().map(|c| c.addr),
            history: self.history.clone(),
            led: self.promoted.as_ref().map(Leader::local_addr),
        }
    }

    fn query(&mut self, text: String, ttl: u8, reply: Reply) {
        let Some(cur) = &self.leader else {
            let _ = reply.send(Err(NodeError::NoLeader));
            return;
        };
        let id = self.asked.next_id();
        let q = frame(&Msg::Query {
            id,
            ttl,
            hops: 0,
            text,
        });
        if !cur.link.send(q) {
            let _ = reply.send(Err(NodeError::LeaderLost));
            return self.lost(None, "the leader stopped reading");
        }
        self.asked.wait(id, reply, Instant::now() + QUERY_WAIT);
    }

    fn tick(&mut self, now: Instant) {
        if self.attach.due(now) {
            self.attach_next();
        }
        self.asked.expire(now);
        // The leader drops a silent child: ping it every keep-alive period.
        let keepalive = self.me.keepalive;
        let Some(cur) = &mut self.leader else { return };
        if now.duration_since(cur.last_ping) >= keepalive {
            cur.last_ping = now;
            if !cur.link.send(frame(&Msg::Ping)) {
                self.lost(None, "the leader stopped reading");
            }
        }
    }

    /// Our leader's messages (Ping needs nothing: the reader's timeout watches silence).
    pub(super) fn leader_said(&mut self, msg: Msg) {
        match msg {
            Msg::Ping => {}
            Msg::Hits { id, leaders, hits } => self.asked.answer(id, QueryAnswer { hits, leaders }),
            Msg::Leaders(list) => {
                if let Some(addr) = self.leader.as_ref().map(|c| c.addr) {
                    self.learn(addr, list);
                }
            }
            Msg::Promote(grant) => self.lost(Some(Msg::Promote(grant)), "asked to lead"),
            Msg::Redirect(to) => self.lost(Some(Msg::Redirect(to)), "redirected"),
            _ => self.lost(None, "the leader sent a message a node never gets"),
        }
    }

    /// Remembers the leaders our leader says it is linked to (and the leader itself).
    /// The latest list replaces the last: a leader that died drops out of it.
    pub(super) fn learn(&mut self, leader: SocketAddrV4, mut list: Vec<SocketAddrV4>) {
        list.push(leader);
        list.sort();
        list.dedup();
        self.known = list;
    }

    /// Bye to the leader (whose index then forgets our files), written within
    /// [`BYE_GRACE`]; the handle stops the leader we run, if any.
    fn stop(&mut self) -> (Status, Option<Leader>) {
        self.stopping = true;
        if let Some(cur) = self.leader.take() {
            let _ = cur.link.bye().recv_timeout(BYE_GRACE);
            cur.link.close();
        }
        self.asked.fail_all();
        (self.status(), self.promoted.take())
    }
}
