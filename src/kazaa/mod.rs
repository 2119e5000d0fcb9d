//! # KaZaA: the hybrid (notes 6.3 混合体, 利用不匀称性)
//!
//! "Every peer is a group leader (组长) or belongs to one." Peers are not equal: some
//! have more bandwidth and stay online longer, and the hybrid puts them to work.
//!
//! - A child holds one TCP connection to its leader and uploads its content list: per
//!   file a descriptor (name, size, keywords) and the SHA-1 hash that names the file
//!   (the notes' 分布式命名, "distributed naming": same bytes, same id, whatever the name).
//! - The leader tracks all its children's content (组长追踪其所有的孩子的内容) in an
//!   index keyed by keyword and by hash, and holds TCP connections to other leaders.
//! - A keyword query goes child -> its leader, which answers from its index and forwards
//!   the query to other leaders (TTL, duplicates dropped by query id). Each match
//!   carries metadata, the hash and the holder's IP:port. The child picks one and sends
//!   the holder an HTTP request naming the hash: `GET /uri-res/N2R?urn:sha1:<base32>`.
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
//! ## Where to look first
//! - `msg.rs`: the whole protocol, byte by byte, with the limits on every length.
//! - `state_query.rs`: a leader's query path (answer, forward, merge): the hybrid in
//!   100 lines. `state.rs` is the coordinator around it; `state_churn.rs` promotes.
//! - [`policy`]: whom to forward to, which leader an orphan tries, whom to promote.
//! - [`index`]: the children index; `node.rs` / `node_link.rs`: a child's life.
//! - The "instructive mistake": `LeaderConfig::dedup = false` (`lab-kazaa --no-dedup`).
//!
//! ## Simplified here
//! - FastTrack was proprietary and encrypted; this is our own plain protocol with the
//!   same roles. Real KaZaA leaders also exchanged index data between themselves
//!   ("获得其他组长的数据拷贝"); ours only forward queries.
//! - Leaders link to the leaders they are told about; there is no leader discovery
//!   service (KaZaA shipped a list of supernodes in the client).
//! - Promotion is decided locally by a leader with too many children, from announced
//!   capacities; real clients measured bandwidth and uptime themselves.
//! - A leader's coordinator writes to sockets itself (with a write timeout), so one peer
//!   that stops reading slows that leader down for up to [`WRITE_TIMEOUT`].
//! - Each Query gets exactly one combined Hits back (leaders wait for the leaders they
//!   forwarded to, up to [`QUERY_TIMEOUT`]); KaZaA streamed results as they came.

mod conn;
pub mod index;
mod leader;
pub mod msg;
mod node;
pub mod policy;
mod query;
mod state;

pub use leader::{Leader, LeaderConfig};
pub use msg::{Hit, Msg};
pub use node::{Node, NodeConfig, NodeError, QueryAnswer};

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

/// A leader's counters (since start) and gauges (now).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeaderStats {
    /// Children attached now.
    pub children: usize,
    /// Links to other leaders now.
    pub links: usize,
    /// Files in the children index now.
    pub files: usize,
    /// Query frames received, from children and leaders.
    pub queries_in: u64,
    /// Queries searched in the index (first time seen).
    pub searched: u64,
    /// Queries dropped as already seen (answered empty).
    pub duplicates: u64,
    /// Query frames sent to other leaders.
    pub forwarded: u64,
    /// Hits frames sent (one per Query received).
    pub hits_out: u64,
    /// Children asked to become leaders.
    pub promotions: u64,
    /// Children moved to a promoted leader.
    pub redirects: u64,
    /// Query ids remembered for duplicate suppression (bounded).
    pub seen: usize,
}

impl LeaderStats {
    /// Messages a query costs on the wire: every Query frame is received by exactly one
    /// leader, every Hits frame sent by exactly one.
    pub fn query_messages(&self) -> u64 {
        self.queries_in + self.hits_out
    }

    /// Sums counters over several leaders.
    pub fn sum<'a>(all: impl IntoIterator<Item = &'a LeaderStats>) -> LeaderStats {
        let mut t = LeaderStats::default();
        for s in all {
            t.children += s.children;
            t.links += s.links;
            t.files += s.files;
            t.queries_in += s.queries_in;
            t.searched += s.searched;
            t.duplicates += s.duplicates;
            t.forwarded += s.forwarded;
            t.hits_out += s.hits_out;
            t.promotions += s.promotions;
            t.redirects += s.redirects;
            t.seen += s.seen;
        }
        t
    }
}
