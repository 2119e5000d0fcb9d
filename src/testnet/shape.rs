//! A link's rate, as the kernel's token bucket filter (`tc qdisc … tbf`) enforces it.
//!
//! The notes' u_i and d_i are rates in bits per second. `tbf` lets a packet leave when
//! its bucket holds enough tokens; the bucket fills at `rate` and holds at most `burst`
//! bytes, so a link that was idle may send up to `burst` bytes at once. A measured
//! transfer of F bytes therefore takes at least (F − burst) / rate: the burst is kept
//! small (a few milliseconds of the rate) so that the 6.2 bound is what a lab sees.

/// How long a full bucket lasts at the link's rate: short, so a shaped transfer is
/// close to F / rate, yet several packets long, so the qdisc is not starved by timer jitter.
pub const BURST_TIME_MS: u64 = 10;

/// The smallest bucket that still passes a full-size Ethernet frame plus headers; tbf
/// drops a packet larger than its bucket forever.
pub const MIN_BURST_BYTES: u64 = 3_200;

/// How long a packet may wait in the queue before tbf drops it: TCP backs off on the
/// drop, which is how a real bottleneck link tells a sender to slow down.
pub const QUEUE_LATENCY_MS: u64 = 100;

/// One direction of a link: `bits_per_s` of payload capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub bits_per_s: u64,
}

impl Rate {
    pub fn bytes_per_s(bytes: u64) -> Rate {
        Rate {
            bits_per_s: bytes.saturating_mul(8),
        }
    }

    pub fn mbit(mbit: u64) -> Rate {
        Rate {
            bits_per_s: mbit.saturating_mul(1_000_000),
        }
    }

    /// The bucket size for this rate (see [`BURST_TIME_MS`]).
    pub fn burst_bytes(self) -> u64 {
        (self.bits_per_s / 8 * BURST_TIME_MS / 1000).max(MIN_BURST_BYTES)
    }
}

/// The `tc` arguments that shape egress of `dev` to `rate`: a pure function, so a test
/// (and a student) can read exactly what is asked of the kernel.
pub fn tbf_args(dev: &str, rate: Rate) -> Vec<String> {
    [
        "qdisc",
        "replace",
        "dev",
        dev,
        "root",
        "tbf",
        "rate",
        &format!("{}bit", rate.bits_per_s),
        "burst",
        &rate.burst_bytes().to_string(),
        "latency",
        &format!("{QUEUE_LATENCY_MS}ms"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_megabit_link() {
        let r = Rate::mbit(16);
        // 16 Mbit/s = 2,000,000 B/s; 10 ms of it = 20,000 bytes of bucket.
        assert_eq!(r.burst_bytes(), 20_000);
        assert_eq!(
            tbf_args("eth0", r).join(" "),
            "qdisc replace dev eth0 root tbf rate 16000000bit burst 20000 latency 100ms"
        );
    }

    #[test]
    fn a_slow_link_still_passes_a_full_frame() {
        // 64 kbit/s would give an 80-byte bucket; a 1,514-byte frame would never fit.
        assert_eq!(Rate::bytes_per_s(8_000).burst_bytes(), MIN_BURST_BYTES);
    }
}
