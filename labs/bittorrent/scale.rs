//! `lab-bittorrent --scale` (issue #16): swarms of 8, 16, 32, 64 and 128 peers on one
//! file, u_s = 4 MiB/s and u_i = 1 MiB/s as in the lab. The notes' claim (6.2): a
//! client-server distribution takes N·F/u_s, growing with N, while a P2P swarm's bound
//! N·F/(u_s + Σu_i) flattens towards F/u_i, because every newcomer brings upload
//! capacity. The table and the chart put each measured time beside both bounds, and
//! two columns say where the time beyond the bound went (`swarm/uplink.rs`): the
//! ramp-up (until the swarm first used 90 % of u_s + Σu_i over a second) and the share
//! of that capacity used from then until the first peer finished.
//! Shared with `bench-bittorrent_swarm`.
// Shared by lab-bittorrent and bench-bittorrent_swarm; each uses a part.
#![allow(dead_code)]

use p2plab::bittorrent::swarm::uplink::UplinkUse;
use p2plab::bittorrent::swarm::{run_swarm, Snapshot, SwarmConfig};
use p2plab::distribution::chart::{save, svg, Series, Style};
use p2plab::distribution::{cs_bound, Bound};
use p2plab::scale::{self, CostTable, Measured, Point};
use p2plab::usage::Usage;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;
/// The smallest swarm of the curve; each next one is twice as large: 8, 16, ... 128.
pub const FIRST: usize = 8;
/// The largest swarm the lab is tested with (issue #16: 128 peers within 1.3 × the bound).
pub const MAX_PEERS: usize = 128;
/// The seed's and each peer's upload caps, as in the lab's defaults.
pub const SEED_UP: u64 = 4 * MIB;
pub const PEER_UP: u64 = MIB;

/// One swarm's figures.
#[derive(Debug, Clone)]
pub struct Row {
    pub n: usize,
    pub file_size: u64,
    /// The P2P bound max{F/u_s, F/d_min, N·F/(u_s + Σu_i)}.
    pub bound: Bound,
    /// A client-server distribution of the same file: N·F/u_s.
    pub cs_s: f64,
    /// The distribution time (None: a peer never finished).
    pub measured_s: Option<f64>,
    /// When half the peers had the file, and when the first did: a last peer far
    /// behind the median is a straggler; all of them late is a slow swarm.
    pub median_s: f64,
    pub first_s: f64,
    /// Where the time beyond the bound went (`swarm/uplink.rs`): seconds until the
    /// swarm first used 90 % of its upload capacity, and the share it used from then
    /// until the first peer finished.
    pub ramp_s: Option<f64>,
    pub mid_use: Option<f64>,
    /// Seconds of the whole run: files written, nodes started, swarm, stop, SHA-1 checks.
    pub wall_s: f64,
    /// The most threads, resident KiB and files the run held at once, per node
    /// (the seed and the peers; the tracker counts with them).
    pub peak: Usage,
    pub verified: bool,
}

impl Measured for Row {
    fn point(&self) -> Point {
        Point::new(self.n, self.wall_s, self.peak)
    }
}

impl Row {
    pub fn ratio(&self) -> f64 {
        self.measured_s.map_or(f64::NAN, |m| m / self.bound.seconds)
    }
}

/// `v` peers, at most [`MAX_PEERS`], saying so when it had to change it.
pub fn clamp_peers(v: usize) -> usize {
    p2plab::opts::clamp("lab-bittorrent", "peers", v, 1, MAX_PEERS)
}

/// Where the swarms write their files: memory when the machine has /dev/shm.
pub fn work_base() -> PathBuf {
    if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    }
}

