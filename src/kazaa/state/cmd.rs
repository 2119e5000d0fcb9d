//! What the handles (`node/`) give and ask the coordinators: each node's fixed
//! settings, and the commands, each carrying the channel its answer comes back on.

use super::asked::Reply;
use super::stats::LeaderStats;
use crate::kazaa::msg::FileDesc;
use crate::kazaa::node::{Leader, LeaderConfig};
use crate::kazaa::policy::Mode;
use crossbeam_channel::Sender;
use std::net::{SocketAddr, SocketAddrV4};
use std::time::Duration;

/// What a leader's handle asks its coordinator (`leader.rs`).
pub enum LeaderCmd {
    Stats(Sender<LeaderStats>),
    /// Whether our index or a copy names this holder (a child's share address).
    Names(SocketAddrV4, Sender<bool>),
    /// Bye to everyone (`graceful`) or just vanish; answers with the last counters.
    Stop {
        graceful: bool,
        done: Sender<LeaderStats>,
    },
}

/// How a leader behaves (from `LeaderConfig`).
pub struct Rules {
    pub max_children: usize,
    pub dedup: bool,
    pub keepalive: Duration,
    /// Forward queries, copy indexes, or both (`policy::Mode`).
    pub mode: Mode,
}

/// What a child's handle asks its coordinator (`child.rs`).
pub enum ChildCmd {
    Query {
        text: String,
        ttl: u8,
        reply: Reply,
    },
    Status(Sender<Status>),
    LedStats(Sender<Option<LeaderStats>>),
    /// From now on, losing the leader does not send this node looking for another.
    Stopping,
    /// Bye to the leader; answers with the last status and the leader this node runs.
    Stop(Sender<(Status, Option<Leader>)>),
}

/// Where the child stands, for the handle.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// The leader whose index holds our list now.
    pub leader: Option<SocketAddrV4>,
    /// Every leader this node attached to, in order.
    pub history: Vec<SocketAddrV4>,
    /// If promoted: where the leader this node runs listens.
    pub led: Option<SocketAddr>,
}

/// Who this child is (fixed at start).
pub struct Me {
    pub id: u64,
    pub share_port: u16,
    pub capacity: u32,
    /// Its content list: per file a descriptor and the SHA-1.
    pub files: Vec<FileDesc>,
    pub configured: Vec<SocketAddrV4>,
    pub keepalive: Duration,
    pub as_leader: LeaderConfig,
}
