//! The query path of a leader (its coordinator's half that the notes draw): answer
//! from the children's index, forward to other leaders while TTL lasts, merge their
//! answers, and send exactly one combined answer back to whoever asked.

use super::*;

impl Coordinator {
    /// The notes' query path: answer from the children's index, forward to the other
    /// leaders while TTL lasts, and send one combined answer back to whoever asked.
    pub(super) fn query(
        &mut self,
        from: ConnId,
        from_child: bool,
        id: u64,
        ttl: u8,
        hops: u8,
        text: String,
    ) {
        self.stats_mut(|s| s.queries_in += 1);
        if self.dedup && !self.seen.insert(id) {
            // Seen before: answer empty so the asker stops waiting for us.
            self.stats_mut(|s| s.duplicates += 1);
            let empty = Msg::Hits {
                id,
                leaders: 0,
                hits: vec![],
            };
            self.send_answer(from, &empty);
            return;
        }
        self.stats_mut(|s| s.searched += 1);
        let hits = self.index.search(&text);
        let links: Vec<ConnId> = self
            .peers
            .iter()
            .filter(|(_, p)| matches!(p.kind, Kind::Leader))
            .map(|(c, _)| *c)
            .collect();
        let came_from = (!from_child).then_some(from);
        let mut targets = forward_targets(&links, came_from, ttl);
        if self.pending.len() >= MAX_PENDING {
            // Too many queries in flight (a flood from one peer?): answer from our own
            // index only, so that memory stays bounded.
            targets.clear();
        }
        let mut pending = Pending::new(from, id, hits, Instant::now() + QUERY_TIMEOUT);
        let fwd = Msg::Query {
            id,
            ttl: ttl.saturating_sub(1),
            hops: hops.saturating_add(1),
            text,
        };
        for t in targets {
            if self.send_to(t, &fwd) {
                pending.waiting.insert(t);
                self.stats_mut(|s| s.forwarded += 1);
            }
        }
        self.pending.push(pending);
        if self.pending.last().is_some_and(Pending::is_done) {
            self.finish(vec![self.pending.len() - 1]);
        }
    }

    /// Another leader's answer to a query we forwarded to it.
    pub(super) fn answer(&mut self, from: ConnId, id: u64, leaders: u16, hits: Vec<Hit>) {
        let Some(i) = self
            .pending
            .iter()
            .position(|p| p.id == id && p.waiting.contains(&from))
        else {
            debug!("leader {}: answer to a query no longer waiting", self.me);
            return;
        };
        let p = &mut self.pending[i];
        p.waiting.remove(&from);
        p.add(leaders, hits);
        if p.is_done() {
            self.finish(vec![i]);
        }
    }

    pub(super) fn expire(&mut self, now: Instant) {
        let late: Vec<usize> = (0..self.pending.len())
            .filter(|&i| self.pending[i].deadline <= now)
            .collect();
        self.finish(late);
    }

    /// Sends the combined answers of the pending queries at `idx` and forgets them.
    pub(super) fn finish(&mut self, mut idx: Vec<usize>) {
        idx.sort_unstable();
        for i in idx.into_iter().rev() {
            let p = self.pending.swap_remove(i);
            let mut hits = p.hits;
            hits.truncate(MAX_HITS);
            let msg = Msg::Hits {
                id: p.id,
                leaders: p.leaders,
                hits,
            };
            self.send_answer(p.origin, &msg);
        }
    }

    pub(super) fn send_answer(&mut self, to: ConnId, msg: &Msg) {
        // Counted before the write, so the asker never sees an answer the stats miss.
        self.stats_mut(|s| s.hits_out += 1);
        self.send_to(to, msg);
    }
}
