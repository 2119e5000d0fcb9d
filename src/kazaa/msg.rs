//! The messages of our KaZaA-like protocol and their codec.
//!
//! FastTrack (KaZaA's real protocol) was closed and encrypted, so p2plab speaks its own
//! small protocol, laid out here byte by byte. Every frame is `wire`'s `Prefix::U32Be`
//! (a 4-byte big-endian length, at most [`MAX_FRAME`]), then one type byte, then the
//! payload. Every integer is big-endian; an IPv4 address is its 4 bytes in network order.
//!
//! ```text
//! type  message   payload                                         who sends it
//! 0x00  Ping      (empty)                                          everyone, when idle
//! 0x01  Hello     role u8 | port u16 | capacity u32 (KiB/s)        first frame of a connection
//! 0x02  Welcome   count u8 | count x (ip 4 | port u16)             leader -> newcomer: other leaders
//! 0x03  Leaders   same as Welcome                                  leader -> children: list changed
//! 0x04  Publish   count u16 | count x FileDesc                     child -> leader: its content list
//! 0x05  Indexed   files u32                                        leader -> child: publish done
//! 0x06  Query     id u64 | ttl u8 | hops u8 | len u8 | text        child -> leader, leader -> leader
//! 0x07  Hits      id u64 | leaders u16 | count u16 | count x Hit   the answer, one per Query
//! 0x08  Promote   (empty)                                          leader -> child: become a leader
//! 0x09  Redirect  ip 4 | port u16                                  leader -> child: move there
//! 0x0a  Bye       (empty)                                          either side, before closing
//!
//! role:      0 = node (child), 1 = leader, 2 = a child just promoted to leader
//! FileDesc:  sha1 20 | size u64 | len u8 | name | kw u8 | kw x (len u8 | keyword)
//! Hit:       sha1 20 | size u64 | ip 4 | port u16 | len u8 | name
//! ```
//!
//! `port` in Hello is where the sender can be reached: a child's HTTP share port, a
//! leader's listening port. The IP is never sent: the receiver takes it from the socket,
//! so a peer cannot announce somebody else's address.

use crate::share::ids::Sha1Id;
use crate::wire::WireError;
use std::net::SocketAddrV4;

/// Largest frame body accepted. The biggest legal messages (a Publish of
/// [`MAX_PUBLISH`] files, a Hits of [`MAX_HITS`]) fit well inside.
pub const MAX_FRAME: u64 = 256 * 1024;
/// Files in one Publish message; a longer list is sent in several.
pub const MAX_PUBLISH: usize = 200;
/// Hits in one Hits message (and so in one answer).
pub const MAX_HITS: usize = 500;
/// Keywords describing one file, and the longest keyword.
pub const MAX_KEYWORDS: usize = 16;
pub const MAX_KEYWORD_LEN: usize = 32;
/// Leaders listed in one Welcome or Leaders message.
pub const MAX_LEADERS: usize = 64;
/// Longest query text (it must fit the u8 length).
pub const MAX_QUERY_LEN: usize = 255;
/// A query travels at most this many leader-to-leader hops.
pub const MAX_TTL: u8 = 7;

/// What the sender of a Hello is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Node,
    Leader,
    /// A leader that was a child of the receiver a moment ago (the receiver then moves
    /// some of its children to it).
    Promoted,
}

/// One file as a child describes it to its leader: the notes' descriptor and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDesc {
    pub sha1: Sha1Id,
    pub size: u64,
    pub name: String,
    pub keywords: Vec<String>,
}

/// One match: metadata, hash and the holder's address (where to send the HTTP GET).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hit {
    pub name: String,
    pub size: u64,
    pub sha1: Sha1Id,
    pub holder: SocketAddrV4,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    Ping,
    Hello {
        role: Role,
        port: u16,
        capacity: u32,
    },
    Welcome(Vec<SocketAddrV4>),
    Leaders(Vec<SocketAddrV4>),
    Publish(Vec<FileDesc>),
    Indexed(u32),
    Query {
        id: u64,
        ttl: u8,
        hops: u8,
        text: String,
    },
    /// `leaders`: how many leaders searched their index for this answer.
    Hits {
        id: u64,
        leaders: u16,
        hits: Vec<Hit>,
    },
    Promote,
    Redirect(SocketAddrV4),
    Bye,
}

