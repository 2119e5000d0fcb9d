//! What each kind of node knows, owned by its coordinator thread (one per node), which
//! makes every decision in a `select!` over its connections' events, its handle's
//! commands and a tick. No lock: the connection threads only read and write.
//!
//! | file | holds |
//! |---|---|
//! | `leader.rs` | [`LeaderState`]: a leader's coordinator (its loop, peers joining and leaving, what they may send) |
//! | `query_path.rs` | a leader's query path: search, forward, one combined answer |
//! | `peers.rs` | `Peers`: a leader's children and links, and sending to them without waiting |
//! | `queries.rs` | `Queries`: a leader's queries in flight and the ids it has seen |
//! | `child.rs` | [`ChildState`]: a child's coordinator (its loop, its queries, its leader's messages) |
//! | `reattach.rs` | a child between leaders: attached, lost, the next one to dial |
//! | `attach.rs` | `Attach`: a child's plan for finding a leader (order, rounds, pause) |
//! | `asked.rs` | `Asked`: a child's queries waiting for answers, and their ids |
//! | `promotion.rs` | promotion, both sides: a leader asks a child to lead, the child starts a leader |
//! | `cmd.rs` | what the handles give and ask the coordinators: settings, commands with reply channels |
//! | `copies.rs` | `Copies`: copy mode, keeping side (other leaders' indexes, one per link) |
//! | `copy_out.rs` | copy mode, sending side (our index and its changes to subscribers) |
//! | `stats.rs` | [`LeaderStats`]: what a leader counts |

mod asked;
mod attach;
mod child;
mod cmd;
mod copies;
mod copy_out;
mod leader;
mod peers;
mod promotion;
mod queries;
mod query_path;
mod reattach;
mod stats;

pub use child::ChildState;
pub use cmd::{ChildCmd, LeaderCmd, Me, Rules, Status};
pub use leader::LeaderState;
pub use stats::LeaderStats;
