//! # p2plab: the P2P chapter of the notes, run for real
//!
//! Each architecture of the course notes (section 6, P2P应用, which your instructor hands
//! out) is a module that speaks a real protocol over real TCP sockets on localhost, one OS
//! thread per connection. Read a module beside the notes, run its lab, change a constant, run again.
//!
//! | notes | idea | module | lab |
//! |---|---|---|---|
//! | 6.2 文件分发 C/S vs P2P | distribution-time bounds, computed and measured | [`distribution`] | `make lab-distribution` |
//! | 6.3 集中化目录, 6.4 | central directory (Napster): bottleneck, single point of failure | [`napster`] | `make lab-napster` |
//! | 6.3 完全分布式 | query flooding with TTL, Ping/Pong join, leave (Gnutella) | [`gnutella`] | `make lab-gnutella` |
//! | 6.3 混合体 | group leaders index their children, forward queries (KaZaA) | [`kazaa`] | `make lab-kazaa` |
//! | 6.3 DHT, 6.4 | ring DHT with shortcuts, churn (Chord) | [`dht`] | `make lab-dht` |
//! | 6.4 问题 | locating content and join/leave, the four designs side by side on one workload | [`locate`] | `make lab-problems` |
//! | 6.5 BitTorrent | tracker, 256 KiB pieces, bitmap, rarest first, tit-for-tat (BEP 3) | [`bittorrent`] | `make lab-bittorrent` |
//!
//! Layers, bottom up; an arrow only points down, and architectures never import each other:
//!
//! ```text
//! labs/*, bin/p2plab  ->  napster | gnutella | kazaa | dht | bittorrent | distribution
//! architectures       ->  share -> net -> wire
//! ```
//!
//! - [`wire`]: frames (length prefixes, header lines) with limits checked before allocating.
//! - [`net`]: the thread-per-connection server, stop handles, the upload rate limiter.
//! - [`share`]: a shared folder served and fetched over HTTP, every download SHA-1 checked.
//! - [`rng`]: seeded randomness, so that `--seed 7` tells the same story twice.
//! - [`seen`]: the bounded seen-table (duplicate suppression, reverse routes).
//! - [`wait`]: one way to wait for a condition with a deadline.
//! - [`report`]: the tables that labs and benches end with, and the bench JSON files.
//! - [`usage`]: threads, resident memory and open files of this process, per node at scale.
//! - [`scale`]: what every scale run shares: its sizes, the growth from N to 4N, the cost table.
//! - [`opts`]: command-line options, the same way in every binary.

pub mod bittorrent;
pub mod dht;
pub mod distribution;
pub mod gnutella;
pub mod kazaa;
pub mod locate;
pub mod napster;
pub mod net;
pub mod opts;
pub mod report;
pub mod rng;
pub mod scale;
pub mod seen;
pub mod share;
pub mod testnet;
pub mod usage;
pub mod wait;
pub mod wire;
