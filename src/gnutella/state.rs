//! What a servent knows: its neighbours (each with its writer's queue), the hosts it
//! could dial, the seen-table of floods and reverse routes, its counters. One value of
//! [`State`] lives in the coordinator thread and nowhere else: no lock, no sharing;
//! the handle and the connection threads ask the coordinator instead.
//!
//! Sending is here too, because it is the one thing done to a neighbour's queue:
//! [`State::send_many`] never blocks. It `try_send`s the encoded bytes, and a neighbour
//! whose queue is full is dropped on the spot (logged), so one neighbour that stops
//! reading never holds up the others.

use super::hosts::Hosts;
use super::msg::{self, Descriptor, Guid, Payload};
use super::policy::PeerId;
use super::trace::{bump, Counters, Hit, Trace};
use crate::locate::Traffic;
use crate::net::{Outbox, Pushed};
use crate::rng::Rng;
use crate::seen::Seen;
use crate::share::Folder;
use crossbeam_channel::Sender;
use log::{debug, info};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A neighbour as the coordinator holds it: its outbox, which also closes it, and our
/// own address on that connection (what it can reach us at).
pub struct Link {
    pub addr: SocketAddr,
    pub out: Outbox,
    pub local: Ipv4Addr,
    /// When it last answered a Ping or brought a QueryHit (its connect time, if never):
    /// the neighbour idle longest is the one a newcomer replaces.
    pub last_useful: Instant,
    /// It has answered a Ping or brought a hit at least once.
    pub answered: bool,
}

/// Everything one servent knows. Fields are public to the coordinator's files.
pub struct State {
    /// Our Gnutella address (what Pongs carry), our HTTP address (what QueryHits carry).
    pub me: SocketAddr,
    pub http: SocketAddr,
    /// Our servent id (QueryHits carry it; Pushes are routed by it).
    pub id: Guid,
    pub folder: Arc<Folder>,
    /// Duplicate suppression; `false` is the lab's instructive mistake.
    pub dedup: bool,
    pub links: BTreeMap<PeerId, Link>,
    pub hosts: Hosts,
    /// Neighbours wanted (0: the caller connects by hand) and allowed.
    pub degree: usize,
    pub max_degree: usize,
    /// A neighbour that did nothing useful for this long may be replaced by a newcomer.
    pub idle_grace: Duration,
    pub ping_ttl: u8,
    /// Counters, which the handle reads too (see `Counters`).
    pub stats: Arc<Counters>,
    /// The servent's messages and bytes: what an outbox took counts as sent.
    pub traffic: Traffic,
    /// GUIDs of our last round of keep-alive Pings: their Pongs are upkeep too.
    pub keepalives: Vec<Guid>,
    /// (GUID, type) of Pings and Queries -> the neighbour it came from (SELF: ours).
    pub seen: Seen<(Guid, u8), PeerId>,
    /// Servent id of a QueryHit's sender -> the neighbour the hit came from.
    pub push_routes: Seen<Guid, PeerId>,
    /// GUIDs of the descriptors the coordinator makes itself (pings, Bye).
    pub rng: Rng,
    pub hits: Sender<Hit>,
    pub trace: Option<Sender<Trace>>,
    /// Joining: a dialer job is running; we said Bye; when we last pinged / asked the cache.
    pub has_cache: bool,
    pub dialing: bool,
    pub leaving: bool,
    pub last_ping: Option<Instant>,
    pub last_cache: Option<Instant>,
}

/// The IPv4 address a Pong or QueryHit carries (0.0.0.0 for IPv6: the field is 4 bytes).
/// A servent bound to every interface (0.0.0.0) must not advertise that: see
/// [`State::advertised`].
pub fn ipv4(a: SocketAddr) -> Ipv4Addr {
    match a.ip() {
        IpAddr::V4(ip) => ip,
        IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
    }
}

impl State {
    /// The address to put in a Pong, QueryHit or Push sent to neighbour `via` for our
    /// listener `bound`: its own address if it has one, else our address on that
    /// connection, which `via` (and the hosts behind it, on the same network) can reach.
    /// 0.0.0.0 in a Pong would send every servent that hears it to itself.
    pub fn advertised(&self, bound: SocketAddr, via: PeerId) -> Ipv4Addr {
        match (ipv4(bound), self.links.get(&via)) {
            (ip, Some(link)) if ip.is_unspecified() => link.local,
            (ip, _) => ip,
        }
    }

    pub fn trace(&self, t: Trace) {
        if let Some(tx) = &self.trace {
            let _ = tx.send(t);
        }
    }

    pub fn guid(&mut self) -> Guid {
        msg::new_guid(&mut self.rng)
    }

    pub fn ids(&self) -> Vec<PeerId> {
        self.links.keys().copied().collect()
    }

