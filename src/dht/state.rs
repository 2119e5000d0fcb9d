//! A node's state: its place on the ring, what it knows of its neighbours, its keys.
//!
//! [`State`] belongs to the node's coordinator thread (`node/coordinator.rs`) and to
//! nobody else: no lock, no sharing. Connection threads and workers never see it; they
//! send events, and the handle asks for a [`Snapshot`] by a command.

use super::id::{in_half_open, Id};
use super::policy::{NodeRef, Routing};
use super::rpc::POOL_SIZE;
use super::store::{Store, MAX_STORE_BYTES};
use std::net::SocketAddr;
use std::time::Duration;

/// Periods of the maintenance rounds at `time_scale = 1`. Chord's paper leaves them to
/// the implementation; MIT's lsd used about a second for stabilization, which is what
/// these are. Labs and tests scale them down so rings settle in a moment.
pub const STABILIZE_EVERY: Duration = Duration::from_secs(1);
pub const FIX_FINGERS_EVERY: Duration = Duration::from_secs(1);
pub const CHECK_PREDECESSOR_EVERY: Duration = Duration::from_secs(2);
pub const REPLICATE_EVERY: Duration = Duration::from_secs(4);

/// How a node behaves; every node of a ring must use the same `bits`.
#[derive(Clone, Debug)]
pub struct Config {
    /// m: ids are in `0 .. 2^m` (1..=160).
    pub bits: u32,
    /// Length of the successor list, and the number of replicas of every key.
    pub r: usize,
    /// How this node's lookups (and its fix-fingers) route.
    pub routing: Routing,
    /// Multiplies every maintenance period: 0.05 runs the ring 20 times faster.
    pub time_scale: f64,
    /// Idle private UDP sockets kept for outgoing calls (see `rpc/call.rs`).
    pub pool: usize,
    /// Cap on the bytes this node stores, all keys together; full, it evicts the
    /// oldest values (`store.rs`). [`MAX_STORE_BYTES`] by default.
    pub store_bytes: usize,
}

impl Config {
    /// An m-bit ring, r = 3, routing by fingers, real-time periods, `POOL_SIZE` sockets.
    pub fn new(bits: u32) -> Config {
        Config {
            bits,
            r: 3,
            routing: Routing::Fingers,
            time_scale: 1.0,
            pool: POOL_SIZE,
            store_bytes: MAX_STORE_BYTES,
        }
    }

    /// The default successor list for a ring of about `n` nodes:
    /// log2 n rounded up, at least 3.
    pub fn r_for(n: usize) -> usize {
        let log = usize::BITS - n.saturating_sub(1).leading_zeros();
        (log as usize).max(3)
    }

    /// The time scale labs and benches give a ring of `n` nodes in one process: the
    /// periods grow with n (n / 2,048 of real time, at least 0.05, at most 1), so the
    /// whole ring's maintenance stays near a constant number of calls per second
    /// (about 8,000 before the quiet rounds of `node/maintain.rs` thin it out) and
    /// leaves the two cores to the lookups being measured. Real time for 2,048 nodes
    /// and up: one process then plays a ring that would span thousands of machines.
    pub fn lab_time_scale(n: usize) -> f64 {
        (n as f64 / 2048.0).clamp(0.05, 1.0)
    }

    /// A maintenance period at this node's time scale.
    pub fn period(&self, base: Duration) -> Duration {
        base.mul_f64(self.time_scale.max(0.001))
    }
}

/// What the node knows. Only its coordinator reads or writes it.
pub(crate) struct State {
    /// None until someone notifies us, or after the predecessor failed.
    pub pred: Option<NodeRef>,
    /// The successor list, nearest first; never holds ourselves. Empty: we are alone.
    pub succs: Vec<NodeRef>,
    /// `fingers[i] = successor(n + 2^i)`, None when that is ourselves or unknown.
    pub fingers: Vec<Option<NodeRef>>,
    /// The finger fix-fingers refreshes next.
    pub next_finger: u32,
    pub store: Store,
    /// Where we joined, to rejoin if every neighbour we knew has failed.
    pub bootstrap: Option<SocketAddr>,
}

impl State {
    /// A node alone, its store capped at `store_bytes`.
    pub fn new(bits: u32, store_bytes: usize) -> State {
        State {
            pred: None,
            succs: Vec::new(),
            fingers: vec![None; bits as usize],
            next_finger: 1,
            store: Store::with_cap(bits, store_bytes),
            bootstrap: None,
        }
    }

    /// True if `me` owns `id`: it lies in (predecessor, me]. Without a predecessor we
    /// act as owner, as Chord's lone node does.
    pub fn owns(&self, me: &NodeRef, id: &Id) -> bool {
        self.pred.is_none_or(|p| in_half_open(id, &p.id, &me.id))
    }

    /// Every node we know, for routing around failures.
    pub fn known(&self) -> Vec<NodeRef> {
        let mut v: Vec<NodeRef> = self.succs.clone();
        v.extend(self.fingers.iter().flatten());
        v.extend(self.pred);
        v
    }

    pub fn set_succs(&mut self, succs: Vec<NodeRef>) {
        if let Some(f) = self.fingers.first_mut() {
            *f = succs.first().copied();
        }
        self.succs = succs;
    }

    /// Drops a node that failed to answer from every table.
    pub fn forget(&mut self, n: &NodeRef) {
        let succs: Vec<NodeRef> = self.succs.iter().filter(|s| *s != n).copied().collect();
        self.set_succs(succs);
        for f in self.fingers.iter_mut() {
            if f.as_ref() == Some(n) {
                *f = None;
            }
        }
        if self.pred.as_ref() == Some(n) {
            self.pred = None;
        }
    }
}

/// What the labs and tests may read of a node's state.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub me: NodeRef,
    pub pred: Option<NodeRef>,
    pub succs: Vec<NodeRef>,
    pub fingers: Vec<Option<NodeRef>>,
    /// Keys held, as owner or replica.
    pub keys: usize,
    /// Bytes the store is charged for them, at most `Config::store_bytes`.
    pub stored_bytes: usize,
    /// Values evicted so far because the store was full.
    pub evicted: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_is_log2_n_rounded_up_at_least_3() {
        assert_eq!(Config::r_for(2), 3);
        assert_eq!(Config::r_for(8), 3);
        assert_eq!(Config::r_for(9), 4);
        assert_eq!(Config::r_for(32), 5);
        assert_eq!(Config::r_for(64), 6);
        assert_eq!(Config::r_for(100), 7);
    }
}
