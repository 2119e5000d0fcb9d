//! The same swarm with every peer on its own host (notes 6.2 on real links).
//!
//! [`run_swarm_hosts`] puts the tracker and the seed on host 0 of a [`Testnet`] and
//! leecher i on host i. Nobody's rate is limited in code: the hosts' links, shaped by the
//! kernel to u_s and u_i, are the only limit. Every node binds its host's own address, so
//! the tracker sees and hands out real per-host addresses, as on a real network.

use super::SwarmConfig;
use crate::bittorrent::make::make_torrent;
use crate::bittorrent::node::{download_paths, seed_paths, Client, ClientConfig};
use crate::bittorrent::tracker::{Tracker, TrackerConfig};
use crate::rng::Rng;
use crate::share::ids::sha1_file;
use crate::testnet::{Host, Testnet};
use std::fs;
use std::io;
use std::time::{Duration, Instant};

/// What a swarm on real links measured.
#[derive(Debug, Clone)]
pub struct HostsRun {
    pub leechers: usize,
    /// From the leechers' start until the last one completed; `None`: the timeout hit.
    pub distribution_time: Option<Duration>,
    /// Every leecher's copy has the seed's SHA-1.
    pub all_verified: bool,
    /// Bytes the seed uploaded.
    pub seed_uploaded: u64,
}

/// Runs `f` on `host` (its sockets and threads live there) and returns what it made.
fn on<T: Send + 'static>(
    host: &Host,
    name: &str,
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    host.spawn(name, f)?
        .join()
        .map_err(|_| io::Error::other(format!("{name}: thread panicked")))?
        .map_err(io::Error::other)?
}

/// The swarm of `cfg` (its size, F, piece length, policies, time scale, seed and
/// timeout; its rates are ignored) with one leecher per host 1 ..= N.
pub fn run_swarm_hosts(net: &Testnet, cfg: &SwarmConfig) -> io::Result<HostsRun> {
    let n = cfg.peers.len();
    let hosts = net.hosts();
    if hosts.len() < n + 1 {
        return Err(io::Error::other(format!(
            "{n} leechers need {} hosts, the testnet has {}",
            n + 1,
            hosts.len()
        )));
    }
    let seed_dir = cfg.work_dir.join("seed");
    fs::create_dir_all(&seed_dir)?;
    let src = seed_dir.join("file.bin");
    fs::write(&src, Rng::new(cfg.seed).bytes(cfg.file_size as usize))?;
    let want = sha1_file(&src)?;

    let listen = |h: &Host| format!("{}:0", h.addr);
    let tracker_cfg = TrackerConfig {
        interval: Duration::from_secs(60)
            .mul_f64(cfg.time_scale)
            .max(Duration::from_secs(1)),
    };
    let at = listen(&hosts[0]);
    let mut tracker = on(&hosts[0], "tracker", move || {
        Tracker::start(&at, tracker_cfg)
    })?;
    let meta = make_torrent(&src, cfg.piece_length, Some(tracker.announce_url()))?;
    let node_cfg = |h: &Host, i: u64| ClientConfig {
        listen: listen(h),
        neighbours: cfg.neighbours,
        picker: cfg.picker,
        choker: cfg.choker,
        time_scale: cfg.time_scale,
        rng_seed: Some(cfg.seed.wrapping_mul(1000).wrapping_add(i)),
        max_peers: cfg.max_peers(),
        ..ClientConfig::default()
    };
    let (m, paths, c) = (
        meta.clone(),
        seed_paths(&meta, &src),
        node_cfg(&hosts[0], 0),
    );
    let mut seed = on(&hosts[0], "seed", move || {
        Client::start(m, &paths, false, c)
    })?;

    let start = Instant::now();
    let mut leechers = Vec::with_capacity(n);
    let mut files = Vec::with_capacity(n);
    for (i, h) in hosts[1..=n].iter().enumerate() {
        let dir = cfg.work_dir.join(format!("peer{i}"));
        fs::create_dir_all(&dir)?;
        let paths = download_paths(&meta, &dir);
        files.push(paths[0].clone());
        let (m, c) = (meta.clone(), node_cfg(h, i as u64 + 1));
        leechers.push(on(h, &format!("peer{i}"), move || {
            Client::start(m, &paths, true, c)
        })?);
    }
    let done = crate::wait::until(cfg.timeout, || {
        leechers.iter().all(|l| l.completed_at().is_some())
    });
    let distribution_time = done.then(|| {
        leechers
            .iter()
            .filter_map(Client::completed_at)
            .map(|t| t.saturating_duration_since(start))
            .max()
            .unwrap_or_default()
    });
    let seed_uploaded = seed.progress().uploaded;
    for l in &mut leechers {
        l.stop();
    }
    seed.stop();
    tracker.stop();
    let mut all_verified = done;
    for f in &files {
        all_verified &= sha1_file(f).map(|h| h == want).unwrap_or(false);
    }
    Ok(HostsRun {
        leechers: n,
        distribution_time,
        all_verified,
        seed_uploaded,
    })
}
