//! What a child's handle answers: the combined answer to a query, or why there is none.

use crate::kazaa::msg::{Hit, MAX_QUERY_LEN};
use crate::kazaa::QUERY_WAIT;
use std::fmt;

/// The combined answer to one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryAnswer {
    pub hits: Vec<Hit>,
    /// Leaders that searched their children's index for it.
    pub leaders: u16,
}

#[derive(Debug)]
pub enum NodeError {
    /// No leader could be reached (at start) or the node is between leaders.
    NoLeader,
    /// The leader went away before answering.
    LeaderLost,
    Timeout,
    QueryTooLong(usize),
    Io(Box<dyn std::error::Error + Send + Sync>),
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeError::NoLeader => write!(f, "no group leader answered"),
            NodeError::LeaderLost => write!(f, "the leader went away before answering"),
            NodeError::Timeout => write!(f, "no answer within {QUERY_WAIT:?}"),
            NodeError::QueryTooLong(n) => {
                write!(f, "query of {n} bytes, at most {MAX_QUERY_LEN}")
            }
            NodeError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for NodeError {}