impl Msg {
    /// The body of one frame (without the length prefix).
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(32);
        match self {
            Msg::Ping => b.push(0x00),
            Msg::Hello {
                role,
                port,
                capacity,
            } => {
                b.push(0x01);
                b.push(match role {
                    Role::Node => 0,
                    Role::Leader => 1,
                    Role::Promoted => 2,
                });
                b.extend_from_slice(&port.to_be_bytes());
                b.extend_from_slice(&capacity.to_be_bytes());
            }
            Msg::Welcome(list) | Msg::Leaders(list) => {
                b.push(if matches!(self, Msg::Welcome(_)) {
                    0x02
                } else {
                    0x03
                });
                let list = &list[..list.len().min(MAX_LEADERS)];
                b.push(list.len() as u8);
                list.iter().for_each(|a| put_addr(&mut b, a));
            }
            Msg::Publish(files) => {
                b.push(0x04);
                b.extend_from_slice(&(files.len() as u16).to_be_bytes());
                for f in files {
                    b.extend_from_slice(&f.sha1);
                    b.extend_from_slice(&f.size.to_be_bytes());
                    put_str(&mut b, &f.name);
                    let kws = &f.keywords[..f.keywords.len().min(MAX_KEYWORDS)];
                    b.push(kws.len() as u8);
                    kws.iter().for_each(|k| put_str(&mut b, k));
                }
            }
            Msg::Indexed(n) => {
                b.push(0x05);
                b.extend_from_slice(&n.to_be_bytes());
            }
            Msg::Query {
                id,
                ttl,
                hops,
                text,
            } => {
                b.push(0x06);
                b.extend_from_slice(&id.to_be_bytes());
                b.push(*ttl);
                b.push(*hops);
                put_str(&mut b, text);
            }
            Msg::Hits { id, leaders, hits } => {
                b.push(0x07);
                b.extend_from_slice(&id.to_be_bytes());
                b.extend_from_slice(&leaders.to_be_bytes());
                let hits = &hits[..hits.len().min(MAX_HITS)];
                b.extend_from_slice(&(hits.len() as u16).to_be_bytes());
                for h in hits {
                    b.extend_from_slice(&h.sha1);
                    b.extend_from_slice(&h.size.to_be_bytes());
                    put_addr(&mut b, &h.holder);
                    put_str(&mut b, &h.name);
                }
            }
            Msg::Promote => b.push(0x08),
            Msg::Redirect(a) => {
                b.push(0x09);
                put_addr(&mut b, a);
            }
            Msg::Bye => b.push(0x0a),
        }
        b
    }

    /// Decodes one frame body. Never panics; every count is checked against its limit
    /// before anything is reserved, and trailing bytes are an error.
    pub fn decode(body: &[u8]) -> Result<Msg, WireError> {
        let mut r = Cursor { b: body };
        let msg = match r.u8()? {
            0x00 => Msg::Ping,
            0x01 => Msg::Hello {
                role: match r.u8()? {
                    0 => Role::Node,
                    1 => Role::Leader,
                    2 => Role::Promoted,
                    _ => return Err(WireError::Malformed("Hello role is not 0, 1 or 2")),
                },
                port: r.u16()?,
                capacity: r.u32()?,
            },
            t @ (0x02 | 0x03) => {
                let n = r.u8()? as usize;
                limit(n, MAX_LEADERS)?;
                let list = (0..n).map(|_| r.addr()).collect::<Result<_, _>>()?;
                if t == 0x02 {
                    Msg::Welcome(list)
                } else {
                    Msg::Leaders(list)
                }
            }
            0x04 => {
                let n = r.u16()? as usize;
                limit(n, MAX_PUBLISH)?;
                let mut files = Vec::with_capacity(n);
                for _ in 0..n {
                    let sha1 = r.sha1()?;
                    let size = r.u64()?;
                    let name = r.name()?;
                    let k = r.u8()? as usize;
                    limit(k, MAX_KEYWORDS)?;
                    let mut keywords = Vec::with_capacity(k);
                    for _ in 0..k {
                        let kw = r.str()?;
                        if kw.is_empty() || kw.len() > MAX_KEYWORD_LEN {
                            return Err(WireError::Malformed("keyword empty or too long"));
                        }
                        keywords.push(kw);
                    }
                    files.push(FileDesc {
                        sha1,
                        size,
                        name,
                        keywords,
                    });
                }
                Msg::Publish(files)
            }
            0x05 => Msg::Indexed(r.u32()?),
            0x06 => Msg::Query {
                id: r.u64()?,
                ttl: r.u8()?,
                hops: r.u8()?,
                text: r.str()?,
            },
            0x07 => {
                let id = r.u64()?;
                let leaders = r.u16()?;
                let n = r.u16()? as usize;
                limit(n, MAX_HITS)?;
                let mut hits = Vec::with_capacity(n);
                for _ in 0..n {
                    let sha1 = r.sha1()?;
                    let size = r.u64()?;
                    let holder = r.addr()?;
                    let name = r.name()?;
                    hits.push(Hit {
                        name,
                        size,
                        sha1,
                        holder,
                    });
                }
                Msg::Hits { id, leaders, hits }
            }
            0x08 => Msg::Promote,
            0x09 => Msg::Redirect(r.addr()?),
            0x0a => Msg::Bye,
            t => return Err(WireError::UnknownType(t as u32)),
        };
        if !r.b.is_empty() {
            return Err(WireError::Malformed("bytes after the end of the message"));
        }
        Ok(msg)
    }
}

#[path = "msg_codec.rs"]
mod codec;
use codec::{limit, put_addr, put_str, Cursor};

#[cfg(test)]
#[path = "msg_tests.rs"]
mod tests;
