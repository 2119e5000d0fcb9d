//! A child's queries waiting for their answers, by query id. Ids come from the crate's
//! one seeded PRNG, seeded with the node's number: ids from different nodes do not
//! collide in practice, and a run with the same numbers repeats.

use crate::kazaa::node::{NodeError, QueryAnswer};
use crate::rng::Rng;
use crossbeam_channel::Sender;
use std::collections::HashMap;
use std::time::Instant;

/// Where an answer goes: the handle's reply channel.
pub type Reply = Sender<Result<QueryAnswer, NodeError>>;

pub struct Asked {
    waiting: HashMap<u64, (Reply, Instant)>,
    ids: Rng,
}

impl Asked {
    pub fn new(seed: u64) -> Asked {
        Asked {
            waiting: HashMap::new(),
            ids: Rng::new(seed),
        }
    }

    /// A fresh id for a query.
    pub fn next_id(&mut self) -> u64 {
        loop {
            let id = self.ids.next_u64();
            if !self.waiting.contains_key(&id) {
                return id;
            }
        }
    }

    /// Waits for the answer to `id` until `deadline`.
    pub fn wait(&mut self, id: u64, reply: Reply, deadline: Instant) {
        self.waiting.insert(id, (reply, deadline));
    }

    /// The answer to `id` arrived (an answer nobody waits for is dropped).
    pub fn answer(&mut self, id: u64, answer: QueryAnswer) {
        if let Some((reply, _)) = self.waiting.remove(&id) {
            let _ = reply.send(Ok(answer));
        }
    }

    /// Queries past their deadline fail with [`NodeError::Timeout`].
    pub fn expire(&mut self, now: Instant) {
        self.waiting.retain(|_, (reply, deadline)| {
            let late = *deadline <= now;
            if late {
                let _ = reply.send(Err(NodeError::Timeout));
            }
            !late
        });
    }

    /// The leader is gone: every waiting query fails with [`NodeError::LeaderLost`].
    pub fn fail_all(&mut self) {
        for (_, (reply, _)) in self.waiting.drain() {
            let _ = reply.send(Err(NodeError::LeaderLost));
        }
    }
}