/// Runs one swarm of `n` altruistic peers on a `file_size` file and measures it,
/// sampling the process's threads and memory at every observer call (4 per second).
/// `neighbours`: how many peers each one calls (None: `SwarmConfig::uniform`'s).
pub fn measure(
    n: usize,
    file_size: u64,
    time_scale: f64,
    seed: u64,
    neighbours: Option<usize>,
) -> Result<Row, String> {
    let work = work_base().join(format!("p2plab-swarm-scale-{}-{n}", std::process::id()));
    let mut cfg = SwarmConfig::uniform(n, file_size, Some(SEED_UP), Some(PEER_UP), work.clone());
    cfg.time_scale = time_scale;
    if let Some(k) = neighbours {
        cfg.neighbours = k;
    }
    cfg.seed = seed;
    cfg.timeout = Duration::from_secs(600);
    let before = Usage::now();
    let mut peak = before;
    let mut uplink = UplinkUse::new(cfg.upload_capacity().unwrap_or(f64::NAN));
    let mut sample = |s: &Snapshot| {
        uplink.sample(s);
        let u = Usage::now();
        peak.threads = peak.threads.max(u.threads);
        peak.rss_kib = peak.rss_kib.max(u.rss_kib);
        peak.fds = peak.fds.max(u.fds);
    };
    let t = Instant::now();
    let r = run_swarm(&cfg, Some(&mut sample));
    let wall_s = t.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&work);
    let r = r.map_err(|e| format!("N = {n}: {e}"))?;
    let mut done: Vec<f64> = r
        .peers
        .iter()
        .filter_map(|p| Some(p.completed?.as_secs_f64()))
        .collect();
    done.sort_by(f64::total_cmp);
    let first_s = done.first().copied().unwrap_or(f64::NAN);
    let ramp_s = uplink.ramp_up();
    Ok(Row {
        median_s: done.get(done.len() / 2).copied().unwrap_or(f64::NAN),
        first_s,
        ramp_s,
        mid_use: ramp_s.and_then(|r| uplink.between(r, first_s)),
        n,
        file_size,
        bound: r.bound,
        cs_s: cs_bound(file_size as f64, n, SEED_UP as f64, f64::INFINITY).seconds,
        measured_s: r.distribution_time.map(|d| d.as_secs_f64()),
        wall_s,
        peak: peak.per_node(&before, n + 1),
        verified: r.all_verified,
    })
}

pub fn table(rows: &[Row]) -> CostTable {
    let mut t = CostTable::new(
        &[
            "N",
            "C/S N·F/u_s (s)",
            "P2P bound (s)",
            "ramp-up (s)",
            "use after (%)",
            "first (s)",
            "median (s)",
            "measured (s)",
            "ratio",
            "run (s)",
        ],
        &["sha1"],
    );
    for r in rows {
        t.row(
            &[
                &r.n,
                &format!("{:.1}", r.cs_s),
                &format!("{:.2}", r.bound.seconds),
                &r.ramp_s.map_or("-".into(), |t| format!("{t:.1}")),
                &r.mid_use
                    .map_or("-".into(), |u| format!("{:.1}", 100.0 * u)),
                &format!("{:.2}", r.first_s),
                &format!("{:.2}", r.median_s),
                &r.measured_s.map_or("-".into(), |m| format!("{m:.2}")),
                &format!("{:.3}", r.ratio()),
                &format!("{:.1}", r.wall_s),
            ],
            &r.peak,
            &[&if r.verified { "ok" } else { "WRONG" }],
        );
    }
    t
}

/// The textbook figure at these sizes: measured times beside both bounds.
pub fn chart(rows: &[Row], path: &Path) -> Result<(), String> {
    let measured = rows
        .iter()
        .filter_map(|r| Some((r.n as f64, r.measured_s?)))
        .collect();
    let mut series = scale::series(
        rows,
        &[
            ("client-server N·F/u_s", "#1f77b4", Style::Line, &|r| {
                r.cs_s
            }),
            ("P2P bound", "#2ca02c", Style::Line, &|r| r.bound.seconds),
        ],
    );
    series.push(Series::new(
        "swarm, measured",
        "#d62728",
        Style::Points,
        measured,
    ));
    let mb = rows.first().map_or(0, |r| r.file_size / MIB);
    let doc = svg(
        &format!("BitTorrent: distribution time of a {mb} MiB file as the swarm grows"),
        "peers N",
        "seconds",
        &series,
    );
    save(path, &doc)
}

/// The sizes of the curve up to `max`: 8, 16, 32, 64, 128.
pub fn sizes(max: usize) -> Vec<usize> {
    scale::times(FIRST, 2, max)
}

/// `lab-bittorrent --scale`: one swarm per size, the table, N -> 4N, the chart.
pub fn run(
    max: usize,
    file_size: u64,
    time_scale: f64,
    seed: u64,
    path: &Path,
) -> Result<(), String> {
    println!(
        "lab-bittorrent --scale: u_s = 4 MiB/s, u_i = 1 MiB/s, F = {} MiB, time scale {time_scale}; N = {:?}\n",
        file_size / MIB,
        sizes(max)
    );
    let rows = scale::run_sizes(
        &sizes(max),
        |n| measure(n, file_size, time_scale, seed, None),
        |r| {
            println!(
                "   N = {:>3}: {} against a bound of {:.2} s, run {:.1} s",
                r.n,
                r.measured_s
                    .map_or("did not finish".into(), |m| format!("{m:.2} s")),
                r.bound.seconds,
                r.wall_s
            )
        },
    )?;
    let how = "the run's peak /proc/self figures above the start, divided by N + 1 (the seed)";
    scale::print_growth_section(&table(&rows), &rows, how);
    chart(&rows, path)?;
    println!("\nchart: {}", path.display());
    if rows.iter().all(|r| r.verified) {
        Ok(())
    } else {
        Err("a copy failed its SHA-1 check".into())
    }
}
