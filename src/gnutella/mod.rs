//! # Gnutella: the fully distributed overlay (notes 6.3 完全分布式)
//!
//! No central server ("没有中心服务器"). Servents (server + client) form an overlay
//! (覆盖网络): an edge is a TCP connection, usually fewer than 10 per servent. A query
//! is flooded (查询洪泛, query flooding) over the edges like a breadth-first search,
//! limited by a TTL (受限的泛洪查询: each hop lowers the TTL by one, and a copy whose TTL
//! reaches 0 goes no further), and relays remember what they have already passed on
//! (the seen-table, `crate::seen`). A hit (查询命中) goes back along the reverse path;
//! the file itself comes straight from the servent that has it.
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
//! - [`policy`]: the decisions as pure functions (`hop`, `forward_targets`,
//!   `reverse_hop`, `flood_bound`, `admit`, `refill`).
//! - `node/relay.rs`: what the coordinator does with each descriptor (Ping -> Pong,
//!   Query -> QueryHit, replies back along the reverse path) and the ones it starts.
//! - [`msg`]: the 23-byte header and the payloads, with byte fixtures;
//!   [`msg::handshake`]: `GNUTELLA CONNECT/0.6`.
//! - [`observe`]: counting a flood from the servents' trace events (what the lab prints).
//!
//! Simplified here: no ultrapeers/leaves, no QRP, no GGEP; a Push reaches its servent
//! but no `GIV` connection follows; files are served over HTTP on a second port (the
//! QueryHit carries that port) instead of the Gnutella port; Pongs are not cached and
//! replayed, only learned by every servent they pass; the host cache speaks a small
//! subset of GWebCache. The instructive mistake, flooding without duplicate
//! suppression, is `Config::dedup = false` (`lab-gnutella --no-dedup`).
//!
//! ## Which file holds which role
//!
//! | file | role |
//! |---|---|
//! | `msg/` | the messages and their codec: `mod.rs` header and descriptor, `payload.rs` the six payloads, `handshake.rs` the 0.6 handshake, `tests.rs` byte fixtures |
//! | `conn.rs` | one neighbour: the handshake, a reader thread and a writer thread fed by a bounded queue |
//! | `node/` | bind, accept, the [`Servent`] handle, stop (`mod.rs`); [`Config`] (`config.rs`); the coordinator thread (`coordinator.rs`) and its descriptor path (`relay.rs`); the dialer thread (`dial.rs`) |
//! | `state.rs` | what a servent knows (neighbours, hosts, seen-table, counters), owned by its coordinator |
//! | `policy.rs` | the decisions as pure functions: routing, admission, refilling the degree |
//! | `event.rs` | what the threads say to each other: `Event`, `Command`, `Out`, `Job` |
//! | `trace.rs` | what a servent reports: [`Trace`] events, [`Stats`] counters, [`Hit`]s |
//! | `observe.rs` | counting a flood from [`Trace`] events (labs and tests) |
//! | `hosts.rs` | the host list (死党列表) on disk and in memory, and the host cache client |
//! | `cache.rs` | the host cache server (`p2plab gnutella cache`) |
//! | `overlay.rs` | overlay shapes for labs and benches (pure functions on indices) |
//! | `locate.rs` | [`GnutellaNet`]: servents in one overlay behind `crate::locate::Design` (6.4), each counting its messages and bytes |
//!
//! Threads: one coordinator per servent owns its `State` and decides everything (a
//! `select!` over events, the handle's commands and a tick). Connection threads only
//! read and write; the coordinator hands each writer encoded bytes with `try_send`, and
//! a neighbour whose queue is full is dropped, never waited for. The handle's questions
//! (`neighbours`, `known_hosts`) are commands carrying a reply channel; only the
//! counters (`Stats`) are atomics the handle reads directly. Imports point one
//! way: `node` -> `conn`, `state` -> `event` -> `policy`, `trace`, `hosts` -> `msg`.

pub mod cache;
mod conn;
mod event;
pub mod hosts;
pub mod locate;
pub mod msg;
mod node;
pub mod observe;
pub mod overlay;
pub mod policy;
mod state;
pub mod trace;

pub use cache::HostCache;
pub use locate::GnutellaNet;
pub use msg::{new_guid, Descriptor, Guid, Kind, Payload};
pub use node::{
    Config, Servent, DEFAULT_DEGREE, DEFAULT_TTL, IDLE_GRACE, KEEPALIVE, MAX_DEGREE, STACK_KIB_ENV,
    STACK_SIZE,
};
pub use trace::{Hit, Stats, Trace};
