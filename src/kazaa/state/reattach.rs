//! A child between leaders: attached (its list indexed), lost (the leader died or
//! left, or told it to lead or to move), and the next leader to dial, round after
//! round, until one takes it or it leads itself (every peer leads or belongs to a
//! leader). The plan it follows is `attach.rs`; the order, `policy::reattach_order`.

use super::attach::Step;
use super::child::{ChildState, Current};
use crate::kazaa::conn::{dial, Opened, Opening};
use crate::kazaa::msg::Msg;
use crate::kazaa::node::NodeError;
use crate::kazaa::policy::reattach_order;
use log::{info, warn};
use std::net::SocketAddrV4;
use std::time::Instant;

/// Rounds of trying every known leader before a node gives up and leads itself.
pub const REATTACH_ROUNDS: usize = 3;

impl ChildState {
    pub(super) fn attached(&mut self, o: Opened) {
        self.attach.dialling = None;
        self.learn(o.addr, o.leaders);
        self.history.push(o.addr);
        info!("node {}: attached to leader {}", self.me.share_port, o.addr);
        self.leader = Some(Current {
            conn: o.conn,
            addr: o.addr,
            link: o.link,
            last_ping: Instant::now(),
        });
        if let Some(ready) = self.ready.take() {
            let _ = ready.send(Ok(()));
        }
        for m in o.early {
            self.leader_said(m);
        }
    }

    /// The leader is gone (`why`), or told us to lead or to move (`told`): forget it,
    /// fail the queries waiting on it, and decide where to go.
    pub(super) fn lost(&mut self, told: Option<Msg>, why: &str) {
        let Some(old) = self.leader.take() else {
            return;
        };
        old.link.close();
        self.asked.fail_all();
        if self.stopping {
            return;
        }
        let port = self.me.share_port;
        info!("node {port}: left leader {}: {why}", old.addr);
        let mut order = reattach_order(&self.known, &self.me.configured, old.addr, self.me.id);
        match told {
            Some(Msg::Promote(grant)) => return self.promote(Some(old.addr), grant),
            Some(Msg::Redirect(to)) => {
                order.retain(|a| *a != to);
                order.insert(0, to);
            }
            _ => {}
        }
        self.begin_attach(order, REATTACH_ROUNDS);
    }

    pub(super) fn begin_attach(&mut self, order: Vec<SocketAddrV4>, rounds: usize) {
        self.attach.begin(order, rounds);
        self.attach_next();
    }

    /// Dials the next address of this round; when the round is over, waits for the next
    /// one; when every round failed, leads (at start: Node::start fails instead).
    pub(super) fn attach_next(&mut self) {
        if self.stopping {
            return;
        }
        let port = self.me.share_port;
        match self.attach.next(Instant::now()) {
            Step::Dial(to) => {
                // A node that already leads is a child of its own leader: it announces
                // no capacity, so that leader never asks it to lead a second time.
                let capacity = if self.promoted.is_some() {
                    0
                } else {
                    self.me.capacity
                };
                let files = self.me.files.clone();
                let open = Opening::Attach {
                    port,
                    capacity,
                    files,
                };
                self.attach.dialling = Some(dial(&self.ctx, to, open, None));
            }
            Step::Later => {}
            Step::GiveUp => {
                if let Some(ready) = self.ready.take() {
                    let _ = ready.send(Err(NodeError::NoLeader));
                    self.quit = true;
                } else if self.promoted.is_some() {
                    warn!("node {port}: even my own leader does not answer");
                } else {
                    // Nobody leads any more: every peer leads or belongs to a leader, so lead.
                    warn!("node {port}: no leader answers, leading myself");
                    self.promote(None, 0);
                }
            }
        }
    }
}
