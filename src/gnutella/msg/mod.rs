//! The messages and their codec: Gnutella descriptors, a 23-byte header and one of six
//! payloads (the 0.4 spec; Bye from the 0.6 proposal).
//!
//! ```text
//!  0               16    17   18    19          23
//!  +---------------+-----+----+-----+-----------+------------------+
//!  | GUID (16)     |type |TTL |hops |length (LE)| payload (length) |
//!  +---------------+-----+----+-----+-----------+------------------+
//! ```
//!
//! Integers are little-endian, IPv4 addresses big-endian (network order), as the spec
//! says. The guarantee: [`decode`] and [`decode_payload`] are pure functions of the
//! bytes and return an error, never panic, on anything a peer can send;
//! [`read_descriptor`] checks the length field against [`MAX_PAYLOAD`] before it
//! allocates or reads a byte of the payload. Nothing here touches a socket.
//!
//! | file | holds |
//! |---|---|
//! | `mod.rs` | the header, [`Descriptor`], [`encode`] / [`decode`] / [`read_descriptor`], [`Descriptor::encoded_len`] |
//! | `payload.rs` | [`Kind`], [`Guid`], the six payloads and their bytes |
//! | `handshake.rs` | the `GNUTELLA CONNECT/0.6` handshake that precedes descriptors |
//! | `tests.rs` | byte-literal fixtures, one per descriptor, commented per field |

pub mod handshake;
mod payload;

use crate::wire::{read_body, read_exact_or_eof, Result, WireError};
use byteorder::{ByteOrder, LittleEndian};
pub use payload::{
    decode_payload, encode_payload, new_guid, Bye, Guid, HitResult, Kind, Payload, Pong, Push,
    Query, QueryHit, MAX_RESULTS,
};
use std::io::Read;

/// Bytes in a descriptor header.
pub const HEADER_LEN: usize = 23;
/// Largest payload we read. Real servents refuse far less; Wireshark calls anything
/// above 4 KiB a transfer stream. Checked before allocating.
pub const MAX_PAYLOAD: u32 = 64 * 1024;
/// TTL + hops never exceeds this (the 0.4 spec's "7 is the usual initial TTL").
pub const MAX_TTL: u8 = 7;

/// A whole descriptor: header fields and the decoded payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub guid: Guid,
    pub ttl: u8,
    pub hops: u8,
    pub payload: Payload,
}

impl Descriptor {
    /// `encode(self).len()`, without encoding: the header and the payload's bytes.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + self.payload.encoded_len()
    }
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

/// The header's fields; the payload length is not checked here.
pub fn decode_header(b: &[u8; HEADER_LEN]) -> Header {
    let mut guid = [0u8; 16];
    guid.copy_from_slice(&b[..16]);
    Header {
        guid,
        kind: b[16],
        ttl: b[17],
        hops: b[18],
        len: LittleEndian::read_u32(&b[19..23]),
    }
}

/// Encodes a descriptor, header and payload, into one buffer (written in one call).
pub fn encode(d: &Descriptor) -> Vec<u8> {
    let payload = encode_payload(&d.payload);
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&d.guid);
    out.push(d.payload.kind() as u8);
    out.push(d.ttl);
    out.push(d.hops);
    let mut len = [0u8; 4];
    LittleEndian::write_u32(&mut len, payload.len() as u32);
    out.extend_from_slice(&len);
    out.extend_from_slice(&payload);
    out
}

/// Decodes one whole descriptor from a byte slice (header and exactly its payload).
pub fn decode(b: &[u8]) -> Result<Descriptor> {
    let head: &[u8; HEADER_LEN] =
        b.get(..HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(WireError::Truncated {
                expected: HEADER_LEN,
                got: b.len(),
            })?;
    let h = decode_header(head);
    let body = &b[HEADER_LEN..];
    if h.len as usize != body.len() {
        return Err(WireError::Malformed("length field disagrees with payload"));
    }
    finish(h, body)
}

fn finish(h: Header, body: &[u8]) -> Result<Descriptor> {
    let kind = Kind::from_byte(h.kind).ok_or(WireError::UnknownType(h.kind as u32))?;
    Ok(Descriptor {
        guid: h.guid,
        ttl: h.ttl,
        hops: h.hops,
        payload: decode_payload(kind, body)?,
    })
}

/// Reads one descriptor from a stream. `Ok(None)` on a clean close between descriptors.
/// A type we do not know is skipped (its payload read and dropped), as 0.6 asks, and
/// reported as `UnknownType` so the caller can log it and keep the connection.
pub fn read_descriptor<R: Read>(r: &mut R) -> Result<Option<Descriptor>> {
    let mut head = [0u8; HEADER_LEN];
    if !read_exact_or_eof(r, &mut head)? {
        return Ok(None);
    }
    let h = decode_header(&head);
    let body = read_body(r, h.len as u64, MAX_PAYLOAD as u64)?;
    finish(h, &body).map(Some)
}

#[cfg(test)]
mod tests;
