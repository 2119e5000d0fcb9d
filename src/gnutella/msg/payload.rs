//! The six payloads (Gnutella 0.4 spec, Bye from the 0.6 proposal): their types and
//! their bytes. [`decode_payload`] is a pure function of exactly a payload's bytes; it
//! checks every length before it reads, so no slice index here can panic.

use crate::rng::Rng;
use crate::wire::{Result, WireError};
use byteorder::{ByteOrder, LittleEndian};
use std::net::Ipv4Addr;

/// A descriptor id, or a servent id: 16 bytes.
pub type Guid = [u8; 16];

/// A fresh GUID from the seeded [`Rng`], marked as modern servents mark them
/// (byte 8 = 0xFF, byte 15 = 0x00).
pub fn new_guid(rng: &mut Rng) -> Guid {
    let mut g = [0u8; 16];
    for chunk in g.chunks_mut(8) {
        chunk.copy_from_slice(&rng.next_u64().to_le_bytes());
    }
    g[8] = 0xff;
    g[15] = 0x00;
    g
}

/// Results in one QueryHit: its count field is one byte.
pub const MAX_RESULTS: usize = 255;

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

    /// The bytes [`encode_payload`] writes for it, counted without writing them (a decoded
    /// descriptor's size, for the traffic counters); `tests.rs` holds the two together.
    pub fn encoded_len(&self) -> usize {
        // Each string goes out followed by its NUL.
        let cstr = |s: &str| s.len() + 1;
        match self {
            Payload::Ping => 0,
            // port, IPv4, files, kbytes
            Payload::Pong(_) => 2 + 4 + 4 + 4,
            Payload::Bye(b) => 2 + cstr(&b.text),
            // servent id, index, IPv4, port
            Payload::Push(_) => 16 + 4 + 4 + 2,
            Payload::Query(q) => 2 + cstr(&q.text) + q.extension.len(),
            Payload::QueryHit(h) => {
                // count, port, IPv4, speed; then index, size and two strings per result
                let results: usize = h
                    .results
                    .iter()
                    .take(MAX_RESULTS)
                    .map(|r| 4 + 4 + cstr(&r.name) + cstr(&r.extension))
                    .sum();
                1 + 2 + 4 + 4 + results + h.trailer.len() + 16
            }
        }
    }
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
