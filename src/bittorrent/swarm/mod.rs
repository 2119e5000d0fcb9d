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
//!
//! ```no_run
//! use p2plab::bittorrent::swarm::{run_swarm, SwarmConfig};
//! const MIB: u64 = 1 << 20;
//! // u_s = 4 MiB/s, 16 peers with u_i = 1 MiB/s, F = 32 MiB.
//! let mut cfg = SwarmConfig::uniform(16, 32 * MIB, Some(4 * MIB), Some(MIB), "/tmp/swarm".into());
//! cfg.time_scale = 0.05; // rechoke every 0.5 s; byte rates stay real
//! let r = run_swarm(&cfg, None).unwrap();
//! println!("{:?} against {:.1} s", r.distribution_time, r.bound.seconds);
//! ```
//!
//! Where to look: this file has what a run is given and what it reports; `run.rs`
//! starts the nodes, kills and adds them on schedule, and collects the figures;
//! `hosts.rs` runs the same swarm with every peer on its own host of a testnet;
//! `uplink.rs` measures how much of the upload capacity the swarm used, and when.

use super::msg::handshake::PeerId;
use super::node::NodeEvent;
use super::node::PeerStats;
use super::policy::choke::ChokePolicy;
use super::policy::pick::{PickPolicy, PickReason};
use crate::distribution::{p2p_bound, Bound};
use std::path::PathBuf;
use std::time::Duration;

mod hosts;
mod run;
pub mod uplink;
pub use hosts::{run_swarm_hosts, HostsRun};
pub use run::run_swarm;

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
    /// Neighbours each peer calls from the tracker's list. A node keeps at most twice
    /// as many connections ([`SwarmConfig::max_peers`]).
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

    /// The most connections a node keeps: twice the neighbours it calls.
    ///
    /// When all peers start at once (a flash crowd), the first to announce are on every
    /// later peer's list and collect calls: with no cap but 60, the first peers of a
    /// 128-peer swarm held 36-40 connections and the last 13-19. A peer with few
    /// neighbours is unchoked by few, trades slowly and has little to offer: the least
    /// connected uploaded 9 MiB in 37 s where the formula wants 32 MiB of each, and
    /// finished last. With the cap, a full node turns a caller away (or closes its least
    /// useful peer), the caller tries others at its next announce, and every node ends
    /// with between `neighbours` and twice as many. Measured with
    /// `bench-bittorrent_swarm --peers 128`, alternating: cap 60 gave 1.155, 1.204 and
    /// 1.218 × the bound, cap 20 gave 1.135, 1.148 and 1.139 ×.
    pub fn max_peers(&self) -> usize {
        2 * self.neighbours.max(1)
    }

    /// u_s + Σu_i in bytes/s, as the bound counts it (None: some uplink is unlimited).
    pub fn upload_capacity(&self) -> Option<f64> {
        let total = rate(self.seed_upload) + self.uploads().iter().sum::<f64>();
        total.is_finite().then_some(total)
    }

    /// The notes' lower bound for this swarm (free-riders and corrupt peers upload 0).
    pub fn bound(&self) -> Bound {
        let d_min = self
            .counted()
            .map(|p| rate(p.download))
            .fold(f64::INFINITY, f64::min);
        let up = self.uploads();
        p2p_bound(self.file_size as f64, rate(self.seed_upload), d_min, &up)
    }

    /// The peers the bound counts: all but the corrupt ones.
    fn counted(&self) -> impl Iterator<Item = &PeerSpec> {
        self.peers.iter().filter(|p| p.role != Role::Corrupt)
    }

    /// Each counted peer's upload rate (a free-rider's is 0).
    fn uploads(&self) -> Vec<f64> {
        self.counted()
            .map(|p| match p.role {
                Role::FreeRider => 0.0,
                _ => rate(p.upload),
            })
            .collect()
    }
}

/// A rate cap in bytes/s (None: unlimited).
fn rate(r: Option<u64>) -> f64 {
    r.map_or(f64::INFINITY, |r| r as f64)
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
    pub bitfield: super::msg::bitfield::Bitfield,
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
