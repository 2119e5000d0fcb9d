//! A leader's peers: its children and its links to other leaders, each with the
//! coordinator's end of its connection. Sending never waits: a peer whose queue is
//! full is closed and marked, and the coordinator forgets it once the event at hand is
//! handled.

use crate::kazaa::conn::{ConnId, Frame, Link};
use log::warn;
use std::collections::BTreeMap;
use std::net::SocketAddrV4;
use std::time::{Duration, Instant};

pub enum Kind {
    Child { capacity: u32 },
    Leader,
}

pub struct Peer {
    pub addr: SocketAddrV4,
    pub kind: Kind,
    pub link: Link,
}

impl Peer {
    pub fn is_child(&self) -> bool {
        matches!(self.kind, Kind::Child { .. })
    }
}

pub struct Peers {
    /// Whose peers (for log lines).
    me: SocketAddrV4,
    map: BTreeMap<ConnId, Peer>,
    /// Peers whose queue was full: closed, to be forgotten.
    doomed: Vec<ConnId>,
}

impl Peers {
    pub fn new(me: SocketAddrV4) -> Peers {
        Peers {
            me,
            map: BTreeMap::new(),
            doomed: Vec::new(),
        }
    }

    pub fn insert(&mut self, conn: ConnId, peer: Peer) {
        self.map.insert(conn, peer);
    }

    pub fn remove(&mut self, conn: ConnId) -> Option<Peer> {
        self.map.remove(&conn)
    }

    pub fn get(&self, conn: ConnId) -> Option<&Peer> {
        self.map.get(&conn)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Queues a frame for one peer; false if it is unknown or cannot take it (then it
    /// is closed and marked: see [`Peers::take_doomed`]).
    pub fn send(&mut self, conn: ConnId, f: &Frame) -> bool {
        let Some(p) = self.map.get(&conn) else {
            return false;
        };
        if p.link.send(f) {
            return true;
        }
        warn!(
            "leader {}: {} stopped reading, dropping it",
            self.me, p.addr
        );
        p.link.close();
        self.doomed.push(conn);
        false
    }

    /// The same frame to several peers.
    pub fn send_all(&mut self, to: &[ConnId], f: &Frame) {
        for c in to {
            self.send(*c, f);
        }
    }

    /// The peers that stopped reading since the last call.
    pub fn take_doomed(&mut self) -> Vec<ConnId> {
        std::mem::take(&mut self.doomed)
    }

    /// (connection, announced capacity) of every child.
    pub fn children(&self) -> Vec<(ConnId, u32)> {
        (self.map.iter())
            .filter_map(|(c, p)| match p.kind {
                Kind::Child { capacity } => Some((*c, capacity)),
                Kind::Leader => None,
            })
            .collect()
    }

    /// Every peer's connection.
    pub fn all(&self) -> Vec<ConnId> {
        self.map.keys().copied().collect()
    }

    /// The connections to other leaders.
    pub fn links(&self) -> Vec<ConnId> {
        (self.map.iter())
            .filter(|(_, p)| !p.is_child())
            .map(|(c, _)| *c)
            .collect()
    }

    /// Where the other leaders listen, sorted, without repeats.
    pub fn leader_addrs(&self) -> Vec<SocketAddrV4> {
        let mut v: Vec<SocketAddrV4> = (self.map.values())
            .filter(|p| !p.is_child())
            .map(|p| p.addr)
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Leaves: a Bye to everyone (each written within `grace`, if given), then closes
    /// every connection and forgets every peer.
    pub fn close_all(&mut self, bye_within: Option<Duration>) {
        if let Some(grace) = bye_within {
            let written: Vec<_> = self.map.values().map(|p| p.link.bye()).collect();
            let end = Instant::now() + grace;
            for w in written {
                let _ = w.recv_deadline(end);
            }
        }
        self.map.values().for_each(|p| p.link.close());
        self.map.clear();
    }
}
