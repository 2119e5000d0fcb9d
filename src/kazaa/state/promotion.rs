//! Promotion, both sides (notes 6.3, 利用不匀称性: put the more capable peers to
//! work). A leader with more children than it should serve asks its most capable
//! child to lead, and moves some children to it once it links back; the child told to
//! lead starts a leader of its own, on a thread, and attaches to it. Whom to promote
//! and whom to move are `policy.rs`.

use super::child::ChildState;
use super::leader::LeaderState;
use super::reattach::REATTACH_ROUNDS;
use crate::kazaa::conn::ConnId;
use crate::kazaa::msg::Msg;
use crate::kazaa::node::Leader;
use crate::kazaa::policy::{needs_promotion, pick_movers, pick_promotion, reattach_order};
use crossbeam_channel::bounded;
use log::{info, warn};
use std::net::{SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

/// How long a leader waits for a promoted child to link back as a leader before it
/// may promote another.
const PROMOTION_PATIENCE: Duration = Duration::from_secs(10);

impl LeaderState {
    /// Too many children for one leader: ask the most capable child to lead.
    pub(super) fn maybe_promote(&mut self) {
        if let Some((_, since, _)) = self.promoting {
            if since.elapsed() < PROMOTION_PATIENCE {
                return; // one promotion at a time
            }
            self.promoting = None; // that child never came back as a leader
        }
        let children = self.peers.children();
        if !needs_promotion(children.len(), self.rules.max_children) {
            return;
        }
        if let Some(c) = pick_promotion(&children) {
            let who = self.peers.get(c).map(|p| p.addr);
            let (n, who) = (children.len(), who.unwrap_or(self.me));
            info!("leader {}: {n} children, promoting {who}", self.me);
            let grant = grant_for(self.me, c);
            self.promoting = Some((c, Instant::now(), grant));
            self.stats.promotions += 1;
            self.peers.send(c, &Msg::Promote(grant));
        }
    }

    /// A leader linked to us saying it is the child we promoted. A leader role is
    /// granted, not claimed: only a link showing the grant of the promotion in flight
    /// moves children; any other claim stays a plain leader link.
    pub(super) fn promoted_linked(&mut self, addr: SocketAddrV4, grant: u64) {
        match self.promoting {
            Some((promoted, _, g)) if g == grant => {
                self.promoting = None;
                self.move_children_to(addr, promoted);
            }
            _ => {
                self.stats.false_claims += 1;
                warn!(
                    "leader {}: {addr} claims a promotion we did not grant; no child moves",
                    self.me
                );
            }
        }
    }

    /// Moves our newest children to the new leader until half of the limit remain.
    pub(super) fn move_children_to(&mut self, to: SocketAddrV4, promoted: ConnId) {
        let ids: Vec<ConnId> = (self.peers.children().into_iter())
            .map(|c| c.0)
            .filter(|c| *c != promoted)
            .collect();
        let movers = pick_movers(&ids, self.rules.max_children / 2);
        self.stats.redirects += movers.len() as u64;
        self.peers.send_all(&movers, &Msg::Redirect(to));
    }
}

/// The grant for promoting child `c`: unpredictable to other peers (a hash keyed by
/// the process's random `RandomState`), never 0.
fn grant_for(me: SocketAddrV4, c: ConnId) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write(&me.ip().octets());
    h.write_u16(me.port());
    h.write_u64(c);
    h.write_u128(Instant::now().elapsed().as_nanos());
    h.finish().max(1)
}

impl ChildState {
    /// Becomes a leader linked to the old one (told it is a promotion) and to the other
    /// leaders we know, on a thread of its own; we then attach to it as a child.
    pub(super) fn promote(&mut self, from: Option<SocketAddrV4>, grant: u64) {
        if let Some(SocketAddr::V4(mine)) = self.promoted.as_ref().map(Leader::local_addr) {
            return self.begin_attach(vec![mine], REATTACH_ROUNDS);
        }
        let mut cfg = self.me.as_leader.clone();
        if let Some(old) = from {
            cfg.promoted_from = Some(SocketAddr::V4(old));
            cfg.grant = grant;
            cfg.links = self.known.iter().map(|a| SocketAddr::V4(*a)).collect();
        }
        let (tx, rx) = bounded(1);
        let name = format!("kazaa-node-promote-{}", self.me.share_port);
        let start = move || {
            let _ = tx.send((from, Leader::start(cfg).map_err(|e| e.to_string())));
        };
        match self.ctx.conns.spawn_worker(name, start) {
            Ok(()) => self.promotion = rx,
            Err(e) => warn!("node {}: cannot promote: {e}", self.me.share_port),
        }
    }

    pub(super) fn promoted(&mut self, from: Option<SocketAddrV4>, result: Result<Leader, String>) {
        let port = self.me.share_port;
        match result {
            Ok(l) => {
                info!("node {port}: promoted, now leading at {}", l.local_addr());
                let mine = l.local_addr();
                self.promoted = Some(l);
                if let SocketAddr::V4(mine) = mine {
                    self.begin_attach(vec![mine], REATTACH_ROUNDS);
                }
            }
            Err(e) => {
                warn!("node {port}: promotion failed: {e}");
                if let Some(old) = from {
                    let order = reattach_order(&self.known, &self.me.configured, old, self.me.id);
                    self.begin_attach(order, REATTACH_ROUNDS);
                }
            }
        }
    }
}
