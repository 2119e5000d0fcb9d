//! # BitTorrent (notes 6.5, P2P文件分发：BitTorrent)
//!
//! A file is cut into pieces of 256 KiB (文件被分为一个个块256KB). A **tracker**
//! (追踪服务器) knows which peers take part in a **torrent** (洪流: the group of peers
//! exchanging one file's pieces). Each peer keeps a **bitmap** (位图) of the pieces it
//! has, `0101…`, tells its neighbours, asks them for pieces it lacks, and serves the
//! pieces it has while it is still downloading: peers serve each other (相互服务).
//!
//! ```text
//!        .torrent (name, piece length, SHA-1 of every piece, tracker URL)
//!              │ info-hash = SHA-1(info dict)
//!              ▼
//!   peer ──announce (info-hash, port, left)──► tracker ──► list of peers
//!     │
//!     └──TCP──► peer:  handshake (info-hash) · bitfield 0101… · interested
//!                      ◄── unchoke · request(index, begin, 16 KiB) ×64 ──►
//!                      ◄── piece(index, begin, block) ...  SHA-1 check, have ──►
//! ```
//!
//! This module speaks BEP 3 byte for byte (with BEP 23 compact peer lists and BEP 48
//! scrape), so aria2c, opentracker, mktorrent and Wireshark accept it (`make interop`).
//!
//! ## Where to look first
//!
//! - [`metainfo`] and [`bencode`]: what a `.torrent` holds and why the info-hash is
//!   computed over the exact bytes of the file.
//! - [`message`], [`handshake`], [`bitfield`]: the peer wire, each decoder a pure
//!   function tested from byte literals.
//! - `peer/`: one connection's thread — the loop that keeps 64 requests in flight
//!   and answers the peer's requests from disk.
//! - [`picker`] and [`choker`]: the two policies of the notes, as pure functions with
//!   unit tests: the first 4 pieces at random, then rarest first (稀缺优先), partial
//!   pieces first, endgame; tit-for-tat (一报还一报: the top 4 by rate every 10 s) and an
//!   optimistic unchoke (优化疏通) every 30 s. `blocks.rs` keeps the partial pieces that
//!   every connection shares, `choking.rs` the rechoke timer.
//! - [`swarm`]: a tracker, a seed and N capped peers in one call ([`swarm::run_swarm`]),
//!   measured against the notes' bound; the lab, the bench and the tests use it.
//! - [`storage`]: pieces on disk, SHA-1 before a piece counts, resume after a restart.
//! - [`tracker`] and [`announce`]: both sides of the HTTP tracker (`announcer.rs`: the
//!   node's thread that announces).
//! - [`client`]: a node (one torrent) that ties it together; `p2plab bt ...` drives it.
//!
//! ## Threads
//!
//! One thread per peer connection (`bt-peer-<addr>` / `bt-conn-<addr>`) reads, decides and
//! writes for that peer; `bt-verify` hashes finished pieces and writes them, so SHA-1
//! never stalls a socket; `bt-announce` talks to the tracker; `bt-choke` rechokes.
//! One lock guards the piece and peer tables and is never held across I/O.
//!
//! ## Simplified here
//!
//! - One torrent per node, IPv4 only, HTTP trackers only (no UDP trackers, no DHT, no
//!   peer exchange, no `announce-list`), no encryption (aria2c falls back to plaintext).
//! - No extensions: the reserved bytes stay zero, so peers send neither BEP 6 (fast) nor
//!   BEP 10 (extended) messages; unknown message ids are skipped.
//! - Picking and choking follow mainline 4.x (see above). A leecher gives regular slots
//!   only to peers that sent it data in the last period, a seed ranks by its upload rate;
//!   there is no "anti-snubbing" extra optimistic slot. A piece that fails its SHA-1 is
//!   blamed on a peer only when that peer sent all of it (no block-level smart ban).
//! - Upload caps are one token bucket per node (its u_i); the protocol's periods scale
//!   with `time_scale`, byte rates never do.
//! - `--pipeline 1` (one request in flight, stop-and-wait) is the instructive slow case:
//!   every block then costs a round trip, which loopback hides and a real link does not.
//! - A leecher writes into `.<name>.part` files and renames them once every piece has
//!   passed its SHA-1 check (`storage.rs`); a restart resumes from the `.part` files and
//!   re-verifies them. If a complete-sized file already has the final name, it is used in
//!   place and checked piece by piece (that is how `p2plab bt get` seeds what it has).
//! - A connection's thread writes with blocking sends. Two peers that both upload to
//!   each other could in principle both block writing; each side's pipeline (64 blocks
//!   = 1 MiB) bounds what is in flight, and the write timeout ends a stuck peer.
//! - The tracker trusts the socket's address, not the `ip` parameter, and forgets
//!   peers silent for twice the interval.

pub mod announce;
mod announcer;
pub mod bencode;
pub mod bitfield;
mod blocks;
pub mod choker;
mod choking;
pub mod client;
pub mod handshake;
pub mod make;
pub mod message;
pub mod metainfo;
mod peer;
pub mod picker;
mod state;
pub use state::{NodeEvent, MAX_BAD_PIECES};
pub mod storage;
pub mod swarm;
pub mod tracker;
pub mod utp_reset;
