//! The ring at scale (issue #16): N nodes in one process, built and settled, measured.
//!
//! [`measure`] starts a [`LocalRing`] of N nodes (join waves that double the ring), waits
//! until every successor list, predecessor and finger is exact, then looks up random ids
//! and reads what the process costs per node ([`crate::usage::Usage`]: threads, resident
//! memory, open files). `lab-dht --scale` and `bench-dht` print its rows; the sizes and
//! the growth from N to 4N are the ones every scale run shares ([`crate::scale`]).
//!
//! Limits of one process on the lab machine, and what a node takes of them:
//!
//! | limit | value | per node |
//! |---|---|---|
//! | `ulimit -n` (files) | 20,000 | 1 socket, and 1 to 3 private sockets for its calls |
//! | `kernel.pid_max` (threads) | 32,768 | `THREADS_PER_NODE` = 3 (no keys: no store worker) |
//! | `vm.max_map_count` | 65,530 | 4 per thread (stack, guard page, signal stack, its guard) |
//!
//! So [`SCALE_MAX`] = 4,096 nodes use about 12,300 threads, 49,000 maps and 12,000
//! files. With four threads per node they needed 65,536 maps, and the 4,096th node's
//! threads could not start (measured: "failed to allocate an alternative stack").

use super::local::LocalRing;
use super::policy::Routing;
use super::state::Config;
use crate::rng::Rng;
use crate::scale::{self, Measured, Point};
use crate::usage::{self, Usage};
use std::time::{Duration, Instant};

/// The largest ring the labs build in one process (see the table above), and tested.
pub const SCALE_MAX: usize = 4096;
/// How often a ring that is settling says how far it has got.
pub const SHOW_EVERY: Duration = Duration::from_secs(10);

/// One ring's figures.
#[derive(Clone, Debug)]
pub struct ScaleRow {
    pub n: usize,
    /// Seconds to start every node and link the ring (successors and predecessors).
    pub build_s: f64,
    /// Seconds more until every successor list and finger is exact.
    pub settle_s: f64,
    pub mean_hops: f64,
    /// Chord's expected mean, ½·log2 N.
    pub half_log2: f64,
    /// Threads, resident KiB and open files per node.
    pub per_node: Usage,
    /// The machine's 1-minute load average when the ring was measured: the timings
    /// depend on what else the two cores were doing.
    pub load1: f64,
}

impl ScaleRow {
    /// Mean hops against ½·log2 N, in percent.
    pub fn hops_error(&self) -> f64 {
        (self.mean_hops - self.half_log2) / self.half_log2 * 100.0
    }

    pub const HEADER: &'static str =
        "     N  build s  settle s  total s  mean hops  ½·log2 N   error  threads/node  RSS KiB/node  fds/node   load";

    pub fn line(&self) -> String {
        format!(
            "{:>6} {:>8.1} {:>9.1} {:>8.1} {:>10.2} {:>9.2} {:>+6.1}% {:>13.2} {:>13.0} {:>9.2} {:>6.1}",
            self.n,
            self.build_s,
            self.settle_s,
            self.build_s + self.settle_s,
            self.mean_hops,
            self.half_log2,
            self.hops_error(),
            self.per_node.threads,
            self.per_node.rss_kib,
            self.per_node.fds,
            self.load1
        )
    }
}

impl Measured for ScaleRow {
    fn point(&self) -> Point {
        Point::new(self.n, self.build_s + self.settle_s, self.per_node)
    }
}

/// The ring sizes of a scale run: `from`, 4·`from`, ... up to `max` (at most [`SCALE_MAX`]).
pub fn sizes(from: usize, max: usize) -> Vec<usize> {
    scale::times(from.max(2), 4, max.min(SCALE_MAX))
}

/// Builds and settles a ring of `n`, runs `lookups` random lookups, measures, stops it.
/// Fails if the ring does not settle within `limit`.
pub fn measure(n: usize, lookups: usize, seed: u64, limit: Duration) -> Result<ScaleRow, String> {
    let before = Usage::now();
    let mut cfg = Config::new(160);
    cfg.r = Config::r_for(n);
    cfg.time_scale = Config::lab_time_scale(n);
    cfg.scale_with_ring = true;
    let t = Instant::now();
    let mut ring = LocalRing::start(n, &cfg).map_err(|e| format!("N = {n}: {e}"))?;
    let build_s = t.elapsed().as_secs_f64();
    let mut last = None;
    let settled = ring.wait_settled_showing(true, limit, SHOW_EVERY, |u, waited| {
        log::info!("N = {n}: after {:.0} s settling: {u}", waited.as_secs_f64());
        last = Some(*u);
    });
    if !settled {
        let what = last.map_or(String::new(), |u| format!(" ({u})"));
        return Err(format!(
            "N = {n}: the ring did not settle within {} s{what}",
            limit.as_secs()
        ));
    }
    let settle_s = t.elapsed().as_secs_f64() - build_s;
    let per_node = Usage::now().per_node(&before, n);
    let mean_hops = ring
        .mean_hops(lookups, Routing::Fingers, &mut Rng::new(seed))
        .map_err(|e| format!("N = {n}: a lookup failed: {e}"))?;
    ring.stop();
    Ok(ScaleRow {
        n,
        build_s,
        settle_s,
        mean_hops,
        half_log2: (n as f64).log2() / 2.0,
        per_node,
        load1: usage::load1(),
    })
}
