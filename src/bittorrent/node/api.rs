//! What a node is given and what it reports: its configuration, its progress, what it
//! exchanged with each peer, the events a lab draws, the figures its coordinator
//! publishes for the handle to read without asking, and the commands it takes.

use super::verify::Verdict;
use crate::bittorrent::conn::Event;
use crate::bittorrent::metainfo::Metainfo;
use crate::bittorrent::mse::Policy;
use crate::bittorrent::msg::handshake::PeerId;
use crate::bittorrent::policy::choke::{ChokePolicy, UPLOAD_SLOTS};
use crate::bittorrent::policy::pick::{PickPolicy, PickReason};
use crate::bittorrent::state::State;
use crate::rng::Rng;
use crossbeam_channel::{Receiver, Sender};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

/// The most block requests kept outstanding at one peer: 64 × 16 KiB = 1 MiB in
/// flight, enough to keep a loopback connection busy while the other side answers.
/// A slower peer gets fewer, a second of its rate (`policy/pipeline.rs`).
pub const PIPELINE: usize = 64;
/// Finished pieces waiting for the verifier; no new requests go out while it is this
/// far behind (back-pressure instead of buffering). 16 pieces (4 MiB), not fewer: the
/// pipeline must not drain while SHA-1 catches up, or the verifier then waits a round
/// trip for data (`bench-bittorrent`).
pub const VERIFY_QUEUE: usize = 16;

/// How a node runs.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Where peers reach us (port 0 picks one).
    pub listen: String,
    /// The cap on requests outstanding at one peer ([`PIPELINE`]).
    pub pipeline: usize,
    pub upload_slots: usize,
    pub max_peers: usize,
    /// Talk to the torrent's tracker (off in tests that connect peers directly).
    pub use_tracker: bool,
    /// Fixed peer id (tests); random `-PL0001-…` otherwise.
    pub peer_id: Option<PeerId>,
    /// Peers we call from the tracker's list (a random subset); below this many we
    /// ask the tracker again soon, to replace neighbours that left.
    pub neighbours: usize,
    pub picker: PickPolicy,
    pub choker: ChokePolicy,
    /// Multiplies the notes' periods (rechoke 10 s, optimistic 30 s, snub 30 s) and the
    /// deadlines (`HANDSHAKE_DEADLINE`, `REQUEST_DEADLINE`):
    /// 0.1 runs the same algorithm ten times faster. Byte rates are not scaled.
    pub time_scale: f64,
    /// Upload capacity u_i in bytes/s, shared by all connections (None: unlimited).
    pub upload_rate: Option<u64>,
    /// Download capacity d_i in bytes/s (None: unlimited).
    pub download_rate: Option<u64>,
    /// Never unchoke anybody: a free-rider.
    pub free_rider: bool,
    /// Send one wrong byte in every block: a corrupt peer (tests, labs).
    pub corrupt: bool,
    /// Seed of this node's random choices (None: from the peer id).
    pub rng_seed: Option<u64>,
    /// Where to report picks, rechokes and completion (labs, tests).
    pub events: Option<Sender<(PeerId, NodeEvent)>>,
    /// Connections one address may hold. Unlimited by default: labs run every peer on
    /// 127.0.0.1; on a real network one address holds one peer (two behind a NAT).
    pub max_per_addr: usize,
    /// Message Stream Encryption: see `conn/open.rs`. Plaintext by default here (the
    /// notes' wire, what the labs and the tests' hand-made peers speak); `bt seed` and
    /// `bt get` default to `prefer`, as real clients do.
    pub encryption: Policy,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            listen: "127.0.0.1:0".into(),
            pipeline: PIPELINE,
            upload_slots: UPLOAD_SLOTS,
            max_peers: 50,
            use_tracker: true,
            peer_id: None,
            neighbours: 30,
            picker: PickPolicy::RarestFirst,
            choker: ChokePolicy::TitForTat,
            time_scale: 1.0,
            upload_rate: None,
            download_rate: None,
            free_rider: false,
            corrupt: false,
            rng_seed: None,
            events: None,
            max_per_addr: usize::MAX,
            encryption: Policy::Off,
        }
    }
}

impl ClientConfig {
    /// `time_scale`, with nonsense (0, negative) read as 1.
    pub fn scale(&self) -> f64 {
        if self.time_scale > 0.0 {
            self.time_scale
        } else {
            1.0
        }
    }
}

