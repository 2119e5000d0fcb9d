//! What each kind of node knows, owned by its coordinator thread (one per node), which
//! makes every decision in a `select!` over its connections' events, its handle's
//! commands and a tick. No lock: the connection threads only read and write.
//!
//! | file | holds |
//! |---|---|
//! | `leader.rs` | [`LeaderState`]: a leader's coordinator (peers, the index, the query path, promotion) |
//! | `queries.rs` | `Queries`: a leader's queries in flight and the ids it has seen |
//! | `child.rs` | [`ChildState`]: a child's coordinator (its leader, reattaching, its queries, promotion) |
//! | `stats.rs` | [`LeaderStats`]: what a leader counts |

mod child;
mod leader;
mod queries;
mod stats;

pub use child::{ChildState, Cmd, Me, Status};
pub use leader::{LeaderCmd, LeaderState, Rules};
pub use stats::LeaderStats;
