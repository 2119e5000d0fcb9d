//! Encoding the ring protocol (`mod.rs` has the layout): a message in, a body out, and
//! [`datagram`] to put the transaction id in front. Lists longer than [`MAX_NODES`] are
//! cut; the other limits are the caller's business (`store.rs` splits hand-overs into
//! batches, `node/answer.rs` pages values).

use super::{ty, Head, Reply, Request, FLAG_UPKEEP, HEAD_BYTES, MAX_NODES, MAX_TEXT};
use crate::dht::policy::{NodeRef, Routing};

/// One datagram: the transaction id, the flags, then the body.
pub fn datagram(head: Head, body: &[u8]) -> Vec<u8> {
    let mut d = Vec::with_capacity(HEAD_BYTES + body.len());
    d.extend_from_slice(&head.txid.to_be_bytes());
    d.push(if head.upkeep { FLAG_UPKEEP } else { 0 });
    d.extend_from_slice(body);
    d
}

/// Builds a body; the limits are the caller's business (see `store.rs` batching).
struct Out(Vec<u8>);

impl Out {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u16(&mut self, v: usize) {
        self.0.extend_from_slice(&(v as u16).to_be_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u16(b.len());
        self.0.extend_from_slice(b);
    }
    fn node(&mut self, n: &NodeRef) {
        self.0.extend_from_slice(&n.id.0);
        match n.addr.ip() {
            std::net::IpAddr::V4(ip) => {
                self.u8(4);
                self.0.extend_from_slice(&ip.octets());
            }
            std::net::IpAddr::V6(ip) => {
                self.u8(6);
                self.0.extend_from_slice(&ip.octets());
            }
        }
        self.0.extend_from_slice(&n.addr.port().to_be_bytes());
    }
    fn nodes(&mut self, ns: &[NodeRef]) {
        let ns = &ns[..ns.len().min(MAX_NODES)];
        self.u8(ns.len() as u8);
        ns.iter().for_each(|n| self.node(n));
    }
    fn opt_node(&mut self, n: &Option<NodeRef>) {
        self.u8(n.is_some() as u8);
        n.iter().for_each(|n| self.node(n));
    }
}

/// Encodes a request from a node on an m-bit ring.
pub fn encode_request(bits: u32, req: &Request) -> Vec<u8> {
    let mut o = Out(Vec::with_capacity(64));
    let mut head = |t: u8| {
        o.u8(t);
        o.u8(bits as u8);
    };
    match req {
        Request::Ping => head(ty::PING),
        Request::FindStep { id, routing } => {
            head(ty::FIND_STEP);
            o.0.extend_from_slice(&id.0);
            o.u8(matches!(routing, Routing::SuccessorOnly) as u8);
        }
        Request::GetPredecessor => head(ty::GET_PREDECESSOR),
        Request::GetSuccessors => head(ty::GET_SUCCESSORS),
        Request::Notify(n) => {
            head(ty::NOTIFY);
            o.node(n);
        }
        Request::Get(key) => {
            head(ty::GET);
            o.bytes(key);
        }
        Request::GetAfter { key, after } => {
            head(ty::GET_AFTER);
            o.bytes(key);
            o.bytes(after);
        }
        Request::Put {
            key,
            value,
            forwards,
        } => {
            head(ty::PUT);
            o.bytes(key);
            o.bytes(value);
            o.u8(*forwards);
        }
        Request::Store(entries) => {
            head(ty::STORE);
            o.u16(entries.len());
            for (key, values) in entries {
                o.bytes(key);
                o.u16(values.len());
                values.iter().for_each(|v| o.bytes(v));
            }
        }
        Request::PredLeaving { leaver, pred } => {
            head(ty::PRED_LEAVING);
            o.node(leaver);
            o.opt_node(pred);
        }
        Request::SuccLeaving { leaver, succs } => {
            head(ty::SUCC_LEAVING);
            o.node(leaver);
            o.nodes(succs);
        }
    }
    o.0
}

pub fn encode_reply(rep: &Reply) -> Vec<u8> {
    let mut o = Out(Vec::with_capacity(64));
    match rep {
        Reply::Pong(n) => {
            o.u8(ty::PONG);
            o.node(n);
        }
        Reply::Done(ns) => {
            o.u8(ty::DONE);
            o.nodes(ns);
        }
        Reply::Next(ns) => {
            o.u8(ty::NEXT);
            o.nodes(ns);
        }
        Reply::Predecessor(p) => {
            o.u8(ty::PREDECESSOR);
            o.opt_node(p);
        }
        Reply::Successors(ns) => {
            o.u8(ty::SUCCESSORS);
            o.nodes(ns);
        }
        Reply::Values(vs) | Reply::More(vs) => {
            o.u8(if matches!(rep, Reply::More(_)) {
                ty::MORE
            } else {
                ty::VALUES
            });
            o.u16(vs.len());
            vs.iter().for_each(|v| o.bytes(v));
        }
        Reply::Ok => o.u8(ty::OK),
        Reply::Error(text) => {
            o.u8(ty::ERROR);
            // Cut on a character boundary so the text stays valid UTF-8.
            let mut end = text.len().min(MAX_TEXT);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            o.bytes(&text.as_bytes()[..end]);
        }
    }
    o.0
}
