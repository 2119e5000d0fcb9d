//! A whole torrent on one machine: a tracker, one seed and N peers with upload caps,
//! run until every peer has the file, and measured (notes 6.2 and 6.5).
//!
//! ```text
//!   t = 0   tracker + seed (u_s) ─┐
//!           peer 1..N (u_i) ──────┴─ announce, connect to a few, trade pieces
//!   ...     selfish peers leave when done, altruistic ones keep seeding; churn
//!           kills some and starts others mid-run
//!   end     per-peer completion time, bytes up/down, SHA-1 of every copy,
//!           distribution time beside max{F/u_s, F/d_min, N·F/(u_s + Σu_i)}
//! ```
//! The labs, benches and tests all build swarms through [`run_swarm`]; the same call
//! serves the distribution-time lab (C/S against P2P with the same u_s and u_i).
//! Rates are real: every byte a peer uploads passes its token bucket. Only the
//! protocol's periods (rechoke, optimistic unchoke) shrink with `time_scale`.

use super::choker::ChokePolicy;
use super::client::{download_paths, seed_paths, Client, ClientConfig, PeerStats};
use super::handshake::PeerId;
use super::make::make_torrent;
use super::picker::{PickPolicy, PickReason};
use super::state::NodeEvent;
use super::tracker::{Tracker, TrackerConfig};
use crate::distribution::{p2p_bound, Bound};
use crate::rng::Rng;
use crate::share::ids::sha1_file;
use crossbeam_channel::unbounded;
use std::fs;
use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How often the runner looks at its peers (start, stop, kill, observe).
pub const POLL: Duration = Duration::from_millis(20);
/// How often the observer is called with a snapshot.
pub const OBSERVE_EVERY: Duration = Duration::from_millis(250);

/// What a peer does in the swarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Downloads, and uploads as tit-for-tat says.
    Leecher,
    /// Downloads, never unchokes anybody.
    FreeRider,
    /// Starts with the whole file and sends a wrong byte in every block.
    Corrupt,
}

/// What a peer does once it has the whole file (notes: 自私的离开 / 利他主义保留).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leave {
    Selfish,
    Altruistic,
}

/// When churn (扰动) kills a peer, without a goodbye to the tracker.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kill {
    /// At this time after the start.
    At(Duration),
    /// Once it has this fraction of the pieces (mid-run by construction).
    AtProgress(f64),
}

/// One peer of the swarm (not the seed).
#[derive(Debug, Clone, PartialEq)]
pub struct PeerSpec {
    /// Up to 12 characters; it becomes the peer id `-PL0001-<name>---`.
    pub name: String,
    /// Upload capacity u_i in bytes/s (None: unlimited).
    pub upload: Option<u64>,
    /// Download capacity d_i in bytes/s (None: unlimited).
    pub download: Option<u64>,
    pub role: Role,
    pub leave: Leave,
    /// Joins this long after the start (churn); zero for everyone else.
    pub join_after: Duration,
    pub kill: Option<Kill>,
    /// Fraction of the pieces it already holds at its start (a torrent in mid-life),
    /// chosen at random; 0 for a newcomer.
    pub start_with: f64,
}

impl PeerSpec {
    pub fn leecher(name: &str, upload: Option<u64>) -> PeerSpec {
        PeerSpec {
            name: name.into(),
            upload,
            download: None,
            role: Role::Leecher,
            leave: Leave::Altruistic,
            join_after: Duration::ZERO,
            kill: None,
            start_with: 0.0,
        }
    }
}

/// A swarm to run.
#[derive(Debug, Clone)]
pub struct SwarmConfig {
    /// F, in bytes.
    pub file_size: u64,
    /// Piece length (the notes: 256 KiB).
    pub piece_length: u64,
    /// The seed's upload capacity u_s in bytes/s (None: unlimited).
    pub seed_upload: Option<u64>,
    pub peers: Vec<PeerSpec>,
    pub picker: PickPolicy,
    pub choker: ChokePolicy,
    /// Multiplies the protocol's periods; byte rates stay real.
    pub time_scale: f64,
    /// Seeds the file contents and every node's random choices.
    pub seed: u64,
    /// Neighbours each peer calls from the tracker's list.
    pub neighbours: usize,
    /// Files go here (`seed/`, one folder per peer); created if missing.
    pub work_dir: PathBuf,
    /// Give up after this long.
    pub timeout: Duration,
}

