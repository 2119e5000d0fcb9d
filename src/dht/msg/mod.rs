//! The messages of our ring protocol and how they are laid out, byte by byte.
//!
//! Chord's paper names the remote calls but no wire format, so this one is ours. Every
//! message is one UDP datagram (数据报) of at most [`MAX_DATAGRAM`] bytes: a transaction
//! id (u32 big-endian, chosen by the caller and echoed in the reply, as BEP 5's KRPC
//! does), one byte of flags, and then the body. No length prefix: the datagram has its
//! own length. A reply is matched to its request by transaction id *and* source
//! address; anything else is stale (a reply to a retry that already succeeded) and
//! dropped.
//!
//! **The upkeep flag.** Bit 0 of the flags says the datagram is the ring's upkeep (the
//! cost of keeping the structure): a call of a maintenance round (stabilize's
//! GET_PREDECESSOR, GET_SUCCESSORS and NOTIFY, fix-fingers' GET_PREDECESSOR and
//! FIND_STEP, check-predecessor's PING, the replication round's STORE), and the reply to
//! one, which echoes its request's flags. A search's FIND_STEP and a fix-fingers'
//! FIND_STEP are the same bytes otherwise, so only the caller knows, and the flag tells
//! the answerer: both ends then count the datagram as upkeep where it crosses their
//! socket (`locate::Traffic`), and the whole network's sums are right. Everything a user
//! asked for (a lookup, GET, PUT, a join's or leave's hand-over, a leave notice) has the
//! bit clear. Bits 1 to 7 are zero; a datagram with any of them set is refused, so a
//! datagram has one reading.
//!
//! Why 8 KiB: every routing message (a lookup step, a successor list) is under 1.5 KiB,
//! one Ethernet frame. Only values need more, and a datagram larger than the link's MTU
//! travels as IP fragments, all lost if one is. 8 KiB (6 fragments on Ethernet, one
//! packet on loopback) holds a key and 15 values of the largest size, or about 75
//! provider entries of the labs. Larger sets travel in pages (GET_AFTER, MORE) and
//! larger hand-overs in several STOREs; a key's values may be split across two STOREs,
//! which is harmless because STORE merges by set union.
//!
//! ```text
//! datagram:      txid u32 BE | flags u8 (bit 0: upkeep; bits 1-7: 0) | body
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
//! 0x0b  GET_AFTER         key | value (the last one received: the page after it)
//!
//! type  reply             fields
//! 0x81  PONG              node (who answered)
//! 0x82  DONE              nodes (1..: the owner of the id, then its successors)
//! 0x83  NEXT              nodes (1..: ask the first next; the rest are fallbacks)
//! 0x84  PREDECESSOR       has u8 (0/1) | node (if has)
//! 0x85  SUCCESSORS        nodes
//! 0x86  VALUES            count u16 (<= MAX_VALUES) | value x count
//! 0x87  OK                -
//! 0x88  MORE              as VALUES; more follow: ask GET_AFTER the last one
//! 0xff  ERROR             text (the request was refused)
//! ```
//!
//! Example, a search's PING from a 160-bit node as transaction 7: `00 00 00 07` (txid)
//! `00` (flags: not upkeep) `01` (PING) `a0` (m = 160). Its answer: `00 00 00 07` `00`
//! `81` (PONG) and the node. The same PING from check-predecessor: `00 00 00 07` `01`
//! (flags: upkeep) `01` `a0`, answered `00 00 00 07` `01` `81` and the node.

mod decode;
mod encode;
#[cfg(test)]
mod tests;

pub use decode::{decode_reply, decode_request, split_head};
pub use encode::{datagram, encode_reply, encode_request};

use super::id::Id;
use super::policy::{NodeRef, Routing};
use std::collections::BTreeSet;

/// Largest datagram sent or accepted, transaction id included (see above for why).
pub const MAX_DATAGRAM: usize = 8192;
/// Bytes in front of every body: the transaction id (4) and the flags (1).
pub const HEAD_BYTES: usize = 5;
/// Largest body: what is left of a datagram after its head.
pub const MAX_BODY: usize = MAX_DATAGRAM - HEAD_BYTES;
/// The flags bit of a datagram that is the ring's upkeep (see above).
pub const FLAG_UPKEEP: u8 = 0x01;
/// Nodes in one list: more than any successor list (r) or fallback list we send.
pub const MAX_NODES: usize = 32;
/// Bytes of a key (e.g. a file's SHA-1 in hex is 40).
pub const MAX_KEY: usize = 512;
/// Bytes of one value (e.g. a peer's `ip:port`).
pub const MAX_VALUE: usize = 512;
/// Values under one key (a full set refuses further puts), and in one VALUES or MORE
/// reply. A GET reads a large set in pages of what fits a datagram.
pub const MAX_VALUES: usize = 256;
/// Keys in one STORE message; senders split larger hand-overs. Each needs at least 4
/// bytes, so a datagram could not hold more.
pub const MAX_ENTRIES: usize = MAX_BODY / 4;
/// Hops a PUT may be passed back towards the owner during a join (see `handle.rs`).
pub const MAX_FORWARDS: u8 = 2;
/// Bytes of an error text.
pub const MAX_TEXT: usize = 1024;

/// A key and every value stored under it: what a STORE carries.
pub type Entry = (Vec<u8>, BTreeSet<Vec<u8>>);

/// What comes before a body: the transaction id and whether the datagram is upkeep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Head {
    pub txid: u32,
    /// Bit 0 of the flags: a maintenance round's call, or the reply to one.
    pub upkeep: bool,
}

impl Head {
    /// A call a user asked for, or its reply (flags 0).
    pub fn call(txid: u32) -> Head {
        Head {
            txid,
            upkeep: false,
        }
    }

    /// A maintenance round's call, or its reply (flags [`FLAG_UPKEEP`]).
    pub fn upkeep(txid: u32) -> Head {
        Head { txid, upkeep: true }
    }
}

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
    /// The next page of a key's values: those after `after`, in byte order.
    GetAfter {
        key: Vec<u8>,
        after: Vec<u8>,
    },
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
    /// Some of a key's values, the smallest first; more follow (ask GET_AFTER the last).
    More(BTreeSet<Vec<u8>>),
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
    pub const GET_AFTER: u8 = 0x0b;
    pub const PONG: u8 = 0x81;
    pub const DONE: u8 = 0x82;
    pub const NEXT: u8 = 0x83;
    pub const PREDECESSOR: u8 = 0x84;
    pub const SUCCESSORS: u8 = 0x85;
    pub const VALUES: u8 = 0x86;
    pub const OK: u8 = 0x87;
    pub const MORE: u8 = 0x88;
    pub const ERROR: u8 = 0xff;
}
