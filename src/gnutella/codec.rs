//! Descriptor bytes: encoding, decoding, and reading one from a stream. Every length
//! from the wire is checked before it is used; nothing here panics on bad bytes.

use super::descriptor::*;
use crate::wire::{read_body, read_exact_or_eof, Result, WireError};
use byteorder::{ByteOrder, LittleEndian};
use std::io::Read;
use std::net::Ipv4Addr;

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

fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub fn encode_payload(p: &Payload) -> Vec<u8> {
    let mut out = Vec::new();
    match p {
        Payload::Ping => {}
        Payload::Pong(p) => {
            put_u16(&mut out, p.port);
            out.extend_from_slice(&p.ip.octets());
            put_u32(&mut out, p.files);
            put_u32(&mut out, p.kbytes);
        }
        Payload::Bye(b) => {
            put_u16(&mut out, b.code);
            out.extend_from_slice(b.text.as_bytes());
            out.push(0);
        }
        Payload::Push(p) => {
            out.extend_from_slice(&p.servent_id);
            put_u32(&mut out, p.index);
            out.extend_from_slice(&p.ip.octets());
            put_u16(&mut out, p.port);
        }
        Payload::Query(q) => {
            put_u16(&mut out, q.min_speed);
            out.extend_from_slice(q.text.as_bytes());
            out.push(0);
            out.extend_from_slice(&q.extension);
        }
        Payload::QueryHit(h) => {
            out.push(h.results.len().min(MAX_RESULTS) as u8);
            put_u16(&mut out, h.port);
            out.extend_from_slice(&h.ip.octets());
            put_u32(&mut out, h.speed);
            for r in h.results.iter().take(MAX_RESULTS) {
                put_u32(&mut out, r.index);
                put_u32(&mut out, r.size);
                out.extend_from_slice(r.name.as_bytes());
                out.push(0);
                out.extend_from_slice(r.extension.as_bytes());
                out.push(0); // required even when the extension is empty
            }
            out.extend_from_slice(&h.trailer);
            out.extend_from_slice(&h.servent_id);
        }
    }
    out
}

/// Decodes a payload of type `kind` from exactly its bytes.
pub fn decode_payload(kind: Kind, b: &[u8]) -> Result<Payload> {
    let ip = |at: usize| Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3]);
    Ok(match kind {
        // 0.6 servents may append GGEP extensions to a Ping; we ignore them.
        Kind::Ping => Payload::Ping,
        Kind::Pong => {
            if b.len() < 14 {
                return Err(WireError::Malformed("pong shorter than 14 bytes"));
            }
            Payload::Pong(Pong {
                port: LittleEndian::read_u16(&b[0..2]),
                ip: ip(2),
                files: LittleEndian::read_u32(&b[6..10]),
                kbytes: LittleEndian::read_u32(&b[10..14]),
            })
        }
        Kind::Bye => {
            if b.len() < 2 {
                return Err(WireError::Malformed("bye shorter than 2 bytes"));
            }
            let text = &b[2..];
            let end = text.iter().position(|&c| c == 0).unwrap_or(text.len());
            Payload::Bye(Bye {
                code: LittleEndian::read_u16(&b[0..2]),
                text: String::from_utf8_lossy(&text[..end]).into_owned(),
            })
        }
        Kind::Push => {
            if b.len() < 26 {
                return Err(WireError::Malformed("push shorter than 26 bytes"));
            }
            let mut servent_id = [0u8; 16];
            servent_id.copy_from_slice(&b[..16]);
            Payload::Push(Push {
                servent_id,
                index: LittleEndian::read_u32(&b[16..20]),
                ip: ip(20),
                port: LittleEndian::read_u16(&b[24..26]),
            })
        }
        Kind::Query => {
            if b.len() < 3 {
                return Err(WireError::Malformed("query shorter than 3 bytes"));
            }
            let rest = &b[2..];
            let nul = rest
                .iter()
                .position(|&c| c == 0)
                .ok_or(WireError::Malformed("query text without NUL"))?;
            Payload::Query(Query {
                min_speed: LittleEndian::read_u16(&b[0..2]),
                text: String::from_utf8_lossy(&rest[..nul]).into_owned(),
                extension: rest[nul + 1..].to_vec(),
            })
        }
        Kind::QueryHit => decode_query_hit(b)?,
    })
}

/// Reads a NUL-terminated string starting at `at`; returns it and the offset past the NUL.
fn cstr(b: &[u8], at: usize, why: &'static str) -> Result<(String, usize)> {
    let rest = b.get(at..).ok_or(WireError::Malformed(why))?;
    let nul = rest
        .iter()
        .position(|&c| c == 0)
        .ok_or(WireError::Malformed(why))?;
    Ok((
        String::from_utf8_lossy(&rest[..nul]).into_owned(),
        at + nul + 1,
    ))
}

fn decode_query_hit(b: &[u8]) -> Result<Payload> {
    // count (1) + port (2) + ip (4) + speed (4), and a 16-byte servent id at the end.
    if b.len() < 11 + 16 {
        return Err(WireError::Malformed("queryhit shorter than 27 bytes"));
    }
    let count = b[0] as usize;
    let mut at = 11;
    let mut results = Vec::with_capacity(count);
    for _ in 0..count {
        if at + 8 > b.len() - 16 {
            return Err(WireError::Malformed("queryhit result past the end"));
        }
        let index = LittleEndian::read_u32(&b[at..at + 4]);
        let size = LittleEndian::read_u32(&b[at + 4..at + 8]);
        let (name, next) = cstr(b, at + 8, "queryhit name without NUL")?;
        let (extension, next) = cstr(b, next, "queryhit extension without NUL")?;
        at = next;
        results.push(HitResult {
            index,
            size,
            name,
            extension,
        });
    }
    if at + 16 > b.len() {
        return Err(WireError::Malformed("queryhit without servent id"));
    }
    let mut servent_id = [0u8; 16];
    servent_id.copy_from_slice(&b[b.len() - 16..]);
    Ok(Payload::QueryHit(QueryHit {
        port: LittleEndian::read_u16(&b[1..3]),
        ip: Ipv4Addr::new(b[3], b[4], b[5], b[6]),
        speed: LittleEndian::read_u32(&b[7..11]),
        results,
        trailer: b[at..b.len() - 16].to_vec(),
        servent_id,
    }))
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
