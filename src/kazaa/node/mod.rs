//! The two kinds of node, each a handle: bind (or dial), start the coordinator, answer
//! the public API through commands, stop (stop unblocks accept, closes connections and
//! joins every thread; Drop does the same).
//!
//! | file | holds |
//! |---|---|
//! | `leader.rs` | [`Leader`], [`LeaderConfig`]: a group leader (组长) |
//! | `child.rs` | [`Node`], [`NodeConfig`]: an ordinary node, the child of a leader |
//! | `answer.rs` | [`QueryAnswer`], [`NodeError`]: what a child's query returns |

mod answer;
mod child;
mod leader;

pub use answer::{NodeError, QueryAnswer};
pub use child::{Node, NodeConfig};
pub use leader::{Leader, LeaderConfig};
