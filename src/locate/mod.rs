//! The two problems of every P2P system, as one interface (notes 6.4 问题).
//!
//! Section 6.4 of the notes names two problems — **如何定位所需资源** (locating content)
//! and **如何处理对等方的加入和离开** (peers joining and leaving) — and three answers:
//! **集中** (a central directory, Napster), **分散** (flooding, Gnutella) and **半分散**
//! (group leaders, KaZaA), to which 6.3 adds the ring **DHT**. Each architecture module
//! implements [`Design`] on its real nodes and real sockets, so that one workload
//! ([`workload`]) and one set of checks ([`conformance`]) run on all four, and a lab can
//! put the designs side by side in one table.
//!
//! ```text
//!            join ─► publish ─► search("keyword") ─► [provider addr + file id, …]
//!   Design:  leave (politely) │ crash (no goodbye) │ kill_special (the directory, a leader, ¼ of the ring)
//!            traffic(): messages and bytes each node sent and received: who carries the load
//! ```
//!
//! The layer sits below the architectures: it names no module, and the modules never
//! import each other through it.
//!
//! Where to look first: [`Design`], then `workload.rs` (what the lab asks of every
//! design), then `conformance.rs` (what every design must get right).
//!
//! | file | role |
//! |---|---|
//! | `mod.rs` | the [`Design`] trait and its words: [`SharedFile`], [`Provider`], [`LocateError`] |
//! | `traffic.rs` | per-node counters of messages and bytes ([`Traffic`], [`Metered`]), the part of them that was upkeep, and their sums |
//! | `workload.rs` | the seeded workload: skewed popularity, searches, churn |
//! | `conformance.rs` | the checks every design must pass |
//! | `oracle.rs` | [`Oracle`]: the right answer in memory, which the checks are tested against |
//! | `folders.rs` | the peers' shared folders on disk, for designs whose peers serve real files |
//! | `measure/` | one workload played on one design, measured: search cost and success, the busiest node, join/leave/crash cost, the special node killed, the directory's login/logout load |
//!
//! Implementations: `napster::locate` (the directory), `gnutella::locate` (flooding),
//! `kazaa::locate` (group leaders) and `dht::locate` (the ring).

pub mod conformance;
pub mod folders;
pub mod measure;
mod oracle;
mod traffic;
pub mod workload;

pub use oracle::Oracle;
pub use traffic::{
    busiest, delta, total_bytes, total_msgs, total_upkeep_msgs, Metered, NodeTraffic, Traffic,
};

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// A peer of the workload: its index, the same in every design.
pub type PeerId = usize;

/// A file a peer shares: a name students can search by keyword, and its SHA-1.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SharedFile {
    pub name: String,
    pub sha1: [u8; 20],
    pub size: u64,
}

impl SharedFile {
    /// A song of the workload: its content is [`workload::song_bytes`] of its name.
    pub fn new(name: &str) -> SharedFile {
        use sha1::{Digest, Sha1};
        SharedFile {
            name: name.to_string(),
            sha1: Sha1::digest(workload::song_bytes(name)).into(),
            size: workload::SONG_BYTES as u64,
        }
    }
}

/// One answer to a search: who holds which file. `peer` is the workload's index of
/// the provider, so a check can hold the answer against the truth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub peer: PeerId,
    pub addr: SocketAddr,
    pub sha1: [u8; 20],
    pub name: String,
}

/// Why an operation failed, in words a lab can print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocateError {
    /// The design's special node is gone (单点故障): no one can answer.
    NoService(String),
    /// The peer is not (or no longer) part of the network.
    UnknownPeer(PeerId),
    /// A node or a socket failed.
    Failed(String),
}

impl fmt::Display for LocateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocateError::NoService(what) => write!(f, "no service: {what}"),
            LocateError::UnknownPeer(p) => write!(f, "peer {p} is not in the network"),
            LocateError::Failed(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for LocateError {}

/// What the special node was, and what killing it did to the network's index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Killed {
    /// In the notes' words: "the directory", "one group leader", "25 % of the ring".
    pub what: String,
    /// Nodes stopped.
    pub nodes: usize,
    /// Workload peers that went down with them (a ring's nodes are its peers; a
    /// directory is not a peer), so a lab stops searching from them.
    pub peers: Vec<PeerId>,
}

/// One P2P design on real nodes: the notes' two problems, locate and join/leave.
///
/// Every method blocks until the design has done what it says (a `join` returns when
/// the peer's files are published as far as the design publishes at once), so a
/// workload can measure each operation's cost and time.
pub trait Design {
    /// The column title: `"directory (Napster)"`, `"flooding (Gnutella)"`, …
    fn name(&self) -> String;

    /// Peer `peer` joins the network and publishes `files` (集中: logs in and uploads
    /// its list; 分散: connects to neighbours; 半分散: attaches to a leader; DHT: stores
    /// keyword → provider entries on the ring).
    fn join(&mut self, peer: PeerId, files: &[SharedFile]) -> Result<(), LocateError>;

    /// Searches by keyword from `from`; every provider found. `from` itself may be left
    /// out (it has the file already): the directory and the flood both skip the asker.
    fn search(&mut self, from: PeerId, keyword: &str) -> Result<Vec<Provider>, LocateError>;

    /// `peer` leaves politely: it says goodbye, and its files are withdrawn at once.
    fn leave(&mut self, peer: PeerId) -> Result<(), LocateError>;

    /// `peer` crashes: its sockets close without a word. Its files must stop being
    /// returned within [`Design::crash_timeout`].
    fn crash(&mut self, peer: PeerId) -> Result<(), LocateError>;

    /// How long after a crash this design may still return the crashed peer's files:
    /// its own failure-detection time (a closed socket, a missed ping, stabilization).
    fn crash_timeout(&self) -> Duration;

    /// Kills the design's special node(s) at once: the directory, one leader, or a
    /// quarter of the ring. Peers keep running.
    fn kill_special(&mut self) -> Result<Killed, LocateError>;

    /// Messages and bytes each node has sent and received so far, and how much of it
    /// was upkeep (the cost of keeping the structure: maintenance, keep-alives).
    fn traffic(&self) -> Vec<NodeTraffic>;

    /// Stops every node and joins every thread.
    fn stop(&mut self);
}

/// Lower-case words of a file name, the keywords a search matches (the same rule for
/// every design, so their answers can be compared).
pub fn keywords(name: &str) -> Vec<String> {
    name.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_lower_case_words() {
        assert_eq!(
            keywords("Yellow_Submarine - The Beatles.mp3"),
            ["yellow", "submarine", "the", "beatles", "mp3"]
        );
        assert!(keywords("--").is_empty());
    }
}
