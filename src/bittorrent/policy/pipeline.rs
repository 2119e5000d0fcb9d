//! How many block requests to keep outstanding at one peer (请求流水线 request pipelining).
//!
//! A request answered only after a round trip would leave the link idle for that
//! round trip, so a downloader keeps several requests queued at each peer. Too few and
//! the uploader waits for us; too many and the blocks we asked for wait in its queue:
//! with 64 blocks (1 MiB) queued at a peer that gives us 200 KiB/s, the last one comes
//! five seconds later. Those pieces are promised to a slow peer the whole time, other
//! peers that unchoked us find nothing left to send, and a piece reaches the next peer
//! only when it is complete. Real clients therefore size the queue by time, not by
//! count (libtorrent: the peer's rate × `request_queue_time`):
//!
//! ```text
//!   depth = rate from this peer × QUEUE_TIME / 16 KiB,   at least MIN_DEPTH, at most the cap
//! ```
//! A peer we have not measured yet gets [`MIN_DEPTH`]; the queue grows as its blocks
//! come in faster than the queue drains. `ClientConfig::pipeline` is the cap.

use std::time::{Duration, Instant};

/// How long a request should wait at a peer, at most, at the rate it sends us.
pub const QUEUE_TIME: Duration = Duration::from_millis(1000);
/// Requests outstanding at any unchoking peer however slow, and at a new one: enough
/// to keep a 1 MiB/s link busy across a 50 ms scheduling delay.
pub const MIN_DEPTH: usize = 4;
/// How often a peer's rate is measured again.
pub const RATE_WINDOW: Duration = Duration::from_millis(250);

const BLOCK: f64 = 16.0 * 1024.0;

/// Requests to keep outstanding at a peer that sends us `rate` bytes/s (None: not
/// measured yet), at most `cap`.
pub fn depth(rate: Option<f64>, cap: usize) -> usize {
    let cap = cap.max(1);
    let Some(rate) = rate else {
        return MIN_DEPTH.min(cap);
    };
    let want = (rate * QUEUE_TIME.as_secs_f64() / BLOCK).ceil() as usize;
    want.clamp(MIN_DEPTH.min(cap), cap)
}

/// The rate one peer sends us, measured over windows of [`RATE_WINDOW`].
#[derive(Debug, Clone)]
pub struct RateMeter {
    since: Instant,
    base: u64,
    rate: Option<f64>,
}

impl RateMeter {
    /// Starts measuring from the counter value `total`.
    pub fn new(total: u64) -> RateMeter {
        RateMeter {
            since: Instant::now(),
            base: total,
            rate: None,
        }
    }

    /// Bytes/s over the last full window, given the peer's byte counter now.
    pub fn update(&mut self, total: u64, now: Instant) -> Option<f64> {
        let dt = now.saturating_duration_since(self.since);
        if dt >= RATE_WINDOW {
            let r = total.saturating_sub(self.base) as f64 / dt.as_secs_f64();
            // Half the old figure, half the new: one late wake-up does not halve it.
            self.rate = Some(self.rate.map_or(r, |old| (old + r) / 2.0));
            (self.since, self.base) = (now, total);
        }
        self.rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_follows_the_rate() {
        // 200 KiB/s for a second is 200 KiB: 13 blocks of 16 KiB.
        assert_eq!(depth(Some(200.0 * 1024.0), 64), 13);
        // A slow or silent peer still gets MIN_DEPTH, a loopback one the cap.
        assert_eq!(depth(Some(0.0), 64), MIN_DEPTH);
        assert_eq!(depth(Some(1e9), 64), 64);
        assert_eq!(depth(None, 64), MIN_DEPTH);
        // The cap wins even over MIN_DEPTH (`--pipeline 1`).
        assert_eq!(depth(None, 1), 1);
    }

    #[test]
    fn the_meter_waits_for_a_full_window() {
        let t0 = Instant::now();
        let mut m = RateMeter::new(1000);
        assert_eq!(m.update(5000, t0), None, "no window has passed yet");
        let r = m
            .update(1000 + 256 * 1024, t0 + Duration::from_secs(1))
            .unwrap();
        assert!(
            (r - 256.0 * 1024.0).abs() < 1e-6 * r.max(1.0) + 1000.0,
            "{r}"
        );
    }
}
