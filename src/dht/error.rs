//! The one error type of the DHT module.

use super::id::Id;
use crate::wire::WireError;
use std::fmt;
use std::io;
use std::net::SocketAddr;

#[derive(Debug)]
pub enum DhtError {
    /// Framing or decoding failed (the peer sent bad bytes, or the socket broke).
    Wire(WireError),
    /// A socket could not be opened or bound.
    Io(io::Error),
    /// The peer answered ERROR with this text.
    Remote(String),
    /// A node claimed an id that is not the hash of its address.
    BadId { addr: SocketAddr, claimed: Id },
    /// Another node on the ring already has our id (likely on a small ring: m = 8).
    IdTaken { id: Id, by: SocketAddr },
    /// The peer is on a ring of another size.
    BitsMismatch { ours: u32, theirs: u32 },
    /// The reply does not answer the request (e.g. VALUES to a PING).
    Unexpected(&'static str),
    /// Every node a lookup could ask next has failed.
    NoRoute(Id),
    /// A lookup went on for longer than any ring we run could need.
    TooManyHops(usize),
    /// A setting the node cannot run with.
    Config(&'static str),
    /// The node has been stopped (or its coordinator did not answer).
    Stopped,
    /// A leave notice for `leaver` came from another address.
    NotTheLeaver {
        leaver: SocketAddr,
        from: SocketAddr,
    },
    /// No reply came from this node after every try (`rpc::TRIES`).
    NoAnswer(SocketAddr),
}

impl fmt::Display for DhtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DhtError::Wire(e) => write!(f, "{e}"),
            DhtError::Io(e) => write!(f, "i/o error: {e}"),
            DhtError::Remote(t) => write!(f, "peer refused: {t}"),
            DhtError::BadId { addr, claimed } => write!(
                f,
                "node {addr} claims id {claimed}, which is not the hash of its address"
            ),
            DhtError::IdTaken { id, by } => {
                write!(
                    f,
                    "id {id} is already taken by {by}; listen on another port"
                )
            }
            DhtError::BitsMismatch { ours, theirs } => {
                write!(f, "peer uses a {theirs}-bit ring, we use {ours} bits")
            }
            DhtError::Unexpected(what) => write!(f, "unexpected reply: {what}"),
            DhtError::NoRoute(id) => write!(f, "no live node to ask on the way to {id}"),
            DhtError::TooManyHops(n) => write!(f, "lookup gave up after {n} hops"),
            DhtError::Config(why) => write!(f, "bad configuration: {why}"),
            DhtError::Stopped => write!(f, "the node is stopped"),
            DhtError::NoAnswer(a) => write!(f, "no answer from {a}"),
            DhtError::NotTheLeaver { leaver, from } => {
                write!(
                    f,
                    "a leave notice for {leaver} must come from it, not from {from}"
                )
            }
        }
    }
}

impl std::error::Error for DhtError {}

impl From<WireError> for DhtError {
    fn from(e: WireError) -> Self {
        DhtError::Wire(e)
    }
}

impl From<io::Error> for DhtError {
    fn from(e: io::Error) -> Self {
        DhtError::Io(e)
    }
}
