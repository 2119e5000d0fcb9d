//! # Gnutella: the fully distributed overlay (notes 6.3 完全分布式)
//!
//! No central server ("没有中心服务器"). Servents (server + client) form an overlay
//! (覆盖网络): an edge is a TCP connection, usually fewer than 10 per servent. A query
//! is flooded (泛洪) over the edges like a breadth-first search, limited by a TTL, and
//! relays remember what they have already passed on. A hit (查询命中) goes back along
//! the reverse path; the file itself comes straight from the servent that has it.
//!
//! ```text
//!        Query ttl=3        Query ttl=2          Query ttl=1
//!   [A] ───────────► [B] ─────────────► [C] ─────────────► [D]
//!    ▲                │ ▲                │                  │ has the file
//!    └── QueryHit ────┘ └─── QueryHit ───┘◄──── QueryHit ───┘
//!    └──────────── HTTP GET /get/<index>/<name> straight to D ────────────►
//! ```
//!
//! Joining (对等方加入): try the host list on disk (死党列表); if nobody answers, ask a
//! host cache (`p2plab gnutella cache`); connect until one accepts; Ping; every servent
//! the Ping reaches answers with a Pong (IP, port, files, KB shared); connect to more.
//! Leaving (对等方离开): a Bye to each neighbour; each one below its degree refills.
//!
//! Where to look first:
//! - [`policy`]: the routing rules as pure functions (`hop`, `forward_targets`,
//!   `reverse_hop`, `flood_bound`).
//! - `route.rs` and `coordinator.rs`: what a servent does with each descriptor;
//!   `originate.rs`: the ones it starts itself.
//! - [`seen`]: the bounded, expiring seen-table (duplicates and reverse routes).
//! - [`descriptor`] and `codec.rs`: the 23-byte header and the payloads, with byte
//!   fixtures; [`handshake`]: `GNUTELLA CONNECT/0.6`.
//! - `conn.rs`: one neighbour's reader and writer threads; `connector.rs`: join and repair.
//! - [`observe`]: counting a flood from the servents' trace events (what the lab prints).
//!
//! Simplified here: no ultrapeers/leaves, no QRP, no GGEP; a Push reaches its servent
//! but no `GIV` connection follows; files are served over HTTP on a second port (the
//! QueryHit carries that port) instead of the Gnutella port; Pongs are not cached and
//! replayed, only learned by every servent they pass; the host cache speaks a small
//! subset of GWebCache. The instructive mistake, flooding without duplicate
//! suppression, is `Config::dedup = false` (`lab-gnutella --no-dedup`).

pub mod cache;
mod codec;
mod conn;
mod connector;
mod coordinator;
pub mod descriptor;
pub mod handshake;
pub mod hosts;
pub mod observe;
mod originate;
pub mod overlay;
pub mod policy;
mod report;
mod route;
mod servent;

pub use cache::HostCache;
pub use descriptor::{Descriptor, Guid, Kind, Payload};
pub use servent::{
    new_guid, Config, Hit, Servent, Stats, Trace, DEFAULT_DEGREE, DEFAULT_TTL, MAX_DEGREE,
};
