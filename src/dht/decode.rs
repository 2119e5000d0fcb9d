//! Decoding the ring protocol (`msg.rs` has the layout). Pure functions over a byte
//! slice: every count and length is checked against its limit before anything is
//! allocated, and trailing bytes are an error, so a message has exactly one reading.

use super::id::{Id, ID_BYTES, MAX_BITS};
use super::msg::*;
use super::routing::{NodeRef, Routing};
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
        ty::OK => Reply::Ok,
        ty::ERROR => {
            let text = r.bytes(MAX_TEXT, "error text longer than MAX_TEXT")?;
            Reply::Error(String::from_utf8_lossy(&text).into_owned())
        }
        other => return Err(WireError::UnknownType(other as u32)),
    };
    r.end(rep)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(port: u16) -> NodeRef {
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        NodeRef {
            id: Id::of_addr(&addr, 160),
            addr,
        }
    }

    #[test]
    fn ping_is_two_bytes() {
        // 01 = PING, a0 = m of 160.
        assert_eq!(encode_request(160, &Request::Ping), vec![0x01, 0xa0]);
        assert_eq!(decode_request(&[0x01, 0x08]).unwrap(), (8, Request::Ping));
    }

    #[test]
    fn notify_layout() {
        let n = NodeRef {
            id: Id::from_u64(0x2a, 8),
            addr: "127.0.0.1:4000".parse().unwrap(),
        };
        let b = encode_request(8, &Request::Notify(n));
        let mut want = vec![0x05, 0x08]; // NOTIFY, m = 8
        want.extend_from_slice(&[0; 19]); // id: 19 zero bytes ...
        want.push(0x2a); // ... then 42
        want.extend_from_slice(&[4, 127, 0, 0, 1]); // IPv4 127.0.0.1
        want.extend_from_slice(&[0x0f, 0xa0]); // port 4000
        assert_eq!(b, want);
        assert_eq!(decode_request(&b).unwrap(), (8, Request::Notify(n)));
    }

    #[test]
    fn every_request_round_trips() {
        let vals: BTreeSet<Vec<u8>> = [b"127.0.0.1:9".to_vec(), b"x".to_vec()].into();
        let reqs = vec![
            Request::FindStep {
                id: Id::hash(b"k", 160),
                routing: Routing::SuccessorOnly,
            },
            Request::GetPredecessor,
            Request::GetSuccessors,
            Request::Get(b"key".to_vec()),
            Request::Put {
                key: b"k".to_vec(),
                value: b"v".to_vec(),
                forwards: 1,
            },
            Request::Store(vec![(b"k".to_vec(), vals.clone()), (b"j".to_vec(), vals)]),
            Request::PredLeaving {
                leaver: node(1),
                pred: Some(node(2)),
            },
            Request::SuccLeaving {
                leaver: node(1),
                succs: vec![node(3), node(4)],
            },
        ];
        for req in reqs {
            let b = encode_request(160, &req);
            assert_eq!(decode_request(&b).unwrap(), (160, req));
        }
    }

    #[test]
    fn every_reply_round_trips() {
        let v6 = NodeRef {
            id: Id::hash(b"x", 160),
            addr: "[::1]:7".parse().unwrap(),
        };
        let reps = vec![
            Reply::Pong(v6),
            Reply::Done(vec![node(1), node(2)]),
            Reply::Next(vec![node(3)]),
            Reply::Predecessor(None),
            Reply::Successors(vec![]),
            Reply::Values([b"a".to_vec()].into()),
            Reply::Ok,
            Reply::Error("id taken".into()),
        ];
        for rep in reps {
            assert_eq!(decode_reply(&encode_reply(&rep)).unwrap(), rep);
        }
    }

    #[test]
    fn lying_lengths_and_counts_are_refused() {
        // GET whose key claims 0xffff bytes: over MAX_KEY, refused before reading it.
        let err = decode_request(&[0x06, 0xa0, 0xff, 0xff, b'a']).unwrap_err();
        assert!(matches!(err, WireError::Malformed(m) if m.contains("MAX_KEY")));
        // GET whose key claims 5 bytes but carries 2.
        let err = decode_request(&[0x06, 0xa0, 0x00, 0x05, b'a', b'b']).unwrap_err();
        assert!(matches!(err, WireError::Malformed(_)));
        // STORE claiming 65535 entries.
        let err = decode_request(&[0x08, 0xa0, 0xff, 0xff]).unwrap_err();
        assert!(matches!(err, WireError::Malformed(m) if m.contains("MAX_ENTRIES")));
        // SUCCESSORS claiming 200 nodes.
        let err = decode_reply(&[0x85, 200]).unwrap_err();
        assert!(matches!(err, WireError::Malformed(m) if m.contains("MAX_NODES")));
    }

    #[test]
    fn bad_types_flags_and_trailing_bytes() {
        assert!(matches!(
            decode_request(&[0x42, 0xa0]),
            Err(WireError::UnknownType(0x42))
        ));
        assert!(decode_request(&[0x01, 0x00]).is_err(), "m = 0");
        assert!(decode_request(&[0x01, 0xa1]).is_err(), "m = 161");
        assert!(
            decode_request(&[0x01, 0xa0, 0x00]).is_err(),
            "trailing byte"
        );
        assert!(decode_request(&[]).is_err(), "empty");
        assert!(decode_reply(&[0x84, 0x02]).is_err(), "presence flag 2");
        assert!(decode_reply(&[0x82, 0x00]).is_err(), "DONE with no owner");
    }
}
