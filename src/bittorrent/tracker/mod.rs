//! The tracker (追踪器, notes 6.5): who takes part in a torrent. Both sides of the HTTP
//! tracker protocol (BEP 3 announce, BEP 23 compact peer lists, BEP 48 scrape).
//!
//! | file | role |
//! |---|---|
//! | `msg.rs` | the announce and scrape requests and replies: a client builds a GET and reads the bencoded answer |
//! | `node.rs` | the tracker itself: an HTTP server that remembers, per info-hash, who announced |
//!
//! The peer's side that announces periodically is a thread of the node
//! (`src/bittorrent/node/announcer.rs`), which uses `msg.rs`.

pub mod msg;
pub mod node;

pub use node::{Tracker, TrackerConfig};
