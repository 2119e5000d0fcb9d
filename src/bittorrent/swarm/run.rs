//! The runner: start the tracker, the seed and the peers; each turn, start, stop or
//! kill peers as their specs say and hand the observer a snapshot; at the end, check
//! every copy's SHA-1 and collect the figures.

use super::*;
use crate::bittorrent::make::make_torrent;
use crate::bittorrent::msg::handshake::PeerId;
use crate::bittorrent::node::NodeEvent;
use crate::bittorrent::node::{download_paths, seed_paths, Client, ClientConfig, PeerStats};
use crate::bittorrent::policy::pick::PickReason;
use crate::bittorrent::tracker::{Tracker, TrackerConfig};
use crate::rng::Rng;
use crate::share::ids::sha1_file;
use crossbeam_channel::unbounded;
use std::fs;
use std::io;
use std::time::{Duration, Instant};

fn id_for(name: &str) -> PeerId {
    let mut id = *b"-PL0001-------------";
    for (d, s) in id[8..].iter_mut().zip(name.bytes()) {
        *d = s;
    }
    id
}

struct Node {
    spec: PeerSpec,
    client: Option<Client>,
    status: Status,
}

/// Runs the swarm to its end. `observer` (a lab's live view) is called every
/// [`OBSERVE_EVERY`] on the runner's thread.
pub fn run_swarm(
    cfg: &SwarmConfig,
    mut observer: Option<&mut dyn FnMut(&Snapshot)>,
) -> io::Result<SwarmReport> {
    fs::create_dir_all(&cfg.work_dir)?;
    let seed_dir = cfg.work_dir.join("seed");
    fs::create_dir_all(&seed_dir)?;
    let src = seed_dir.join("file.bin");
    fs::write(&src, Rng::new(cfg.seed).bytes(cfg.file_size as usize))?;
    let want_sha1 = sha1_file(&src)?;
    let tracker_cfg = TrackerConfig {
        interval: Duration::from_secs(60)
            .mul_f64(cfg.time_scale)
            .max(Duration::from_secs(1)),
    };
    let mut tracker = Tracker::start("127.0.0.1:0", tracker_cfg)?;
    let meta = make_torrent(&src, cfg.piece_length, Some(tracker.announce_url()))?;
    let (ev_tx, ev_rx) = unbounded();
    let node_cfg = |name: &str, i: u64| ClientConfig {
        peer_id: Some(id_for(name)),
        neighbours: cfg.neighbours,
        picker: cfg.picker,
        choker: cfg.choker,
        time_scale: cfg.time_scale,
        rng_seed: Some(cfg.seed.wrapping_mul(1000).wrapping_add(i)),
        events: Some(ev_tx.clone()),
        max_peers: cfg.max_peers(),
        ..ClientConfig::default()
    };
    let seed_cfg = ClientConfig {
        upload_rate: cfg.seed_upload,
        ..node_cfg("seed", 0)
    };
    let mut seed = Client::start(meta.clone(), &seed_paths(&meta, &src), false, seed_cfg)?;
    let mut nodes: Vec<Node> = cfg
        .peers
        .iter()
        .map(|spec| Node {
            spec: spec.clone(),
            client: None,
            status: Status::NotYet,
        })
        .collect();
    let mut picks: std::collections::HashMap<String, Vec<(usize, PickReason)>> = Default::default();
    let start = Instant::now();
    // The seed was ready before the clock started; what its rate limit saved meanwhile
    // must not count, or a swarm could beat the notes' bound by that much.
    seed.empty_buckets();
    let mut last_observed = start - OBSERVE_EVERY;
    let mut events = Vec::new();
    loop {
        let elapsed = start.elapsed();
        for (i, n) in nodes.iter_mut().enumerate() {
            step(n, i, elapsed, &meta, &src, cfg, &node_cfg)?;
        }
        for (id, e) in ev_rx.try_iter() {
            if let NodeEvent::Picked { piece, reason } = e {
                picks.entry(name_of(&id)).or_default().push((piece, reason));
            }
            events.push((name_of(&id), e));
        }
        let finished = nodes.iter().all(|n| {
            n.spec.role == Role::Corrupt
                || matches!(n.status, Status::Done | Status::Left | Status::Killed)
        });
        if let Some(obs) = observer.as_mut() {
            if finished || last_observed.elapsed() >= OBSERVE_EVERY {
                last_observed = Instant::now();
                // Timed now, not at the top of the turn: on a busy machine the turn
                // can take a while, and the figures are read now.
                obs(&snapshot(
                    &seed,
                    &nodes,
                    start.elapsed(),
                    std::mem::take(&mut events),
                ));
            }
        }
        if finished || elapsed > cfg.timeout {
            break;
        }
        std::thread::sleep(POLL);
    }
    let mut report_peers = Vec::new();
    let mut all_verified = true;
    let mut distribution: Option<Duration> = Some(Duration::ZERO);
    let seed_links = named(seed.peer_stats());
    for n in &mut nodes {
        let Some(c) = n.client.as_mut() else {
            continue;
        };
        c.stop();
        let p = c.progress();
        let completed = c.completed_at().map(|t| t.duration_since(start));
        let sha1_ok = if completed.is_some() && n.spec.role != Role::Corrupt {
            let path = &download_paths(&meta, &cfg.work_dir.join(&n.spec.name))[0];
            Some(sha1_file(path)? == want_sha1)
        } else {
            None
        };
        all_verified &= sha1_ok != Some(false);
        let killed = n.status == Status::Killed;
        if n.spec.role != Role::Corrupt && !killed {
            distribution = match (distribution, completed) {
                (Some(d), Some(c)) => Some(d.max(c)),
                _ => None,
            };
        }
        report_peers.push(PeerResult {
            name: n.spec.name.clone(),
            role: n.spec.role,
            peer_id: c.peer_id(),
            joined: n.spec.join_after,
            completed,
            killed,
            uploaded: p.uploaded,
            downloaded: p.downloaded,
            sha1_ok,
            picks: picks.remove(&n.spec.name).unwrap_or_default(),
            links: named(c.peer_stats()),
        });
    }
    let seed_uploaded = seed.progress().uploaded;
    seed.stop();
    tracker.stop();
    Ok(SwarmReport {
        file_size: cfg.file_size,
        pieces: meta.info.num_pieces(),
        seed_uploaded,
        seed_links,
        peers: report_peers,
        distribution_time: distribution,
        all_verified,
        bound: cfg.bound(),
    })
}

