//! Decoding the ring protocol (`mod.rs` has the layout). Pure functions over a byte
//! slice: every count and length is checked against its limit before anything is
//! allocated, and trailing bytes are an error, so a message has exactly one reading.

use super::*;
use crate::dht::id::{ID_BYTES, MAX_BITS};
use crate::wire::{Result, WireError};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// A cursor over one body.
struct In<'a>(&'a [u8]);

impl<'a> In<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(WireError::Malformed("message ends inside a field"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<usize> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]) as usize)
    }
    /// A length-prefixed byte string of at most `max` bytes.
    fn bytes(&mut self, max: usize, what: &'static str) -> Result<Vec<u8>> {
        let len = self.u16()?;
        if len > max {
            return Err(WireError::Malformed(what));
        }
        Ok(self.take(len)?.to_vec())
    }
    fn id(&mut self) -> Result<Id> {
        let mut b = [0u8; ID_BYTES];
        b.copy_from_slice(self.take(ID_BYTES)?);
        Ok(Id(b))
    }
    fn node(&mut self) -> Result<NodeRef> {
        let id = self.id()?;
        let ip = match self.u8()? {
            4 => {
                let b = self.take(4)?;
                IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
            }
            6 => {
                let mut b = [0u8; 16];
                b.copy_from_slice(self.take(16)?);
                IpAddr::V6(Ipv6Addr::from(b))
            }
            _ => return Err(WireError::Malformed("address family must be 4 or 6")),
        };
        let p = self.take(2)?;
        let addr = SocketAddr::new(ip, u16::from_be_bytes([p[0], p[1]]));
        Ok(NodeRef { id, addr })
    }
    fn nodes(&mut self) -> Result<Vec<NodeRef>> {
        let n = self.u8()? as usize;
        if n > MAX_NODES {
            return Err(WireError::Malformed("more nodes in a list than MAX_NODES"));
        }
        (0..n).map(|_| self.node()).collect()
    }
    fn opt_node(&mut self) -> Result<Option<NodeRef>> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(self.node()?)),
            _ => Err(WireError::Malformed("presence flag must be 0 or 1")),
        }
    }
    fn values(&mut self) -> Result<BTreeSet<Vec<u8>>> {
        let n = self.u16()?;
        if n > MAX_VALUES {
            return Err(WireError::Malformed("more values than MAX_VALUES"));
        }
        // Each value takes at least its 2-byte length: a count the rest cannot hold lies.
        if n * 2 > self.0.len() {
            return Err(WireError::Malformed("message ends inside a field"));
        }
        (0..n)
            .map(|_| self.bytes(MAX_VALUE, "value longer than MAX_VALUE"))
            .collect()
    }
    fn end<T>(self, v: T) -> Result<T> {
        if self.0.is_empty() {
            Ok(v)
        } else {
            Err(WireError::Malformed("trailing bytes after the message"))
        }
    }
}

/// Splits a datagram into its head (transaction id, flags) and body; refuses one too
/// short to hold a head, longer than [`MAX_DATAGRAM`], or with a flags bit other than
/// [`FLAG_UPKEEP`] set.
pub fn split_head(d: &[u8]) -> Result<(Head, &[u8])> {
    if d.len() > MAX_DATAGRAM {
        return Err(WireError::Malformed("datagram longer than MAX_DATAGRAM"));
    }
    if d.len() < HEAD_BYTES {
        return Err(WireError::Malformed(
            "datagram shorter than its head (transaction id and flags)",
        ));
    }
    let (head, body) = d.split_at(HEAD_BYTES);
    if head[4] & !FLAG_UPKEEP != 0 {
        return Err(WireError::Malformed("flags bits 1-7 must be 0"));
    }
    let head = Head {
        txid: u32::from_be_bytes([head[0], head[1], head[2], head[3]]),
        upkeep: head[4] & FLAG_UPKEEP != 0,
    };
    Ok((head, body))
}

/// Decodes a request body into the sender's ring size `m` and the request.
pub fn decode_request(body: &[u8]) -> Result<(u32, Request)> {
    let mut r = In(body);
    let t = r.u8()?;
    let bits = r.u8()? as u32;
    if bits == 0 || bits > MAX_BITS {
        return Err(WireError::Malformed("ring size m must be 1..=160"));
    }
    let req = match t {
        ty::PING => Request::Ping,
        ty::FIND_STEP => {
            let id = r.id()?;
            let routing = match r.u8()? {
                0 => Routing::Fingers,
                1 => Routing::SuccessorOnly,
                _ => return Err(WireError::Malformed("routing must be 0 or 1")),
            };
            Request::FindStep { id, routing }
        }
        ty::GET_PREDECESSOR => Request::GetPredecessor,
        ty::GET_SUCCESSORS => Request::GetSuccessors,
        ty::NOTIFY => Request::Notify(r.node()?),
        ty::GET => Request::Get(r.bytes(MAX_KEY, "key longer than MAX_KEY")?),
        ty::PUT => {
            let key = r.bytes(MAX_KEY, "key longer than MAX_KEY")?;
            let value = r.bytes(MAX_VALUE, "value longer than MAX_VALUE")?;
            let forwards = r.u8()?;
            if forwards > MAX_FORWARDS {
                return Err(WireError::Malformed("forwards above MAX_FORWARDS"));
            }
            Request::Put {
                key,
                value,
                forwards,
            }
        }
        ty::GET_AFTER => Request::GetAfter {
            key: r.bytes(MAX_KEY, "key longer than MAX_KEY")?,
            after: r.bytes(MAX_VALUE, "value longer than MAX_VALUE")?,
        },
        ty::STORE => {
            let n = r.u16()?;
            if n > MAX_ENTRIES {
                return Err(WireError::Malformed("more entries than MAX_ENTRIES"));
            }
            let mut entries = Vec::with_capacity(n.min(64));
            for _ in 0..n {
                let key = r.bytes(MAX_KEY, "key longer than MAX_KEY")?;
                entries.push((key, r.values()?));
            }
            Request::Store(entries)
        }
        ty::PRED_LEAVING => Request::PredLeaving {
            leaver: r.node()?,
            pred: r.opt_node()?,
        },
        ty::SUCC_LEAVING => Request::SuccLeaving {
            leaver: r.node()?,
            succs: r.nodes()?,
        },
        other => return Err(WireError::UnknownType(other as u32)),
    };
    r.end((bits, req))
}

pub fn decode_reply(body: &[u8]) -> Result<Reply> {
    let mut r = In(body);
    let rep = match r.u8()? {
        ty::PONG => Reply::Pong(r.node()?),
        ty::DONE | ty::NEXT if body.get(1) == Some(&0) => {
            return Err(WireError::Malformed("empty node list in a lookup step"))
        }
        ty::DONE => Reply::Done(r.nodes()?),
        ty::NEXT => Reply::Next(r.nodes()?),
        ty::PREDECESSOR => Reply::Predecessor(r.opt_node()?),
        ty::SUCCESSORS => Reply::Successors(r.nodes()?),
        ty::VALUES => Reply::Values(r.values()?),
        ty::MORE => Reply::More(r.values()?),
        ty::OK => Reply::Ok,
        ty::ERROR => {
            let text = r.bytes(MAX_TEXT, "error text longer than MAX_TEXT")?;
            Reply::Error(String::from_utf8_lossy(&text).into_owned())
        }
        other => return Err(WireError::UnknownType(other as u32)),
    };
    r.end(rep)
}