    /// Neighbours' listening addresses, oldest connection first.
    pub fn neighbours(&self) -> Vec<SocketAddr> {
        self.links.values().map(|l| l.addr).collect()
    }

    /// Up to ten known hosts other than `except`, for an `X-Try` header: verified
    /// hosts first, and never a neighbour idle past `idle_grace` (a socket that only
    /// holds a slot is no host to send a newcomer to).
    pub fn x_try(&self, except: SocketAddr) -> Vec<SocketAddr> {
        let now = Instant::now();
        let idle: Vec<SocketAddr> = (self.links.values())
            .filter(|l| now.duration_since(l.last_useful) >= self.idle_grace)
            .map(|l| l.addr)
            .collect();
        let all = self.hosts.to_vec();
        all.into_iter()
            .filter(|h| *h != except && !idle.contains(h))
            .take(10)
            .collect()
    }

    /// Neighbour `id` answered a Ping or brought a hit.
    pub fn useful(&mut self, id: PeerId) {
        if let Some(l) = self.links.get_mut(&id) {
            l.last_useful = Instant::now();
            l.answered = true;
        }
    }

    /// Known hosts that are neither us nor a neighbour: whom the dialer may try.
    pub fn candidates(&self) -> Vec<SocketAddr> {
        let mine = self.neighbours();
        let all = self.hosts.to_vec();
        all.into_iter()
            .filter(|h| *h != self.me && !mine.contains(h))
            .collect()
    }

    /// Queues `desc` for each of `targets`; a neighbour whose queue is full is dropped.
    ///
    /// Every copy is traced as Sent before the first is queued: a neighbour may handle
    /// its copy before we queue the next, and whoever counts Sent against Received
    /// must never see the counts meet while copies are still to go out.
    pub fn send_many(&mut self, targets: &[PeerId], desc: &Descriptor) {
        self.send_as(false, targets, desc);
    }

    /// [`State::send_many`], each copy counted as upkeep if `upkeep` (a keep-alive
    /// Ping, the Pong answering one): the sender knows what it sends for, so the
    /// count lands in the right half at once, as the ring's and KaZaA's do.
    pub fn send_as(&mut self, upkeep: bool, targets: &[PeerId], desc: &Descriptor) {
        let bytes = Arc::new(msg::encode(desc));
        let (guid, kind) = (desc.guid, desc.payload.kind());
        let to: Vec<(PeerId, SocketAddr)> = targets
            .iter()
            .filter_map(|t| self.links.get(t).map(|l| (*t, l.addr)))
            .collect();
        for (_, addr) in &to {
            self.trace(Trace::Sent {
                at: self.me,
                to: *addr,
                guid,
                kind,
            });
        }
        let mut full = Vec::new();
        for (id, _) in to {
            let Some(link) = self.links.get(&id) else {
                continue;
            };
            match link.out.push(bytes.clone()) {
                Pushed::Taken => {
                    bump(&self.stats.sent);
                    self.traffic.sent_as(upkeep, bytes.len());
                }
                full_or_closed => {
                    if full_or_closed == Pushed::Full {
                        bump(&self.stats.dropped_full);
                        full.push(id);
                    }
                    self.trace(Trace::Unsent { at: self.me, guid });
                }
            }
        }
        for id in full {
            if let Some(addr) = self.links.get(&id).map(|l| l.addr) {
                info!("{}: {addr} does not read its queue: dropping it", self.me);
            }
            self.drop_link(id, "send queue full".into(), false);
        }
    }

    /// Forgets a neighbour and closes its connection (its threads then end). `bye`: it
    /// said it is leaving, so it is not dialled again. False if it was already gone.
    pub fn drop_link(&mut self, id: PeerId, why: String, bye: bool) -> bool {
        let Some(link) = self.links.remove(&id) else {
            return false;
        };
        link.out.close();
        if bye {
            self.hosts.remove(&link.addr);
        }
        debug!("{}: {} gone: {why}", self.me, link.addr);
        self.trace(Trace::Disconnected {
            at: self.me,
            peer: link.addr,
            why,
        });
        true
    }

    /// Our Bye to every neighbour: each writer writes it and ends. `done` closes
    /// once every writer has (or failed to).
    pub fn bye_all(&mut self, done: Sender<()>) {
        let bye = Arc::new(msg::encode(&Descriptor {
            guid: self.guid(),
            ttl: 1,
            hops: 0,
            payload: Payload::Bye(msg::Bye {
                code: 200,
                text: "leaving".into(),
            }),
        }));
        for link in std::mem::take(&mut self.links).into_values() {
            if link.out.push_last(bye.clone(), Some(done.clone())) == Pushed::Taken {
                self.traffic.add_sent(1, bye.len() as u64);
            }
        }
    }
}
