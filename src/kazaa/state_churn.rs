//! Churn at a leader: telling children which leaders exist, promoting a child when
//! there are too many, and moving children to the promoted one.

use super::*;

/// How long a leader waits for a promoted child to link back as a leader before it
/// may promote another.
const PROMOTION_PATIENCE: Duration = Duration::from_secs(10);

impl Coordinator {
    /// Too many children for one leader: ask the most capable child to lead.
    pub(super) fn maybe_promote(&mut self) {
        let children = self.children();
        if let Some((_, since)) = self.promoting {
            if since.elapsed() < PROMOTION_PATIENCE {
                return; // one promotion at a time
            }
            self.promoting = None; // that child never came back as a leader
        }
        if !needs_promotion(children.len(), self.max_children) {
            return;
        }
        if let Some(c) = pick_promotion(&children) {
            info!(
                "leader {}: {} children, promoting {}",
                self.me,
                children.len(),
                self.peers[&c].addr
            );
            self.promoting = Some((c, Instant::now()));
            self.stats_mut(|s| s.promotions += 1);
            self.send_to(c, &Msg::Promote);
        }
    }

    /// Moves our newest children to the new leader until half of the limit remain.
    pub(super) fn move_children_to(&mut self, to: SocketAddrV4, promoted: ConnId) {
        let ids: Vec<ConnId> = (self.children().into_iter())
            .map(|c| c.0)
            .filter(|c| *c != promoted)
            .collect();
        for c in pick_movers(&ids, self.max_children / 2) {
            self.stats_mut(|s| s.redirects += 1);
            self.send_to(c, &Msg::Redirect(to));
        }
    }

    pub(super) fn children(&self) -> Vec<(ConnId, u32)> {
        self.peers
            .iter()
            .filter_map(|(c, p)| match p.kind {
                Kind::Child { capacity } => Some((*c, capacity)),
                Kind::Leader => None,
            })
            .collect()
    }

    pub(super) fn leader_addrs(&self) -> Vec<SocketAddrV4> {
        let mut v: Vec<SocketAddrV4> = self
            .peers
            .values()
            .filter(|p| matches!(p.kind, Kind::Leader))
            .map(|p| p.addr)
            .collect();
        v.sort();
        v.dedup();
        v
    }

    pub(super) fn tell_children_leaders(&mut self) {
        let msg = Msg::Leaders(self.leader_addrs());
        let kids: Vec<ConnId> = self.children().into_iter().map(|c| c.0).collect();
        kids.into_iter().for_each(|c| {
            self.send_to(c, &msg);
        });
    }
}
