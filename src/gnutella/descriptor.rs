//! Descriptors: the 23-byte header and the six payloads (Gnutella 0.4 spec, Bye from 0.6).
//!
//! ```text
//!  0               16    17   18    19          23
//!  +---------------+-----+----+-----+-----------+------------------+
//!  | GUID (16)     |type |TTL |hops |length (LE)| payload (length) |
//!  +---------------+-----+----+-----+-----------+------------------+
//! ```
//!
//! Integers are little-endian, IPv4 addresses big-endian (network order), as the spec
//! says. This file holds the types; `codec.rs` the bytes: [`decode`] is a pure function
//! of the bytes, and [`read_descriptor`] checks the length against [`MAX_PAYLOAD`]
//! before reading a byte of the payload.

use std::net::Ipv4Addr;

pub use super::codec::{
    decode, decode_header, decode_payload, encode, encode_payload, read_descriptor,
};

/// Bytes in a descriptor header.
pub const HEADER_LEN: usize = 23;
/// Largest payload we read. Real servents refuse far less; Wireshark calls anything
/// above 4 KiB a transfer stream. Checked before allocating.
pub const MAX_PAYLOAD: u32 = 64 * 1024;
/// TTL + hops never exceeds this (the 0.4 spec's "7 is the usual initial TTL").
pub const MAX_TTL: u8 = 7;
/// Results in one QueryHit: its count field is one byte.
pub const MAX_RESULTS: usize = 255;

/// A descriptor id, or a servent id: 16 bytes.
pub type Guid = [u8; 16];

/// The payload type byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Ping = 0x00,
    Pong = 0x01,
    Bye = 0x02,
    Push = 0x40,
    Query = 0x80,
    QueryHit = 0x81,
}

impl Kind {
    pub fn from_byte(b: u8) -> Option<Kind> {
        Some(match b {
            0x00 => Kind::Ping,
            0x01 => Kind::Pong,
            0x02 => Kind::Bye,
            0x40 => Kind::Push,
            0x80 => Kind::Query,
            0x81 => Kind::QueryHit,
            _ => return None,
        })
    }
}

/// Pong: a servent's listening address and what it shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pong {
    pub port: u16,
    pub ip: Ipv4Addr,
    pub files: u32,
    pub kbytes: u32,
}

/// Bye: why the sender is closing (0.6 proposal; 200 means a normal leave).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bye {
    pub code: u16,
    pub text: String,
}

/// Push: "servent `servent_id`, please connect to `ip:port` and offer file `index`".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    pub servent_id: Guid,
    pub index: u32,
    pub ip: Ipv4Addr,
    pub port: u16,
}

/// Query: keywords, and whatever extension text follows the NUL (e.g. `urn:sha1:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub min_speed: u16,
    pub text: String,
    pub extension: Vec<u8>,
}

/// One file in a QueryHit. `extension` carries `urn:sha1:<base32>` in our hits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HitResult {
    pub index: u32,
    pub size: u32,
    pub name: String,
    pub extension: String,
}

/// QueryHit: where to download (`ip:port`), the files, and who answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryHit {
    pub port: u16,
    pub ip: Ipv4Addr,
    pub speed: u32,
    pub results: Vec<HitResult>,
    /// Optional vendor trailer between the results and the servent id; kept opaque.
    pub trailer: Vec<u8>,
    pub servent_id: Guid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    Ping,
    Pong(Pong),
    Bye(Bye),
    Push(Push),
    Query(Query),
    QueryHit(QueryHit),
}

impl Payload {
    pub fn kind(&self) -> Kind {
        match self {
            Payload::Ping => Kind::Ping,
            Payload::Pong(_) => Kind::Pong,
            Payload::Bye(_) => Kind::Bye,
            Payload::Push(_) => Kind::Push,
            Payload::Query(_) => Kind::Query,
            Payload::QueryHit(_) => Kind::QueryHit,
        }
    }
}

/// A whole descriptor: header fields and the decoded payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub guid: Guid,
    pub ttl: u8,
    pub hops: u8,
    pub payload: Payload,
}

/// The header alone, as it arrives before the payload is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub guid: Guid,
    pub kind: u8,
    pub ttl: u8,
    pub hops: u8,
    pub len: u32,
}

#[cfg(test)]
#[path = "descriptor_tests.rs"]
mod tests;
