//! The tracker (追踪器, notes 6.5): who takes part in a torrent. Both sides of the HTTP
//! tracker protocol (BEP 3 announce, BEP 23 compact peer lists, BEP 48 scrape).
//!
//! ```text
//!   accept ──► conn::serve (one thread per request: read head, write answer)
//!                  │ Job{Ask, one-slot reply}          ▲ Answer (try_send)
//!                  ▼                                   │
//!              coordinator (select! over jobs and a sweep tick) ── Swarms (state)
//!                                                       └─ policy::* (pure)
//! ```
//!
//! | file | role |
//! |---|---|
//! | `msg.rs` | the client side: build an announce or scrape GET, read the bencoded answer |
//! | `msg/query.rs` | the server side of a request: the GET target checked and typed |
//! | `msg/answer.rs` | the server side of a reply: announce, scrape and failure as HTTP + bencode |
//! | `conn.rs` | one request's thread: read the head, ask the coordinator, write the answer |
//! | `job.rs` | what a request asks the coordinator and what it answers (`Ask`, `Answer`) |
//! | `node.rs` | [`Tracker`]: bind, accept with the listener's defences, the handle, stop |
//! | `node/coordinator.rs` | the one thread that owns the swarm table and decides |
//! | `state.rs` | the swarm table: per info-hash, who announced from where; bounded, expiring |
//! | `policy.rs` | pure decisions: who a peer is, when it is forgotten, whom to hand out, whom to evict |
//! | `site/` | the BT website (BT网站) on the same port: the torrent list, swarm pages, publishing |
//!
//! Where to look first: `policy.rs` (why a peer is its id AND its address), then
//! `state.rs`, then `node/coordinator.rs`.
//!
//! The peer's side that announces periodically is a thread of the node
//! (`src/bittorrent/node/announcer.rs`), which uses `msg.rs`.
//!
//! Simplified here: HTTP/1.0, one request per connection; no BEP 3 `key` or `ip`
//! parameter (the address is the connection's); no IPv6 `peers6`. Any info-hash may be
//! announced, within the caps, unless the tracker runs `registered_only` (opentracker's
//! whitelist): then only the torrents published to its site (`site/catalog.rs`).

mod conn;
mod job;
pub mod msg;
pub mod node;
pub mod policy;
pub mod site;
pub mod state;

pub use node::{Tracker, TrackerConfig, TrackerLimits};