/// Files of a download under `dir`: `dir/name` or `dir/name/…`.
pub fn download_paths(meta: &Metainfo, dir: &Path) -> Vec<PathBuf> {
    meta.info.file_paths(dir)
}

/// Files of a seed's data: the file itself, or inside the folder given.
pub fn seed_paths(meta: &Metainfo, data: &Path) -> Vec<PathBuf> {
    if meta.info.multi_file {
        meta.info
            .files
            .iter()
            .map(|f| f.path.iter().fold(data.to_path_buf(), |p, c| p.join(c)))
            .collect()
    } else {
        vec![data.to_path_buf()]
    }
}

/// A random peer id in the BEP 20 style: `-PL0001-` and 12 random characters.
pub fn new_peer_id() -> PeerId {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    let mut rng = Rng::new(now ^ ((std::process::id() as u64) << 32));
    let mut id = *b"-PL0001-000000000000";
    for b in &mut id[8..] {
        *b = b"0123456789abcdefghijklmnopqrstuvwxyz"[rng.below(36)];
    }
    id
}

/// What a node reports while it runs (labs draw it; tests check it).
#[derive(Debug, Clone, PartialEq)]
pub enum NodeEvent {
    Picked {
        piece: usize,
        reason: PickReason,
    },
    Rechoke {
        seeding: bool,
        regular: Vec<PeerId>,
        optimistic: Option<PeerId>,
    },
    Completed,
}

/// Where a download stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub pieces: usize,
    pub total_pieces: usize,
    pub left: u64,
    pub total: u64,
    pub downloaded: u64,
    pub uploaded: u64,
    pub peers: usize,
    pub complete: bool,
}

/// What this node exchanged with one remote peer (by peer id, over all connections).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerStats {
    pub peer_id: PeerId,
    /// Piece bytes it sent us.
    pub down: u64,
    /// Piece bytes we sent it ...
    pub up: u64,
    /// ... of which in our optimistic slot,
    pub up_optimistic: u64,
    /// ... of which in a regular slot while we were still downloading.
    pub up_regular_leeching: u64,
    pub connected: bool,
    /// Connected, and it wants pieces we have (its last word was Interested).
    pub interested: bool,
    /// Dropped for bad pieces and not to be called again.
    pub banned: bool,
}

/// Figures the coordinator publishes as it changes them; the handle and the
/// announcer read them without a round trip. Only the coordinator writes.
pub struct Published {
    /// Pieces in our bitmap (the bitmap itself is `Ctx::ours`).
    pub have_count: AtomicUsize,
    pub peers: AtomicUsize,
    pub completed_at: OnceLock<Instant>,
    /// The coordinator's last word on every peer, left as it stops.
    pub final_stats: OnceLock<Vec<PeerStats>>,
}

/// What the handle and the announcer ask of the coordinator.
pub enum Cmd {
    /// May the handle call `addr`? (`true` marks it as called.)
    MayDial(SocketAddr, Sender<bool>),
    /// The handle's call to `addr` failed.
    Undial(SocketAddr),
    /// The tracker's list (without us): call some of them.
    Peers(Vec<SocketAddr>),
    /// What we exchanged with every peer so far.
    PeerStats(Sender<Vec<PeerStats>>),
}

/// The coordinator's inputs.
pub struct Inputs {
    pub events: Receiver<Event>,
    pub cmds: Receiver<Cmd>,
    pub verdicts: Receiver<Verdict>,
    /// Closed when the node stops.
    pub stop: Receiver<()>,
}

/// What this node exchanged with every peer it has known (`live`: still running).
pub fn peer_stats(st: &State, live: bool) -> Vec<PeerStats> {
    let mut out: Vec<PeerStats> = st
        .counters
        .iter()
        .map(|(id, c)| {
            let peer = st.peers.values().find(|p| p.link.peer_id == *id);
            PeerStats {
                peer_id: *id,
                down: c.down.load(Ordering::Relaxed),
                up: c.up.load(Ordering::Relaxed),
                up_optimistic: c.up_optimistic.load(Ordering::Relaxed),
                up_regular_leeching: c.up_regular_leeching.load(Ordering::Relaxed),
                connected: live && peer.is_some(),
                interested: live && peer.is_some_and(|p| p.interested),
                banned: st.banned_ids.contains(id),
            }
        })
        .collect();
    out.sort_by_key(|s| s.peer_id);
    out
}
