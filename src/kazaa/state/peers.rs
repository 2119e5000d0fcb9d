//! A leader's peers: its children and its links to other leaders, each with the
//! coordinator's end of its connection. Sending never waits: frames are built into
//! each peer's outgoing buffer, and [`Peers::flush`] hands every buffer that has
//! something to its writer at once, after a batch of events: one queue hand-off (one
//! writer wakeup, one write) per peer per batch, not per frame. A peer whose queue is
//! full is closed and marked, and the coordinator forgets it once the batch is handled.

use crate::kazaa::conn::{frame_into, ConnId, Link};
use crate::kazaa::msg::Msg;
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
    /// Frames built since the last flush, not yet handed to the writer.
    out: Vec<u8>,
}

impl Peer {
    pub fn new(addr: SocketAddrV4, kind: Kind, link: Link) -> Peer {
        Peer {
            addr,
            kind,
            link,
            out: Vec::new(),
        }
    }

    pub fn is_child(&self) -> bool {
        matches!(self.kind, Kind::Child { .. })
    }
}

pub struct Peers {
    /// Whose peers (for log lines).
    me: SocketAddrV4,
    map: BTreeMap<ConnId, Peer>,
    /// The links to other leaders, kept apart: every query is forwarded on them, and
    /// that must not cost a walk over every child.
    links: Vec<ConnId>,
    /// Peers with frames in their buffer, to flush.
    dirty: Vec<ConnId>,
    /// Peers whose queue was full: closed, to be forgotten.
    doomed: Vec<ConnId>,
    /// One message encoded once for [`Peers::send_all`].
    scratch: Vec<u8>,
}

impl Peers {
    pub fn new(me: SocketAddrV4) -> Peers {
        Peers {
            me,
            map: BTreeMap::new(),
            links: Vec::new(),
            dirty: Vec::new(),
            doomed: Vec::new(),
            scratch: Vec::new(),
        }
    }

    pub fn insert(&mut self, conn: ConnId, peer: Peer) {
        if !peer.is_child() {
            self.links.push(conn);
            self.links.sort_unstable();
        }
        self.map.insert(conn, peer);
    }

    pub fn remove(&mut self, conn: ConnId) -> Option<Peer> {
        self.links.retain(|c| *c != conn);
        self.map.remove(&conn)
    }

    pub fn get(&self, conn: ConnId) -> Option<&Peer> {
        self.map.get(&conn)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Queues a message for one peer; false if it is unknown or cannot take it (then
    /// it is closed and marked: see [`Peers::take_doomed`]). It leaves at the next
    /// [`Peers::flush`].
    pub fn send(&mut self, conn: ConnId, msg: &Msg) -> bool {
        let Some(p) = self.map.get_mut(&conn) else {
            return false;
        };
        let before = p.out.len();
        frame_into(msg, &mut p.out);
        self.queued(conn, before)
    }

    /// The same message to several peers, encoded once.
    pub fn send_all(&mut self, to: &[ConnId], msg: &Msg) {
        let mut f = std::mem::take(&mut self.scratch);
        f.clear();
        frame_into(msg, &mut f);
        for c in to {
            if let Some(p) = self.map.get_mut(c) {
                let before = p.out.len();
                p.out.extend_from_slice(&f);
                self.queued(*c, before);
            }
        }
        self.scratch = f;
    }

    /// After frames went into `conn`'s buffer (which held `before` bytes): marks it
    /// for the flush, or drops the peer if its queue cannot take that much.
    fn queued(&mut self, conn: ConnId, before: usize) -> bool {
        let Some(p) = self.map.get_mut(&conn) else {
            return false;
        };
        if self.doomed.contains(&conn) {
            p.out.clear(); // closed already: nothing more goes to it
            return false;
        }
        if p.link.has_room(p.out.len()) {
            if before == 0 {
                self.dirty.push(conn);
            }
            return true;
        }
        p.out = Vec::new();
        self.doom(conn);
        false
    }

    /// Hands every buffer that has frames to its writer.
    pub fn flush(&mut self) {
        for conn in std::mem::take(&mut self.dirty) {
            let Some(p) = self.map.get_mut(&conn) else {
                continue;
            };
            if p.out.is_empty() || p.link.send(std::mem::take(&mut p.out)) {
                continue;
            }
            self.doom(conn);
        }
    }

    fn doom(&mut self, conn: ConnId) {
        let Some(p) = self.map.get(&conn) else {
            return;
        };
        warn!(
            "leader {}: {} stopped reading, dropping it",
            self.me, p.addr
        );
        p.link.close();
        self.doomed.push(conn);
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
    pub fn links(&self) -> &[ConnId] {
        &self.links
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
            self.flush();
            let written: Vec<_> = self.map.values().map(|p| p.link.bye()).collect();
            let end = Instant::now() + grace;
            for w in written {
                let _ = w.recv_deadline(end);
            }
        }
        self.map.values().for_each(|p| p.link.close());
        self.map.clear();
        self.links.clear();
    }
}
