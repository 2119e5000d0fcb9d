//! The coordinator: one thread per servent makes every routing decision.
//!
//! Connection threads hand it decoded descriptors; it applies one hop (`policy::hop`),
//! asks the seen-table whether this is a first copy, answers from the shared folder,
//! and queues copies for the neighbours `policy::forward_targets` names. Replies go
//! back along the route the seen-table remembers. No socket I/O happens here: writes
//! are queued to each neighbour's writer thread.

use super::conn::{Ctx, Event, Neighbour, Out};
use super::descriptor::{self as d, Descriptor, Guid, Kind, Payload};
use super::policy::{self, Hop, PeerId};
use super::servent::{Command, Config, Hit, Trace};
use crate::seen::Seen;
use crate::share::Folder;
use crossbeam_channel::{select, tick, Receiver, Sender, TrySendError};
use log::{debug, info};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Every neighbour gets a one-hop Ping this often, so a healthy but quiet link is not
/// mistaken for a dead one (`conn::READ_TIMEOUT`).
pub const KEEPALIVE: Duration = Duration::from_secs(30);

/// A neighbour as the coordinator holds it: its writer's queue and a handle to close it.
pub(super) struct Link {
    pub(super) addr: SocketAddr,
    pub(super) out: Sender<Out>,
    pub(super) stream: TcpStream,
}

pub struct Coordinator {
    pub(super) ctx: Ctx,
    pub(super) id: Guid,
    pub(super) http: SocketAddr,
    pub(super) folder: Arc<Folder>,
    pub(super) dedup: bool,
    pub(super) links: BTreeMap<PeerId, Link>,
    /// (GUID, type) of Pings and Queries -> the neighbour it came from (SELF: ours).
    pub(super) seen: Seen<(Guid, u8), PeerId>,
    /// Servent id of a QueryHit's sender -> the neighbour the hit came from.
    pub(super) push_routes: Seen<Guid, PeerId>,
    pub(super) hits: Sender<Hit>,
    pub(super) wake: Sender<()>,
    /// xorshift state for the GUIDs the coordinator makes itself (pings, Bye).
    pub(super) rng: u64,
}

pub(super) fn ipv4(a: SocketAddr) -> Ipv4Addr {
    match a.ip() {
        IpAddr::V4(ip) => ip,
        IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
    }
}

impl Coordinator {
    pub fn new(
        cfg: &Config,
        ctx: &Ctx,
        id: Guid,
        http: SocketAddr,
        hits: Sender<Hit>,
        wake: Sender<()>,
    ) -> Coordinator {
        let now = Instant::now();
        Coordinator {
            ctx: ctx.clone(),
            id,
            http,
            folder: cfg.share.clone(),
            dedup: cfg.dedup,
            links: BTreeMap::new(),
            seen: Seen::new(cfg.seen_capacity, cfg.seen_lifetime, now),
            push_routes: Seen::new(cfg.seen_capacity, cfg.seen_lifetime, now),
            hits,
            wake,
            // The servent id is already unique per servent: seed from it.
            rng: (u64::from_le_bytes(id[..8].try_into().unwrap_or([1; 8])) ^ 0xD1B5_4A32_D192_ED03)
                | 1,
        }
    }

    pub fn run(mut self, events: Receiver<Event>, cmds: Receiver<Command>) {
        let ticker = tick(Duration::from_secs(1));
        let mut last_keepalive = Instant::now();
        loop {
            select! {
                recv(events) -> e => match e {
                    Ok(e) => self.event(e),
                    Err(_) => break,
                },
                recv(cmds) -> c => match c {
                    Ok(c) => self.command(c),
                    Err(_) => break, // the handle stopped
                },
                recv(ticker) -> _ => {
                    let now = Instant::now();
                    self.seen.expire(now);
                    self.push_routes.expire(now);
                    if now.duration_since(last_keepalive) >= KEEPALIVE {
                        last_keepalive = now;
                        self.keepalive();
                    }
                }
            }
        }
    }

    pub(super) fn guid(&mut self) -> Guid {
        super::servent::new_guid(&mut self.rng)
    }

    pub(super) fn ids(&self) -> Vec<PeerId> {
        self.links.keys().copied().collect()
    }

    pub(super) fn publish(&self) {
        let list: Vec<Neighbour> = self
            .links
            .values()
            .map(|l| Neighbour { addr: l.addr })
            .collect();
        self.ctx.lock().neighbours = list;
    }

