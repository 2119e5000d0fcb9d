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
//! - [`rpc`]: one call over UDP: transaction ids, retries, the per-source rate limit.
//! - [`LocalRing`]: a ring in one process; `settle.rs`: the "is it settled?" checks.
//!
//! **Transport: UDP datagrams (数据报) with transaction ids.** Every message is one
//! datagram: a u32 transaction id the caller chooses and the reply echoes, then the body
//! (`msg/mod.rs`). This is what Kademlia and BitTorrent's mainline DHT (BEP 5, KRPC) do:
//! a lookup hop is one small question to a peer you may never talk to again, so a
//! connection's handshake and teardown cost more than the question. Systems that talk
//! mostly to a few fixed neighbours keep persistent TCP connections instead. We moved from TCP because of what it cost in
//! one process: a reader and a writer thread per connection, and a pool of idle ones
//! per node, took about 8,300 threads and 17,900 files for 512 nodes, and most lookup
//! hops still opened a fresh connection (168 lookups/s at 128 nodes). A UDP node has
//! one socket and three threads (four once it stores keys), whatever the size of the ring.
//!
//! | file | role |
//! |---|---|
//! | `msg/` | the messages and their codec: `encode_request`/`decode_request`, `encode_reply`/`decode_reply`, `datagram`/`split_head` (transaction id and the upkeep flag), byte-literal tests in `msg/tests.rs` |
//! | `rpc/` | the node's socket: `serve.rs` (the reader thread, and how the coordinator replies), `call.rs` (a call: send, wait, retry, match), `limit.rs` (per-source token buckets) |
//! | `node/` | bind, the public handle [`Node`], stop; the coordinator, its answers, its maintenance rounds, its workers |
//! | `state.rs` | what a node knows (predecessor, successor list, fingers, store), owned by its coordinator; [`Config`], [`Snapshot`] |
//! | `policy.rs` | the decisions as pure functions: next hop, owner, finger starts, successor list |
//! | `lookup.rs` | the iterative lookup's walk |
//! | `id.rs` | ids on the ring and clockwise intervals |
//! | `store.rs` | one node's share of the hash table (key → set of values), capped node-wide ([`MAX_STORE_BYTES`], the oldest evicted); STORE batches that fit a datagram |
//! | `local.rs` | [`LocalRing`]: many nodes in one process, for labs, tests and the bench |
//! | `settle.rs` | is the ring right yet: [`Unsettled`] counts wrong links, successor lists and fingers |
//! | `scale.rs` | [`scale::measure`]: build and settle a ring of up to [`scale::SCALE_MAX`] nodes, and what each node costs |
//! | `locate.rs` | [`locate::Ring`]: the ring as a `locate::Design` of notes 6.4 (keyword → provider entries) |
//! | `error.rs` | [`DhtError`] |
//!
//! Threads of one node ([`THREADS_PER_NODE`] = 3, each on a [`STACK_SIZE`] stack): a
//! reader that receives, rate-limits and decodes datagrams; one coordinator that owns the
//! state, answers every request with one datagram (waiting at most `SEND_TIMEOUT`), and runs the
//! maintenance rounds; a worker that makes the outgoing calls the coordinator decides
//! on, from a private socket. A second worker, for STOREs only, starts at the node's
//! first STORE (a put's replicas, a hand-over). A lookup asked through the handle walks on the
//! caller's own thread, starting from the coordinator's first step.
//!
//! Simplified here:
//! - Lookups are iterative only; a recursive version (each node forwards) is a
//!   handout exercise. No virtual nodes, so keys per node are uneven.
//! - Values are only ever added. There is no delete (a full store evicts its oldest
//!   values, see `store.rs`), and replicas that fall outside the r-successor window
//!   after a join are kept, not pruned.
//! - r is fixed per node (`Config::r`; `Config::r_for(n)` gives the issue's default
//!   for a ring of about n) rather than adapted to an estimate of N.
//! - A node's id is checked against its address, but nothing stops one host from
//!   opening many ports to pick an id it likes (the Sybil problem). A source address is
//!   believed as UDP delivers it: on a real network it can be forged, which is why
//!   BEP 5 adds tokens to announce_peer (we have none).
//! - A put during a join or leave can miss the newest owner for one replication period.
//! - Two departures from the paper's rounds, both for cost: stabilize sends no NOTIFY
//!   to a successor that already names us its predecessor (it would change nothing),
//!   and a fix-fingers round repairs up to `PER_ROUND` wrong fingers instead of one,
//!   walking back along predecessors before it pays for a lookup (`node/fingers.rs`).
//! - A call is tried [`rpc::TRIES`] times with doubling waits, then the callee is taken
//!   for failed; there is no measured round-trip time as in Kademlia implementations.
//! - A node's calls come from private sockets (other ports), so a callee cannot tell a
//!   node's calls from anyone else's; only leave notices are sent from the node's own
//!   address, because only they are believed from the leaver alone.
//! - All nodes of the labs share one process and two cores: maintenance periods grow
//!   with the ring (`Config::lab_time_scale` of the size each node estimates from its
//!   successor list), and rounds that find nothing to change run less often
//!   (`node/maintain.rs`). Real deployments keep fixed periods (MIT's lsd about a
//!   second; Kademlia refreshes a bucket after an hour without traffic) because each
//!   node has a machine of its own.

mod error;
pub mod id;
mod local;
pub mod locate;
mod lookup;
pub mod msg;
mod node;
pub mod policy;
pub mod rpc;
pub mod scale;
mod settle;
mod state;
mod store;

pub use error::DhtError;
pub use id::{in_half_open, in_open, Id};
pub use local::{LocalRing, Rng};
pub use lookup::{Lookup, MAX_HOPS};
pub use msg::{decode_reply, decode_request, encode_reply, encode_request, Reply, Request};
pub use node::{Node, STACK_SIZE, THREADS_PER_NODE};
pub use policy::{closest_preceding_finger, NodeRef, Routing};
pub use rpc::{honest, Drops};
pub use settle::Unsettled;
pub use state::{Config, Snapshot};
pub use store::{Store, MAX_STORE_BYTES};
