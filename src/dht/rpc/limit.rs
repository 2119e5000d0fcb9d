//! A rate limit per source address (限速): a token bucket each, in a bounded table.
//!
//! A node's reader thread asks [`Limiter::allow`] before it decodes a datagram. A peer
//! that floods valid requests empties its own bucket and is dropped at the door (and
//! counted), so the coordinator's queue keeps room for everyone else. Honest peers send
//! a few requests per maintenance round and per lookup hop, far below [`RATE`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

/// Requests per second one source may send on average.
pub const RATE: f64 = 1000.0;
/// Requests one source may send at once (a hand-over of many STOREs, a retry burst).
pub const BURST: f64 = 200.0;
/// Sources remembered. A full table first forgets buckets that have refilled (they are
/// no different from a new one), then the source heard from longest ago.
pub const SOURCES: usize = 1024;

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub struct Limiter {
    buckets: HashMap<SocketAddr, Bucket>,
    rate: f64,
    burst: f64,
    cap: usize,
}

impl Limiter {
    pub fn new(rate: f64, burst: f64, cap: usize) -> Limiter {
        Limiter {
            buckets: HashMap::new(),
            rate,
            burst,
            cap: cap.max(1),
        }
    }

    /// True if `from` may send one more request at `now`; takes its token.
    pub fn allow(&mut self, from: SocketAddr, now: Instant) -> bool {
        if !self.buckets.contains_key(&from) && self.buckets.len() >= self.cap {
            self.make_room(now);
        }
        let b = self.buckets.entry(from).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let refill = now.saturating_duration_since(b.at).as_secs_f64() * self.rate;
        b.tokens = (b.tokens + refill).min(self.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Sources in the table.
    pub fn sources(&self) -> usize {
        self.buckets.len()
    }

    fn make_room(&mut self, now: Instant) {
        let (rate, burst) = (self.rate, self.burst);
        self.buckets.retain(|_, b| {
            b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < burst
        });
        if self.buckets.len() >= self.cap {
            let oldest = self
                .buckets
                .iter()
                .min_by_key(|(_, b)| b.at)
                .map(|(a, _)| *a);
            oldest.map(|a| self.buckets.remove(&a));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn a_flooder_runs_dry_and_others_are_not_touched() {
        let t = Instant::now();
        let mut l = Limiter::new(10.0, 5.0, 4);
        let allowed = (0..100).filter(|_| l.allow(addr(1), t)).count();
        assert_eq!(allowed, 5, "the burst, then nothing");
        assert!(l.allow(addr(2), t), "another source has its own bucket");
        // 0.5 s later at 10 per second: 5 more tokens.
        let later = t + Duration::from_millis(500);
        assert_eq!((0..100).filter(|_| l.allow(addr(1), later)).count(), 5);
    }

    #[test]
    fn the_table_stays_bounded() {
        let t = Instant::now();
        let mut l = Limiter::new(10.0, 5.0, 4);
        for _ in 0..5 {
            l.allow(addr(1), t); // empty: worth keeping
        }
        for p in 2..100 {
            l.allow(addr(p), t);
        }
        assert!(l.sources() <= 4);
    }
}