    /// Queues `desc` for each of `targets`; a full queue drops it (counted).
    ///
    /// Every copy is traced as Sent before the first is queued: a neighbour may handle
    /// its copy before we queue the next, and whoever counts Sent against Received
    /// must never see the counts meet while copies are still to go out.
    pub(super) fn send_many(&self, targets: &[PeerId], desc: &Descriptor) {
        let bytes = Arc::new(d::encode(desc));
        let (guid, kind) = (desc.guid, desc.payload.kind());
        let links: Vec<&Link> = targets.iter().filter_map(|t| self.links.get(t)).collect();
        for link in &links {
            self.ctx.trace(Trace::Sent {
                at: self.ctx.me,
                to: link.addr,
                guid,
                kind,
            });
        }
        for link in links {
            match link.out.try_send(Out::Bytes(bytes.clone())) {
                Ok(()) => self.ctx.lock().stats.sent += 1,
                Err(e) => {
                    if let TrySendError::Full(_) = e {
                        debug!("{}: queue to {} full, dropping", self.ctx.me, link.addr);
                        self.ctx.lock().stats.dropped_full += 1;
                    }
                    self.ctx.trace(Trace::Unsent {
                        at: self.ctx.me,
                        guid,
                    });
                }
            }
        }
    }

    fn event(&mut self, e: Event) {
        match e {
            Event::Up {
                id,
                addr,
                outgoing,
                out,
                stream,
                ack,
                hello,
            } => {
                let dup = addr == self.ctx.me || self.links.values().any(|l| l.addr == addr);
                if dup || self.links.len() >= self.ctx.max_degree {
                    let _ = stream.shutdown(Shutdown::Both);
                    if let Some(a) = ack {
                        let _ = a.send(Err(format!("{addr}: already a neighbour or full")));
                    }
                    return;
                }
                self.links.insert(id, Link { addr, out, stream });
                {
                    let mut sh = self.ctx.lock();
                    sh.hosts.add(addr);
                    for h in hello.x_try.iter().filter(|h| **h != self.ctx.me) {
                        sh.hosts.add_old(*h);
                    }
                }
                self.publish();
                self.ctx.trace(Trace::Connected {
                    at: self.ctx.me,
                    peer: addr,
                    outgoing,
                });
                if let Some(a) = ack {
                    let _ = a.send(Ok(super::handshake::Answer::Accepted(hello)));
                }
            }
            Event::Down { id, why, bye } => {
                let Some(link) = self.links.remove(&id) else {
                    return;
                };
                let _ = link.stream.shutdown(Shutdown::Both);
                if bye {
                    // It said it is leaving: do not dial it again.
                    self.ctx.lock().hosts.remove(&link.addr);
                }
                self.publish();
                self.ctx.trace(Trace::Disconnected {
                    at: self.ctx.me,
                    peer: link.addr,
                    why,
                });
                let _ = self.wake.send(()); // below degree? the connector refills
            }
            Event::Descriptor { id, d } => self.descriptor(id, d),
            Event::Ping { ttl } => {
                let guid = self.guid();
                self.originate(guid, ttl, Payload::Ping);
            }
        }
    }

    fn descriptor(&mut self, from: PeerId, mut desc: Descriptor) {
        let Some(from_addr) = self.links.get(&from).map(|l| l.addr) else {
            return; // the neighbour left while this was queued
        };
        let (ttl, hops) = match policy::hop(desc.ttl, desc.hops) {
            Hop::Accept { ttl, hops, clamped } => {
                if clamped {
                    info!(
                        "{}: {from_addr} sent TTL {} with hops {}: clamped to {}",
                        self.ctx.me,
                        desc.ttl,
                        desc.hops,
                        ttl + 1
                    );
                    self.ctx.lock().stats.bad_input += 1;
                }
                (ttl, hops)
            }
            Hop::Drop(why) => {
                info!(
                    "{}: dropping a descriptor from {from_addr}: {why}",
                    self.ctx.me
                );
                self.ctx.lock().stats.bad_input += 1;
                return;
            }
        };
        desc.ttl = ttl;
        desc.hops = hops;
        let kind = desc.payload.kind();
        let first = match kind {
            Kind::Ping | Kind::Query => {
                self.seen
                    .insert_if_new((desc.guid, kind as u8), from, Instant::now())
            }
            _ => true,
        };
        {
            let mut sh = self.ctx.lock();
            sh.stats.received += 1;
            if !first {
                sh.stats.duplicates += 1;
            }
        }
        let guid = desc.guid;
        super::route::dispatch(self, from, desc, first);
        // Traced after the copies it caused were queued: whoever counts Sent against
        // Received then knows a flood is over exactly when the two are equal.
        self.ctx.trace(Trace::Received {
            at: self.ctx.me,
            from: from_addr,
            guid,
            kind,
            ttl,
            hops,
            duplicate: !first,
        });
    }
}