/// Starts, stops or kills one node as its spec says.
fn step(
    n: &mut Node,
    i: usize,
    elapsed: Duration,
    meta: &crate::bittorrent::metainfo::Metainfo,
    src: &std::path::Path,
    cfg: &SwarmConfig,
    node_cfg: &dyn Fn(&str, u64) -> ClientConfig,
) -> io::Result<()> {
    match n.status {
        Status::NotYet if elapsed >= n.spec.join_after => {
            let dir = cfg.work_dir.join(&n.spec.name);
            fs::create_dir_all(&dir)?;
            let ccfg = ClientConfig {
                upload_rate: n.spec.upload,
                download_rate: n.spec.download,
                free_rider: n.spec.role == Role::FreeRider,
                corrupt: n.spec.role == Role::Corrupt,
                ..node_cfg(&n.spec.name, i as u64 + 1)
            };
            let client = if n.spec.role == Role::Corrupt {
                let copy = dir.join("file.bin");
                fs::copy(src, &copy)?;
                Client::start(meta.clone(), &seed_paths(meta, &copy), false, ccfg)?
            } else {
                let paths = download_paths(meta, &dir);
                if n.spec.start_with > 0.0 {
                    let mut rng = Rng::new(cfg.seed ^ (0xA5A5 + i as u64));
                    pre_seed(
                        src,
                        &paths[0],
                        meta.info.piece_length,
                        n.spec.start_with,
                        &mut rng,
                    )?;
                }
                Client::start(meta.clone(), &paths, true, ccfg)?
            };
            n.client = Some(client);
            n.status = Status::Running;
        }
        Status::Running | Status::Done => {
            let c = n.client.as_mut().expect("running nodes have a client");
            let p = c.progress();
            let kill = match n.spec.kill {
                Some(Kill::At(t)) => elapsed >= t,
                Some(Kill::AtProgress(f)) => {
                    !p.complete && p.pieces as f64 >= f * p.total_pieces as f64
                }
                None => false,
            };
            if kill && n.status == Status::Running {
                c.kill();
                n.status = Status::Killed;
            } else if p.complete && n.spec.role != Role::Corrupt && n.status == Status::Running {
                n.status = Status::Done;
                if n.spec.leave == Leave::Selfish {
                    c.stop();
                    n.status = Status::Left;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Writes a random `fraction` of the pieces of `src` into `dst` (zeros elsewhere):
/// the node finds them on disk, verifies them, and starts with them.
fn pre_seed(
    src: &std::path::Path,
    dst: &std::path::Path,
    piece_length: u64,
    fraction: f64,
    rng: &mut Rng,
) -> io::Result<()> {
    let data = fs::read(src)?;
    let mut out = vec![0u8; data.len()];
    let pl = piece_length as usize;
    let mut pieces: Vec<usize> = (0..data.len().div_ceil(pl)).collect();
    rng.shuffle(&mut pieces);
    let take = (fraction.clamp(0.0, 1.0) * pieces.len() as f64).round() as usize;
    for &i in &pieces[..take] {
        let r = i * pl..((i + 1) * pl).min(data.len());
        out[r.clone()].copy_from_slice(&data[r]);
    }
    fs::write(dst, out)
}

fn named(stats: Vec<PeerStats>) -> Vec<(String, PeerStats)> {
    stats
        .into_iter()
        .map(|s| (name_of(&s.peer_id), s))
        .collect()
}

fn snapshot(
    seed: &Client,
    nodes: &[Node],
    elapsed: Duration,
    events: Vec<(String, NodeEvent)>,
) -> Snapshot {
    let row = |name: &str, status, c: &Client| {
        let p = c.progress();
        PeerRow {
            name: name.into(),
            status,
            bitfield: c.bitfield(),
            uploaded: p.uploaded,
            downloaded: p.downloaded,
        }
    };
    let mut rows = vec![row("seed", Status::Done, seed)];
    for n in nodes {
        match &n.client {
            Some(c) => rows.push(row(&n.spec.name, n.status, c)),
            None => rows.push(PeerRow {
                name: n.spec.name.clone(),
                status: n.status,
                bitfield: crate::bittorrent::msg::bitfield::Bitfield::new(
                    seed.progress().total_pieces,
                ),
                uploaded: 0,
                downloaded: 0,
            }),
        }
    }
    Snapshot {
        elapsed,
        rows,
        events,
    }
}
