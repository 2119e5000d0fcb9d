//! How much of the swarm's upload capacity (u_s + Σu_i) was in use, and when.
//!
//! The bound N·F/(u_s + Σu_i) of notes 6.2 assumes every uplink busy from the first
//! second to the last. A real swarm loses time at three places:
//!
//! ```text
//!   ramp-up   at first only the seed has pieces: a peer can upload only once it has a
//!             whole piece (256 KiB) that a neighbour lacks
//!   middle    every uplink should be busy; idle ones mean no unchoked neighbour wants
//!             what it has, or requests arrive too late to keep it fed
//!   end       the last peers fetch their last pieces while the finished ones idle
//! ```
//! [`UplinkUse`] collects the swarm's total uploaded bytes at each observer call and
//! tells how long the ramp-up took (until a one-second window first used [`BUSY`] of the
//! capacity) and what share was used from then until the first peer finished.

use super::Snapshot;
use std::time::Duration;

/// The shortest window a share is measured over: the observer runs every 250 ms, and
/// later when the machine is busy.
pub const WINDOW: Duration = Duration::from_secs(1);
/// The share of the capacity that ends the ramp-up.
pub const BUSY: f64 = 0.9;

/// Total uploaded bytes over time, against a capacity in bytes/s.
#[derive(Debug, Clone)]
pub struct UplinkUse {
    capacity: f64,
    /// (seconds since the swarm started, bytes uploaded by all nodes so far)
    samples: Vec<(f64, u64)>,
}

impl UplinkUse {
    pub fn new(capacity_bytes_per_s: f64) -> UplinkUse {
        UplinkUse {
            capacity: capacity_bytes_per_s,
            samples: vec![(0.0, 0)],
        }
    }

    /// Records what every node (the seed included) has uploaded by this snapshot.
    pub fn sample(&mut self, s: &Snapshot) {
        let up = s.rows.iter().map(|r| r.uploaded).sum();
        self.push(s.elapsed.as_secs_f64(), up);
    }

    pub fn push(&mut self, t: f64, uploaded: u64) {
        self.samples.push((t, uploaded));
    }

    /// The share of the capacity used in each window of at least [`WINDOW`]: (end, share).
    pub fn windows(&self) -> Vec<(f64, f64)> {
        let mut out = Vec::new();
        let mut from = self.samples[0];
        for &(t, up) in &self.samples[1..] {
            if t - from.0 >= WINDOW.as_secs_f64() {
                out.push((t, self.share(from, (t, up))));
                from = (t, up);
            }
        }
        out
    }

    /// When the swarm first used [`BUSY`] of its capacity over a window (None: never).
    pub fn ramp_up(&self) -> Option<f64> {
        self.windows()
            .into_iter()
            .find(|&(_, s)| s >= BUSY)
            .map(|(t, _)| t)
    }

    /// The share used from the last sample at or before `a` to the first at or after `b`.
    pub fn between(&self, a: f64, b: f64) -> Option<f64> {
        let from = self.samples.iter().rev().find(|s| s.0 <= a)?;
        let to = self.samples.iter().find(|s| s.0 >= b)?;
        (to.0 > from.0).then(|| self.share(*from, *to))
    }

    fn share(&self, (t0, u0): (f64, u64), (t1, u1): (f64, u64)) -> f64 {
        u1.saturating_sub(u0) as f64 / (t1 - t0) / self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramp_up_ends_at_the_first_busy_window() {
        // Capacity 100 B/s: 20 %, 60 %, then 95 % and 100 % over one-second steps.
        let mut u = UplinkUse::new(100.0);
        let mut total = 0;
        for (i, rate) in [20, 60, 95, 100].into_iter().enumerate() {
            total += rate;
            u.push(i as f64 + 1.0, total);
        }
        let shares: Vec<f64> = u.windows().iter().map(|w| w.1).collect();
        assert_eq!(shares, [0.2, 0.6, 0.95, 1.0]);
        assert_eq!(u.ramp_up(), Some(3.0));
        // From 2 s to 4 s: 195 bytes in 2 s of 100 B/s.
        assert_eq!(u.between(2.0, 4.0), Some(0.975));
        assert_eq!(u.between(2.0, 9.0), None, "no sample at or after 9 s");
    }

    #[test]
    fn short_gaps_merge_into_one_window() {
        let mut u = UplinkUse::new(10.0);
        for (t, up) in [(0.25, 1), (0.5, 2), (1.0, 10), (1.5, 14), (2.25, 20)] {
            u.push(t, up);
        }
        assert_eq!(u.windows(), [(1.0, 1.0), (2.25, 0.8)]);
        assert_eq!(u.ramp_up(), Some(1.0));
    }
}
