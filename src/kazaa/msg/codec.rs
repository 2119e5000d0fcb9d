//! The codec: [`Msg::encode`] and [`Msg::decode`], and the field readers and writers
//! under them (big-endian integers, IPv4 addresses, u8-length strings). Every count is
//! checked against its limit before anything is reserved; after the length checks no
//! accessor panics.

use super::{
    FileDesc, Hit, Msg, Role, MAX_HITS, MAX_KEYWORDS, MAX_KEYWORD_LEN, MAX_LEADERS, MAX_PUBLISH,
};

use crate::share::ids::Sha1Id;
use crate::wire::WireError;
use std::net::{Ipv4Addr, SocketAddrV4};

impl Msg {
    /// The message's name, as the type table in `mod.rs` gives it (for log lines).
    pub fn name(&self) -> &'static str {
        match self {
            Msg::Ping => "Ping",
            Msg::Hello { .. } => "Hello",
            Msg::Welcome(_) => "Welcome",
            Msg::Leaders(_) => "Leaders",
            Msg::Publish(_) => "Publish",
            Msg::Indexed(_) => "Indexed",
            Msg::Query { .. } => "Query",
            Msg::Hits { .. } => "Hits",
            Msg::Promote(_) => "Promote",
            Msg::Redirect(_) => "Redirect",
            Msg::Bye => "Bye",
            Msg::Subscribe => "Subscribe",
            Msg::Copy { .. } => "Copy",
            Msg::Uncopy(_) => "Uncopy",
        }
    }

    /// Whether a frame body is upkeep (a Ping: type 0x00, and nothing else), read from
    /// its first byte, so the sockets' counters need not decode it.
    pub fn is_upkeep(body: &[u8]) -> bool {
        body == [0x00]
    }

    /// The body of one frame (without the length prefix).
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(32);
        self.encode_into(&mut b);
        b
    }

    /// Appends the body to `b`: a sender builds frames straight into its outgoing
    /// buffer, without a Vec per message.
    pub fn encode_into(&self, b: &mut Vec<u8>) {
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
                    Role::Promoted(_) => 2,
                });
                b.extend_from_slice(&port.to_be_bytes());
                b.extend_from_slice(&capacity.to_be_bytes());
                if let Role::Promoted(grant) = role {
                    b.extend_from_slice(&grant.to_be_bytes());
                }
            }
            Msg::Welcome(list) | Msg::Leaders(list) => {
                b.push(if matches!(self, Msg::Welcome(_)) {
                    0x02
                } else {
                    0x03
                });
                let list = &list[..list.len().min(MAX_LEADERS)];
                b.push(list.len() as u8);
                list.iter().for_each(|a| put_addr(b, a));
            }
            Msg::Publish(files) => {
                b.push(0x04);
                put_files(b, files);
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
                put_str(b, text);
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
                    put_addr(b, &h.holder);
                    put_str(b, &h.name);
                }
            }
            Msg::Promote(grant) => {
                b.push(0x08);
                b.extend_from_slice(&grant.to_be_bytes());
            }
            Msg::Redirect(a) => {
                b.push(0x09);
                put_addr(b, a);
            }
            Msg::Bye => b.push(0x0a),
            Msg::Subscribe => b.push(0x0b),
            Msg::Copy {
                child,
                holder,
                files,
            } => {
                b.push(0x0c);
                b.extend_from_slice(&child.to_be_bytes());
                put_addr(b, holder);
                put_files(b, files);
            }
            Msg::Uncopy(child) => {
                b.push(0x0d);
                b.extend_from_slice(&child.to_be_bytes());
            }
        }
    }

    /// Decodes one frame body. Never panics; every count is checked against its limit
    /// before anything is reserved, and trailing bytes are an error.
    pub fn decode(body: &[u8]) -> Result<Msg, WireError> {
        let mut r = Cursor { b: body };
        let msg = match r.u8()? {
            0x00 => Msg::Ping,
            0x01 => {
                let role = r.u8()?;
                let (port, capacity) = (r.u16()?, r.u32()?);
                let role = match role {
                    0 => Role::Node,
                    1 => Role::Leader,
                    2 => Role::Promoted(r.u64()?),
                    _ => return Err(WireError::Malformed("Hello role is not 0, 1 or 2")),
                };
                Msg::Hello {
                    role,
                    port,
                    capacity,
                }
            }
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
            0x04 => Msg::Publish(r.files()?),
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
            0x08 => Msg::Promote(r.u64()?),
            0x09 => Msg::Redirect(r.addr()?),
            0x0a => Msg::Bye,
            0x0b => Msg::Subscribe,
            0x0c => Msg::Copy {
                child: r.u64()?,
                holder: r.addr()?,
                files: r.files()?,
            },
            0x0d => Msg::Uncopy(r.u64()?),
            t => return Err(WireError::UnknownType(t as u32)),
        };
        if !r.b.is_empty() {
            return Err(WireError::Malformed("bytes after the end of the message"));
        }
        Ok(msg)
    }
}