impl SwarmConfig {
    /// N leechers named `L01`.. with the same upload cap, altruistic, the notes' policies.
    pub fn uniform(
        n: usize,
        file_size: u64,
        seed_upload: Option<u64>,
        peer_upload: Option<u64>,
        work_dir: PathBuf,
    ) -> SwarmConfig {
        SwarmConfig {
            file_size,
            piece_length: 256 * 1024,
            seed_upload,
            peers: (1..=n)
                .map(|i| PeerSpec::leecher(&format!("L{i:02}"), peer_upload))
                .collect(),
            picker: PickPolicy::RarestFirst,
            choker: ChokePolicy::TitForTat,
            time_scale: 1.0,
            seed: 1,
            neighbours: 10,
            work_dir,
            timeout: Duration::from_secs(600),
        }
    }

    /// The notes' lower bound for this swarm (free-riders and corrupt peers upload 0).
    pub fn bound(&self) -> Bound {
        let rate = |r: Option<u64>| r.map_or(f64::INFINITY, |r| r as f64);
        let peers: Vec<&PeerSpec> = self
            .peers
            .iter()
            .filter(|p| p.role != Role::Corrupt)
            .collect();
        let up: Vec<f64> = peers
            .iter()
            .map(|p| {
                if p.role == Role::FreeRider {
                    0.0
                } else {
                    rate(p.upload)
                }
            })
            .collect();
        let d_min = peers
            .iter()
            .map(|p| rate(p.download))
            .fold(f64::INFINITY, f64::min);
        p2p_bound(self.file_size as f64, rate(self.seed_upload), d_min, &up)
    }
}

/// Where a peer stands, for the live view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    NotYet,
    Running,
    Done,
    /// Completed and left (selfish).
    Left,
    Killed,
}

/// One row of the live view.
#[derive(Debug, Clone)]
pub struct PeerRow {
    pub name: String,
    pub status: Status,
    pub bitfield: super::bitfield::Bitfield,
    pub uploaded: u64,
    pub downloaded: u64,
}

/// What the observer sees every [`OBSERVE_EVERY`]: the seed first, then the peers,
/// and the node events since the last call (peer ids name the peers, see [`name_of`]).
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub elapsed: Duration,
    pub rows: Vec<PeerRow>,
    pub events: Vec<(String, NodeEvent)>,
}

/// One peer's results.
#[derive(Debug, Clone)]
pub struct PeerResult {
    pub name: String,
    pub role: Role,
    pub peer_id: PeerId,
    pub joined: Duration,
    /// From the common start (not from its join).
    pub completed: Option<Duration>,
    pub killed: bool,
    pub uploaded: u64,
    pub downloaded: u64,
    /// The whole file's SHA-1 matches the seed's (None: did not complete).
    pub sha1_ok: Option<bool>,
    /// Every piece it picked, in order, and why.
    pub picks: Vec<(usize, PickReason)>,
    /// What it exchanged with each other node, by name.
    pub links: Vec<(String, PeerStats)>,
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct SwarmReport {
    pub file_size: u64,
    pub pieces: usize,
    pub seed_uploaded: u64,
    pub seed_links: Vec<(String, PeerStats)>,
    pub peers: Vec<PeerResult>,
    /// Until the last surviving peer (not killed, not corrupt) had the file;
    /// None if one never did before the timeout.
    pub distribution_time: Option<Duration>,
    /// Every completed copy has the seed's SHA-1.
    pub all_verified: bool,
    pub bound: Bound,
}

/// The name behind a swarm peer id (`-PL0001-L07---------` → `L07`).
pub fn name_of(id: &PeerId) -> String {
    String::from_utf8_lossy(&id[8..])
        .trim_end_matches('-')
        .to_string()
}

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
        max_peers: 60,
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
                obs(&snapshot(
                    &seed,
                    &nodes,
                    elapsed,
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
    meta: &super::metainfo::Metainfo,
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
                bitfield: super::bitfield::Bitfield::new(seed.progress().total_pieces),
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
