//! # KaZaA: the hybrid (notes 6.3 混合体, 利用不匀称性)
//!
//! "Every peer is a group leader (组长) or belongs to one" (每个对等方要么是一个组长，要么
//! 隶属于一个组长). Peers are not equal: some have more bandwidth and stay online longer,
//! and the hybrid puts them to work.
//!
//! - A child holds one TCP connection to its leader and uploads its content list: per
//!   file a descriptor (name, size, keywords) and the SHA-1 hash that names the file:
//!   the notes' 散列标识码 (hash id), a kind of 分布式命名 (distributed naming): same
//!   bytes, same id, whatever the file is called.
//! - The leader tracks all its children's content (组长追踪其所有的孩子的内容) in an
//!   index keyed by keyword and by hash, and holds TCP connections to other leaders
//!   (组长对之间有TCP连接).
//! - A keyword query goes child -> its leader, which answers from its index and forwards
//!   the query to other leaders (转发查询到其他组长; TTL, duplicates dropped by query id).
//!   Each match carries metadata, the hash and the holder's IP:port. The child picks one
//!   and sends the holder an HTTP request naming the hash: `GET /uri-res/N2R?urn:sha1:<base32>`.
//!
//! ```text
//!        L1 ========== L2            ==  leader links (a mesh of few)
//!       / | \  \\    // | \          --  child -> its leader (one TCP each)
//!      c  c  c   L3 ==  c  c         ~~  the download: straight from the holder
//!                |  \
//!                c   c ~~~~~~~ c (of L1): GET /uri-res/N2R?urn:sha1:...
//!
//!   c -Query-> L1 -Query(ttl-1)-> L2, L3 ... each answers one Hits -> L1 -Hits-> c
//! ```
//!
//! Churn: when a leader leaves (Bye) or dies (closed socket, or silence past the
//! keep-alives), its children reattach to another leader they heard of and upload their
//! lists again; a departed child's files leave its leader's index at once. When a leader
//! has more children than it should serve, it promotes the child with the most capacity
//! (its configured upload rate); the new leader links to the others and takes over some
//! children (Redirect).
//!
//! ## Which file holds which role
//!
//! | role | file |
//! |---|---|
//! | the messages and their codec, byte by byte | `msg/` (`mod.rs` the messages, `codec.rs` encode/decode, `tests.rs` byte literals) |
//! | one connection: reader thread, writer thread with a bounded queue | `conn/` (`reader.rs`, `writer.rs`; `open.rs` the Hello exchanges) |
//! | the nodes: bind, accept, the public handles, stop | `node/` (`leader.rs` a group leader, `child.rs` an ordinary node) |
//! | what each node knows, owned by its coordinator thread | `state/` (`leader.rs`, `child.rs` the coordinators; `query_path.rs` a leader's query path, `queries.rs` its queries in flight; `reattach.rs` a child between leaders; `promotion.rs`) |
//! | the decisions as pure functions | `policy.rs` (whom to forward to, which leader an orphan tries, whom to promote) |
//! | a leader's index of its children's files | `index.rs` |
//! | copy mode: other leaders' indexes kept here, our changes sent to them | `state/copies.rs`, `state/copy_out.rs` |
//! | KaZaA as a `locate::Design` of notes 6.4 (leaders, children, their traffic) | `locate.rs` |
//!
//! One concurrency model, for leaders and children alike: connection threads only read
//! and write; one coordinator thread per node owns the state and decides, in a
//! `select!` over connection events (a bounded queue), the handle's commands (each with a
//! reply channel) and a tick. It hands frames to each connection's bounded queue with
//! `try_send`: a peer that stops reading fills its queue and is dropped, and everyone
//! else is still served at once.
//!
//! ## Where to look first
//! - `msg/mod.rs`: the whole protocol, byte by byte, with the limits on every length.
//! - `state/query_path.rs`, `LeaderState::query`: a leader's query path (answer,
//!   forward, merge): the hybrid in 40 lines. `state/queries.rs` waits for the other leaders.
//! - [`policy`]: whom to forward to, which leader an orphan tries, whom to promote.
//! - [`index`]: the children index; `state/reattach.rs` and `state/promotion.rs`: a
//!   child's life (attach, reattach, promotion).
//! - The "instructive mistake": `LeaderConfig::dedup = false` (`lab-kazaa --no-dedup`).
//!
//! ## Simplified here
//! - FastTrack was proprietary and encrypted; this is our own plain protocol with the
//!   same roles.
//! - Leaders reach each other's children one of two ways the notes name (6.4, 组长与其它
//!   组长联系): forwarding queries (转发查询, `Mode::Forward`, the default) or getting a
//!   copy of the other leaders' data (获得其他组长的数据拷贝, `Mode::Copy`), or both
//!   (`Mode::Both`: copies, and forwarding when the copy finds nothing). Copies go to
//!   directly linked leaders only: a leader is not told what another leader copied.
//! - Leaders link to the leaders they are told about; there is no leader discovery
//!   service (KaZaA shipped a list of supernodes in the client).
//! - Promotion is decided locally by a leader with too many children, from announced
//!   capacities; real clients measured bandwidth and uptime themselves.
//! - Each Query gets exactly one combined Hits back (leaders wait for the leaders they
//!   forwarded to, up to [`QUERY_TIMEOUT`]); KaZaA streamed results as they came.

mod conn;
pub mod index;
pub mod locate;
pub mod msg;
mod node;
pub mod policy;
mod state;

pub use msg::{Hit, Msg};
pub use node::{Leader, LeaderConfig, Node, NodeConfig, NodeError, QueryAnswer};
pub use policy::Mode;
pub use state::LeaderStats;

use std::time::Duration;

/// A newcomer must say Hello (and a leader answer Welcome) within this time.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Leaders ping every connection, and nodes their leader, this often (the default of
/// `LeaderConfig::keepalive` and `NodeConfig::keepalive`).
pub const KEEPALIVE: Duration = Duration::from_secs(15);
/// A peer silent for this many keep-alive periods is taken for dead: a leader drops
/// the connection, a node goes to another leader. (A crashed machine sends no FIN.)
pub const MAX_MISSES: u32 = 4;
/// A peer that does not take a frame for this long is dropped.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a leader waits for the leaders it forwarded a query to.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a node waits for its leader's answer (longer than a leader's wait, so a
/// slow leader's partial answer still arrives).
pub const QUERY_WAIT: Duration = Duration::from_secs(15);
/// Leader-to-leader hops a query may take: 1 reaches a full mesh, 2 survives a mesh
/// with holes after churn.
pub const DEFAULT_TTL: u8 = 2;
/// Children one leader serves before it promotes one (KaZaA leaders served ~100s;
/// the lab's numbers are small so that promotion happens on stage).
pub const DEFAULT_MAX_CHILDREN: usize = 16;
