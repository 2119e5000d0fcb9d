//! A leader's query path (notes 6.3, 转发查询到其他组长), the hybrid in one function:
//! answer from the children's index, forward to the other leaders while TTL lasts, and
//! send one combined answer back to whoever asked. In copy mode (notes 6.4,
//! 获得其他组长的数据拷贝) a child's query is answered from the index and the copies of
//! the other leaders' indexes, and forwarded only in `Mode::Both` when they found
//! nothing; a query forwarded by a leader is answered from our own children only. What waits for the other leaders'
//! answers is `queries.rs`; whom to forward to is `policy::forward_targets`.

use super::leader::LeaderState;
use super::queries::Answer;
use crate::kazaa::conn::ConnId;
use crate::kazaa::msg::Msg;
use crate::kazaa::policy::forward_targets;
use crate::kazaa::QUERY_TIMEOUT;
use std::time::Instant;

impl LeaderState {
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
        self.stats.queries_in += 1;
        let now = Instant::now();
        if self.rules.dedup && !self.queries.first_time(id, now) {
            // Seen before: answer empty so the asker stops waiting for us.
            self.stats.duplicates += 1;
            let empty = Msg::Hits {
                id,
                leaders: 0,
                hits: vec![],
            };
            return self.answer((from, empty));
        }
        self.stats.searched += 1;
        let mut hits = self.index.search(&text);
        let came_from = (!from_child).then_some(from);
        let mut targets = forward_targets(self.peers.links(), came_from, ttl);
        if from_child && self.rules.mode.keeps_copies() {
            // Copy mode: the other leaders' children are in our copies already.
            self.copies.search_into(&text, &mut hits);
            if !self.rules.mode.forwards(hits.len()) {
                targets.clear();
            }
        }
        if self.queries.is_full() {
            targets.clear(); // memory stays bounded: answer from our own index only
        }
        let fwd = Msg::Query {
            id,
            ttl: ttl.saturating_sub(1),
            hops: hops.saturating_add(1),
            text,
        };
        let waiting: Vec<ConnId> = (targets.into_iter())
            .filter(|t| self.peers.send(*t, &fwd))
            .collect();
        self.stats.forwarded += waiting.len() as u64;
        if let Some(a) = self
            .queries
            .start(from, id, hits, waiting, now + QUERY_TIMEOUT)
        {
            self.answer(a);
        }
    }

    pub(super) fn answer(&mut self, (to, hits): Answer) {
        // Counted before it is queued, so the asker never sees an answer the stats miss.
        self.stats.hits_out += 1;
        self.peers.send(to, &hits);
    }
}
