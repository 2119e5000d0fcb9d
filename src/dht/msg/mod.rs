//! The messages of our ring protocol and how they are laid out, byte by byte.
//!
//! Chord's paper names the remote calls but no wire format, so this one is ours. Every
//! message travels in a frame of the wire layer: a u32 big-endian length (at most
//! [`MAX_FRAME`]) and then the body. A connection carries requests from the side that
//! opened it and one reply per request, in order.
//!
//! ```text
//! request body:  type u8 | bits u8 (the sender's m) | fields
//! reply body:    type u8 | fields
//!
//! id     20 bytes, big-endian; the bits above m are zero
//! node   id (20) | family u8 (4 or 6) | address (4 or 16 bytes) | port u16 BE
//! nodes  count u8 (<= MAX_NODES) | node x count
//! key    len u16 BE (<= MAX_KEY)   | bytes
//! value  len u16 BE (<= MAX_VALUE) | bytes
//! text   len u16 BE (<= MAX_TEXT)  | UTF-8
//!
//! type  request           fields
//! 0x01  PING              -
//! 0x02  FIND_STEP         id | routing u8 (0 = fingers, 1 = successor only)
//! 0x03  GET_PREDECESSOR   -
//! 0x04  GET_SUCCESSORS    -
//! 0x05  NOTIFY            node (the sender, offering itself as our predecessor)
//! 0x06  GET               key
//! 0x07  PUT               key | value | forwards u8 (<= MAX_FORWARDS)
//! 0x08  STORE             count u16 (<= MAX_ENTRIES) | { key | count u16 (<= MAX_VALUES) | value x count } x count
//! 0x09  PRED_LEAVING      node (the leaver) | has u8 (0/1) | node (its predecessor, if has)
//! 0x0a  SUCC_LEAVING      node (the leaver) | nodes (its successor list)
//!
//! type  reply             fields
//! 0x81  PONG              node (who answered)
//! 0x82  DONE              nodes (1..: the owner of the id, then its successors)
//! 0x83  NEXT              nodes (1..: ask the first next; the rest are fallbacks)
//! 0x84  PREDECESSOR       has u8 (0/1) | node (if has)
//! 0x85  SUCCESSORS        nodes
//! 0x86  VALUES            count u16 (<= MAX_VALUES) | value x count
//! 0x87  OK                -
//! 0xff  ERROR             text; the sender then closes the connection
//! ```
//!
//! Example, PING from a 160-bit node: `00 00 00 02` (length) `01` (PING) `a0` (m = 160).

mod decode;
mod encode;
#[cfg(test)]
mod tests;

pub use decode::{decode_reply, decode_request};
pub use encode::{encode_reply, encode_request};

use super::id::Id;
use super::policy::{NodeRef, Routing};
use std::collections::BTreeSet;

/// Largest frame body we read; the biggest legal message (a full STORE batch) fits.
pub const MAX_FRAME: u64 = 1 << 20;
/// Nodes in one list: more than any successor list (r) or fallback list we send.
pub const MAX_NODES: usize = 32;
/// Bytes of a key (e.g. a file's SHA-1 in hex is 40).
pub const MAX_KEY: usize = 512;
/// Bytes of one value (e.g. a peer's `ip:port`).
pub const MAX_VALUE: usize = 512;
/// Values under one key. A full set refuses further puts, so a key cannot grow a frame
/// past [`MAX_FRAME`]: 256 x (2 + 512) bytes is about 128 KiB.
pub const MAX_VALUES: usize = 256;
/// Keys in one STORE message; senders split larger hand-overs.
pub const MAX_ENTRIES: usize = 4096;
/// Hops a PUT may be passed back towards the owner during a join (see `handle.rs`).
pub const MAX_FORWARDS: u8 = 2;
/// Bytes of an error text.
pub const MAX_TEXT: usize = 1024;

/// A key and every value stored under it: what a STORE carries.
pub type Entry = (Vec<u8>, BTreeSet<Vec<u8>>);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    Ping,
    /// One step of an iterative lookup (the asking node walks the ring itself).
    FindStep {
        id: Id,
        routing: Routing,
    },
    GetPredecessor,
    GetSuccessors,
    Notify(NodeRef),
    Get(Vec<u8>),
    Put {
        key: Vec<u8>,
        value: Vec<u8>,
        forwards: u8,
    },
    /// Hand-over (join, leave) and replication: merge these entries into the store.
    Store(Vec<Entry>),
    /// To the leaver's successor: your predecessor is leaving; here is its predecessor.
    PredLeaving {
        leaver: NodeRef,
        pred: Option<NodeRef>,
    },
    /// To the leaver's predecessor: your successor is leaving; here are its successors.
    SuccLeaving {
        leaver: NodeRef,
        succs: Vec<NodeRef>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    Pong(NodeRef),
    Done(Vec<NodeRef>),
    Next(Vec<NodeRef>),
    Predecessor(Option<NodeRef>),
    Successors(Vec<NodeRef>),
    Values(BTreeSet<Vec<u8>>),
    Ok,
    Error(String),
}

pub(crate) mod ty {
    pub const PING: u8 = 0x01;
    pub const FIND_STEP: u8 = 0x02;
    pub const GET_PREDECESSOR: u8 = 0x03;
    pub const GET_SUCCESSORS: u8 = 0x04;
    pub const NOTIFY: u8 = 0x05;
    pub const GET: u8 = 0x06;
    pub const PUT: u8 = 0x07;
    pub const STORE: u8 = 0x08;
    pub const PRED_LEAVING: u8 = 0x09;
    pub const SUCC_LEAVING: u8 = 0x0a;
    pub const PONG: u8 = 0x81;
    pub const DONE: u8 = 0x82;
    pub const NEXT: u8 = 0x83;
    pub const PREDECESSOR: u8 = 0x84;
    pub const SUCCESSORS: u8 = 0x85;
    pub const VALUES: u8 = 0x86;
    pub const OK: u8 = 0x87;
    pub const ERROR: u8 = 0xff;
}
