//! Upload rate limiting: a token bucket.
//!
//! The distribution-time formula of the notes (6.2) is written in upload capacities:
//! the server's `u_s` and each peer's `u_i`. Loopback has no such limit (gigabytes per
//! second), so a node that should behave like a 1 MiB/s home uplink shares one bucket
//! among all its connections. Tokens are bytes; they refill at `rate` per second up to
//! `burst`; a writer takes tokens before each write and sleeps when there are none.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Largest single write through a limited writer: small enough that several
/// connections sharing a bucket interleave fairly.
const CHUNK: usize = 16 * 1024;

/// How much unused capacity a bucket keeps: a quarter second of traffic.
///
/// A real uplink has a queue in front of it (the socket's send buffer, the NIC's ring)
/// that keeps it busy while the program that fills it is late. Our bucket sits before
/// the socket, so a writer thread woken late loses link time a real link would not,
/// unless the bucket lets it catch up. On a 2-core machine running 129 BitTorrent
/// peers (about 5,700 threads) writers wake tens of milliseconds late: with 1/50 s of
/// burst a 128-peer swarm took 1.26-1.49 x its bound over seven runs; with 1/4 s,
/// 1.18-1.26 x over four (`bench-bittorrent_swarm --peers 128`). 1/4 s at 1 MiB/s is
/// 256 KiB, about what Linux lets a TCP send buffer hold.
pub const BURST: Duration = Duration::from_millis(250);

/// A shared byte budget refilled at a fixed rate.
#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    /// `rate` bytes per second, holding at most [`BURST`] of traffic (at least one chunk).
    /// The bucket starts empty: bytes written by time t never exceed `rate`·t, whatever
    /// the burst, so a measured transfer time can never beat the bound that the rate
    /// implies.
    pub fn new(rate_bytes_per_s: u64) -> Arc<TokenBucket> {
        let rate = rate_bytes_per_s.max(1) as f64;
        let burst = (rate * BURST.as_secs_f64()).max(CHUNK as f64);
        Arc::new(TokenBucket {
            rate,
            burst,
            state: Mutex::new((0.0, Instant::now())),
        })
    }

    /// The configured rate in bytes per second.
    pub fn rate(&self) -> u64 {
        self.rate as u64
    }

    /// Spends every token saved so far. An experiment that starts its clock and then
    /// empties the bucket can never be helped by tokens saved before its start.
    pub fn empty(&self) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        *st = (st.0.min(0.0), Instant::now());
    }

    /// Blocks until `n` bytes may be sent.
    pub fn take(&self, mut n: usize) {
        while n > 0 {
            let want = (n as f64).min(self.burst);
            let wait = {
                let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                st.0 = (st.0 + now.duration_since(st.1).as_secs_f64() * self.rate).min(self.burst);
                st.1 = now;
                // Go into debt rather than wait for a full `want`: waiters then queue
                // up in order instead of all racing for the same refill.
                st.0 -= want;
                if st.0 >= 0.0 {
                    0.0
                } else {
                    -st.0 / self.rate
                }
            };
            if wait > 0.0 {
                thread::sleep(Duration::from_secs_f64(wait));
            }
            n -= want as usize;
        }
    }
}

/// A writer that spends tokens from an optional shared bucket before each write.
pub struct LimitedWriter<W> {
    inner: W,
    bucket: Option<Arc<TokenBucket>>,
}

impl<W: Write> LimitedWriter<W> {
    pub fn new(inner: W, bucket: Option<Arc<TokenBucket>>) -> LimitedWriter<W> {
        LimitedWriter { inner, bucket }
    }

    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Write for LimitedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some(bucket) = &self.bucket else {
            return self.inner.write(buf);
        };
        let n = buf.len().min(CHUNK);
        bucket.take(n);
        self.inner.write_all(&buf[..n])?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlimited_writer_passes_everything() {
        let mut w = LimitedWriter::new(Vec::new(), None);
        w.write_all(&[1u8; 100_000]).unwrap();
        assert_eq!(w.into_inner().len(), 100_000);
    }

    #[test]
    fn limited_writer_writes_every_byte_in_chunks() {
        let mut w = LimitedWriter::new(Vec::new(), Some(TokenBucket::new(100 * 1024 * 1024)));
        w.write_all(&[7u8; 100_000]).unwrap();
        let out = w.into_inner();
        assert_eq!(out.len(), 100_000);
        assert!(out.iter().all(|&b| b == 7));
    }
}
