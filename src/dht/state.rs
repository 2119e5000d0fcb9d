//! A node's state: its place on the ring, what it knows of its neighbours, its keys.
//!
//! [`State`] belongs to the node's coordinator thread (`node/coordinator.rs`) and to
//! nobody else: no lock, no sharing. Connection threads and workers never see it; they
//! send events, and the handle asks for a [`Snapshot`] by a command.

use super::id::{in_half_open, Id};
use super::policy::{successor_fingers, NodeRef, Routing};
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
    /// Labs and benches: use [`Config::lab_time_scale`] of the ring's size as this node
    /// estimates it ([`State::estimate_n`]; `time_scale` until it knows a successor), so
    /// a ring that grows from 2 to 4,096 nodes slows its maintenance as it grows.
    pub scale_with_ring: bool,
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
            scale_with_ring: false,
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
    /// whole ring's maintenance stays near a constant number of calls per second and
    /// leaves the two cores to the lookups being measured. Real time for 2,048 nodes
    /// and up: one process then plays a ring that would span thousands of machines.
    /// With [`Config::scale_with_ring`] each node applies it to its own estimate of n,
    /// so the small rings of a growing ring's first join waves run fast.
    pub fn lab_time_scale(n: usize) -> f64 {
        (n as f64 / 2048.0).clamp(0.05, 1.0)
    }

    /// A maintenance period at this node's time scale, for a ring of about `n` nodes
    /// (None: not known yet, so `time_scale`; a node waiting to join must not tick at
    /// the pace of a ring of one).
    pub fn period(&self, base: Duration, n: Option<f64>) -> Duration {
        let scale = match n {
            Some(n) if self.scale_with_ring => Config::lab_time_scale(n.round() as usize),
            _ => self.time_scale,
        };
        base.mul_f64(scale.max(0.001))
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

    /// The ring's size as seen from here: k successors cover a share d of the ring, so
    /// about k / d nodes fill all of it (the density estimate of the Chord paper). With
    /// r = log2 N successors it is within a few tens of percent, enough to pick a period.
    /// None while we know no successor (alone, or not yet joined).
    pub fn estimate_n(&self, me: &NodeRef, bits: u32) -> Option<f64> {
        let last = self.succs.last()?;
        let d = last.id.sub(&me.id, bits).fraction(bits);
        let k = self.succs.len() as f64;
        Some(if d > 0.0 {
            (k / d).max(k + 1.0)
        } else {
            k + 1.0
        })
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

    /// [`State::set_succs`], and the new first successor also takes every finger it
    /// owns ([`successor_fingers`]): what stabilize and a join do when they learn it.
    pub fn set_successors(&mut self, me: &NodeRef, bits: u32, succs: Vec<NodeRef>) {
        self.set_succs(succs);
        if let Some(s) = self.succs.first().copied() {
            successor_fingers(me, &mut self.fingers, &s, bits);
        }
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

    #[test]
    fn the_ring_size_is_estimated_from_the_successor_list() {
        // 8 nodes evenly on a 2^8 ring (0, 32, 64, ...), 3 successors each.
        let node = |v: u64| NodeRef {
            id: Id::from_u64(v, 8),
            addr: SocketAddr::from(([127, 0, 0, 1], 4000 + v as u16)),
        };
        let mut st = State::new(8, MAX_STORE_BYTES);
        assert_eq!(st.estimate_n(&node(0), 8), None, "alone");
        st.set_succs(vec![node(32), node(64), node(96)]);
        assert!((st.estimate_n(&node(0), 8).unwrap() - 8.0).abs() < 1e-9);
        st.set_succs(vec![node(0), node(32), node(64)]);
        let n = st.estimate_n(&node(224), 8).unwrap();
        assert!((n - 8.0).abs() < 1e-9, "wraps round 0");
    }

    #[test]
    fn a_lab_ring_slows_its_periods_as_it_grows() {
        let mut cfg = Config::new(160);
        cfg.time_scale = 0.5;
        let second = Duration::from_secs(1);
        assert_eq!(cfg.period(second, Some(64.0)), Duration::from_millis(500));
        cfg.scale_with_ring = true;
        assert_eq!(cfg.period(second, Some(64.0)), Duration::from_millis(50));
        assert_eq!(cfg.period(second, Some(1024.0)), Duration::from_millis(500));
        assert_eq!(cfg.period(second, Some(4096.0)), second);
        assert_eq!(
            cfg.period(second, None),
            Duration::from_millis(500),
            "not joined"
        );
    }
}