fn limit(n: usize, max: usize) -> Result<(), WireError> {
    if n > max {
        return Err(WireError::TooLong {
            len: n as u64,
            max: max as u64,
        });
    }
    Ok(())
}

/// A file list, as Publish and Copy carry it: count u16, then each FileDesc. At most
/// [`MAX_PUBLISH`] go out; callers split longer lists.
fn put_files(b: &mut Vec<u8>, files: &[FileDesc]) {
    let files = &files[..files.len().min(MAX_PUBLISH)];
    b.extend_from_slice(&(files.len() as u16).to_be_bytes());
    for f in files {
        b.extend_from_slice(&f.sha1);
        b.extend_from_slice(&f.size.to_be_bytes());
        put_str(b, &f.name);
        let kws = &f.keywords[..f.keywords.len().min(MAX_KEYWORDS)];
        b.push(kws.len() as u8);
        kws.iter().for_each(|k| put_str(b, k));
    }
}

fn put_addr(b: &mut Vec<u8>, a: &SocketAddrV4) {
    b.extend_from_slice(&a.ip().octets());
    b.extend_from_slice(&a.port().to_be_bytes());
}

/// A u8 length then the bytes; text longer than 255 bytes is cut at a char boundary
/// (callers check names and queries before they get here).
fn put_str(b: &mut Vec<u8>, s: &str) {
    let mut end = s.len().min(255);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    b.push(end as u8);
    b.extend_from_slice(&s.as_bytes()[..end]);
}

/// Reads fields off the front of a message body.
struct Cursor<'a> {
    b: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.b.len() < n {
            return Err(WireError::Malformed("message ends inside a field"));
        }
        let (head, rest) = self.b.split_at(n);
        self.b = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, WireError> {
        Ok(u16::from_be_bytes(self.take(2)?.try_into().unwrap()))
    }
    fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn u64(&mut self) -> Result<u64, WireError> {
        Ok(u64::from_be_bytes(self.take(8)?.try_into().unwrap()))
    }
    fn sha1(&mut self) -> Result<Sha1Id, WireError> {
        Ok(self.take(20)?.try_into().unwrap())
    }
    fn addr(&mut self) -> Result<SocketAddrV4, WireError> {
        let ip: [u8; 4] = self.take(4)?.try_into().unwrap();
        Ok(SocketAddrV4::new(Ipv4Addr::from(ip), self.u16()?))
    }
    fn str(&mut self) -> Result<String, WireError> {
        let n = self.u8()? as usize;
        let raw = self.take(n)?;
        String::from_utf8(raw.to_vec()).map_err(|_| WireError::Malformed("text is not UTF-8"))
    }
    /// A file list (Publish, Copy): the count is checked before anything is reserved.
    fn files(&mut self) -> Result<Vec<FileDesc>, WireError> {
        let n = self.u16()? as usize;
        limit(n, MAX_PUBLISH)?;
        let mut files = Vec::with_capacity(n);
        for _ in 0..n {
            let sha1 = self.sha1()?;
            let size = self.u64()?;
            let name = self.name()?;
            let k = self.u8()? as usize;
            limit(k, MAX_KEYWORDS)?;
            let mut keywords = Vec::with_capacity(k);
            for _ in 0..k {
                let kw = self.str()?;
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
        Ok(files)
    }
    /// A file name: text that could name a file in a folder (no `/`, no `..`).
    fn name(&mut self) -> Result<String, WireError> {
        let s = self.str()?;
        if crate::share::safe_name(&s).is_none() {
            return Err(WireError::Malformed(
                "file name is empty or has a path in it",
            ));
        }
        Ok(s)
    }
}
