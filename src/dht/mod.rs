//! Notes 6.3, DHT (结构化P2P): a ring DHT (环形DHT) with shortcuts (捷径), under peer
//! churn (对等方扰动). The Chord design.
//!
//! The overlay is *ordered*. Every peer and every key gets an id on the same ring
//! (SHA-1 of `ip:port`, SHA-1 of the key, taken modulo 2^m); a key lives on its
//! *successor*, the first peer at or clockwise after it. Each peer knows its successor,
//! so any peer can find any key by walking the ring: N/2 steps on average. Shortcuts
//! (*fingers*) to the peers half, a quarter, an eighth... of the ring away cut that to
//! about ½·log2 N. Peers come and go (churn): periodic stabilization repairs the ring, a
//! successor list routes around failed peers, and every key is copied to r successors
//! so that a crash loses nothing.
//!
//! ```text
//!                  0
//!            56 ●     ● 1          key 54 → node 56 (first node clockwise)
//!          51 ●         ● 8        node 8's fingers: 14 14 14 21 32 42
//!         48 ●           ● 14      lookup(54) from 8:  8 → 42 → 51 (its successor
//!          42 ●         ● 21                          56 owns 54): 2 hops
//!            38 ●     ● 32
//! ```
//!
//! Where to look first:
//! - [`policy`]: `closest_preceding_finger`, `next_step`, the successor list rule,
//!   `fill_fingers` (pure functions, tested by hand-drawn rings).
//! - `lookup.rs`: the iterative lookup that walks the ring and records the path.
//! - `node/maintain.rs`: stabilize, fix-fingers, check-predecessor, replicate.
//! - `node/answer.rs`: what a node answers; `notify` hands keys to a new predecessor.
//! - [`msg`]: the wire format, byte by byte, and its limits.
//! - [`LocalRing`]: a ring in one process, and the "is it settled?" checks.
//!
//! | file | role |
//! |---|---|
//! | `msg/` | the messages and their codec: `encode_request`/`decode_request`, `encode_reply`/`decode_reply`, byte-literal tests in `msg/tests.rs` |
//! | `conn/` | one connection: `incoming.rs` (reader thread + writer thread with a bounded queue), `outgoing.rs` (the pool and the blocking call, run off the coordinator) |
//! | `node/` | bind, accept, the public handle [`Node`], stop; the coordinator, its answers, its maintenance rounds, its workers |
//! | `state.rs` | what a node knows (predecessor, successor list, fingers, store), owned by its coordinator; [`Config`], [`Snapshot`] |
//! | `policy.rs` | the decisions as pure functions: next hop, owner, finger starts, successor list |
//! | `lookup.rs` | the iterative lookup's walk |
//! | `id.rs` | ids on the ring and clockwise intervals |
//! | `store.rs` | one node's share of the hash table (key → set of values) |
//! | `local.rs` | [`LocalRing`]: many nodes in one process, for labs, tests and the bench |
//! | `locate.rs` | [`locate::Ring`]: the ring as a `locate::Design` of notes 6.4 (keyword → provider entries) |
//! | `error.rs` | [`DhtError`] |
//!
//! Threads of one node: an accept thread; per incoming connection a reader and a
//! writer; one coordinator that owns the state and answers every request; two workers
//! that make the outgoing calls the coordinator decides on. A lookup asked through the
//! handle walks on the caller's own thread, starting from the coordinator's first step.
//!
//! Simplified here:
//! - Lookups are iterative only; a recursive version (each node forwards) is a
//!   handout exercise. No virtual nodes, so keys per node are uneven.
//! - Values are only ever added. There is no delete, and replicas that fall outside
//!   the r-successor window after a join are kept, not pruned.
//! - r is fixed per node (`Config::r`; `Config::r_for(n)` gives the issue's default
//!   for a ring of about n) rather than adapted to an estimate of N.
//! - A node's id is checked against its address, but nothing stops one host from
//!   opening many ports to pick an id it likes (the Sybil problem).
//! - A put during a join or leave can miss the newest owner for one replication period.
//! - Each node keeps a few idle connections (`Config::pool`); a lookup's later hops
//!   usually open new ones, each served by two new threads. That, not routing, is what
//!   limits lookups per second in `make bench`.
//! - Every call crosses three threads on the serving side (reader, coordinator, writer)
//!   where one thread that locked the state used to answer it. That is the price of one
//!   owner for the state; on a busy CPU each hand-off waits for a core, and lookups per
//!   second pay for it. The lab's largest rings run their maintenance slower for this.

mod conn;
mod error;
pub mod id;
mod local;
pub mod locate;
mod lookup;
pub mod msg;
mod node;
pub mod policy;
mod state;
mod store;

pub use conn::honest;
pub use error::DhtError;
pub use id::{in_half_open, in_open, Id};
pub use local::{LocalRing, Rng};
pub use lookup::{Lookup, MAX_HOPS};
pub use msg::{decode_reply, decode_request, encode_reply, encode_request, Reply, Request};
pub use node::Node;
pub use policy::{closest_preceding_finger, NodeRef, Routing};
pub use state::{Config, Snapshot};
pub use store::Store;
