//! What the coordinator does with each descriptor: a neighbour's, once a hop is applied
//! (`policy::hop`) and the seen-table has said whether it is a first copy, and our own
//! (the handle's Query, Ping and Push; keepalive Pings).
//!
//! ```text
//!   Ping  ─► Pong back to the sender; flood on            (policy::forward_targets)
//!   Query ─► QueryHit back if our folder matches; flood on
//!   Pong, QueryHit ─► one step back along the route the seen-table kept for its GUID
//!   Push  ─► toward the neighbour the named servent's QueryHit came from
//! ```
//!
//! Descriptors we start are remembered in the seen-table as ours (route SELF), so
//! that their replies stop here. Every function takes the coordinator's [`State`].
//!
//! Upkeep (notes 6.4, the cost of keeping the structure): a keep-alive is a one-hop
//! Ping (it arrives with TTL 1, hops 0), and it and its Pong are counted as upkeep at
//! both ends (`locate::Traffic`), apart from what joins and searches cost. What we
//! send goes into the upkeep half as it is queued (`State::send_as`). What we receive
//! the reader thread has counted already, before anyone knew what it was for, so the
//! coordinator, which knows, moves it there (`Traffic::mark_upkeep_received`).

use super::config::HIT_QUEUE;
use crate::gnutella::msg::{self, Descriptor, Guid, HitResult, Kind, Payload, Pong, QueryHit};
use crate::gnutella::policy::{self, Hop, PeerId, SELF};
use crate::gnutella::state::State;
use crate::gnutella::trace::{bump, Hit, Trace};
use crate::share::ids;
use log::{debug, info};
use std::net::SocketAddr;
use std::time::Instant;

/// Most results in one of our QueryHits: keeps it well under Wireshark's 4 KiB.
pub const MAX_HITS_PER_REPLY: usize = 32;

/// A descriptor from neighbour `from`: one hop, the duplicate test, then [`dispatch`].
pub fn descriptor(st: &mut State, from: PeerId, mut desc: Descriptor) {
    let Some(from_addr) = st.links.get(&from).map(|l| l.addr) else {
        return; // the neighbour left while this was queued
    };
    let (ttl, hops) = match policy::hop(desc.ttl, desc.hops) {
        Hop::Accept { ttl, hops, clamped } => {
            if clamped {
                info!(
                    "{}: {from_addr} sent TTL {} with hops {}: clamped to {}",
                    st.me,
                    desc.ttl,
                    desc.hops,
                    ttl + 1
                );
                bump(&st.stats.bad_input);
            }
            (ttl, hops)
        }
        Hop::Drop(why) => {
            info!("{}: dropping a descriptor from {from_addr}: {why}", st.me);
            bump(&st.stats.bad_input);
            return;
        }
    };
    desc.ttl = ttl;
    desc.hops = hops;
    let kind = desc.payload.kind();
    let first = match kind {
        Kind::Ping | Kind::Query => {
            st.seen
                .insert_if_new((desc.guid, kind as u8), from, Instant::now())
        }
        _ => true,
    };
    bump(&st.stats.received);
    if !first {
        bump(&st.stats.duplicates);
    }
    let guid = desc.guid;
    dispatch(st, from, desc, first);
    // Traced after the copies it caused were queued: whoever counts Sent against
    // Received then knows a flood is over exactly when the two are equal.
    st.trace(Trace::Received {
        at: st.me,
        from: from_addr,
        guid,
        kind,
        ttl,
        hops,
        duplicate: !first,
    });
}

fn dispatch(st: &mut State, from: PeerId, desc: Descriptor, first: bool) {
    // Without dedup (the lab's mistake) every copy is treated as new, answers included.
    let process = first || !st.dedup;
    match &desc.payload {
        Payload::Ping => {
            // After our hop: it came with TTL 1, hops 0, a neighbour's keep-alive.
            let keepalive = desc.ttl == 0 && desc.hops == 1;
            if keepalive {
                st.traffic
                    .mark_upkeep_received(1, desc.encoded_len() as u64);
            }
            if process {
                let pong = Payload::Pong(pong(st, from));
                reply(st, keepalive, from, &desc, pong);
            }
            flood(st, from, &desc, first);
        }
        Payload::Query(q) => {
            if process {
                if let Some(hit) = answer(st, &q.text, from) {
                    let results = hit.results.len();
                    reply(st, false, from, &desc, Payload::QueryHit(hit));
                    bump(&st.stats.hits_sent);
                    st.trace(Trace::Answered {
                        at: st.me,
                        guid: desc.guid,
                        results,
                    });
                }
            }
            flood(st, from, &desc, first);
        }
        Payload::Pong(p) => {
            st.useful(from);
            let host = SocketAddr::new(p.ip.into(), p.port);
            if host != st.me {
                // Every servent on the way back learns the address: a Pong cache.
                st.hosts.add(host);
            }
            if route_back(st, &desc, Kind::Ping) {
                if st.keepalives.contains(&desc.guid) {
                    st.traffic
                        .mark_upkeep_received(1, desc.encoded_len() as u64);
                }
                st.trace(Trace::PongArrived {
                    at: st.me,
                    host,
                    files: p.files,
                    kbytes: p.kbytes,
                });
            }
        }
        Payload::QueryHit(h) => {
            st.useful(from);
            st.push_routes.put(h.servent_id, from, Instant::now());
            // The handle's queue is unbounded as a channel (no buffer made up front)
            // and bounded here: past HIT_QUEUE unread hits, more are dropped.
            if route_back(st, &desc, Kind::Query) && st.hits.len() < HIT_QUEUE {
                let _ = st.hits.try_send(Hit {
                    guid: desc.guid,
                    hops: desc.hops,
                    http: SocketAddr::new(h.ip.into(), h.port),
                    servent_id: h.servent_id,
                    results: h.results.clone(),
                });
            }
        }
        Payload::Push(p) => {
            if p.servent_id == st.id {
                let requester = SocketAddr::new(p.ip.into(), p.port);
                info!(
                    "{}: Push for file {} from {requester} (GIV not implemented)",
                    st.me, p.index
                );
                st.trace(Trace::PushArrived {
                    at: st.me,
                    guid: desc.guid,
                    index: p.index,
                    requester,
                });
                return;
            }
            let route = policy::reverse_hop(st.push_routes.get(&p.servent_id).copied(), &st.ids());
            match route {
                Some(to) if to != SELF && desc.ttl > 0 => st.send_many(&[to], &desc),
                _ => no_route(st, &desc),
            }
        }
        Payload::Bye(_) => {} // the reader closes on Bye; it never gets here
    }
}

/// Our Pong or QueryHit answering `req`, straight back to the neighbour `to` it came
/// from; upkeep if `upkeep` (the Pong to a keep-alive).
fn reply(st: &mut State, upkeep: bool, to: PeerId, req: &Descriptor, payload: Payload) {
    let desc = Descriptor {
        guid: req.guid,
        ttl: policy::reply_ttl(req.hops),
        hops: 0,
        payload,
    };
    st.send_as(upkeep, &[to], &desc);
}

fn flood(st: &mut State, from: PeerId, desc: &Descriptor, first: bool) {
    let targets = policy::forward_targets(&st.ids(), from, desc.ttl, first, st.dedup);
    if targets.is_empty() {
        return;
    }
    st.send_many(&targets, desc);
    st.trace(Trace::Forwarded {
        at: st.me,
        guid: desc.guid,
        kind: desc.payload.kind(),
        to: targets.len(),
    });
}

/// One step back along the reverse path. True when the reply is for this servent.
fn route_back(st: &mut State, desc: &Descriptor, request: Kind) -> bool {
    let route = st.seen.get(&(desc.guid, request as u8)).copied();
    match policy::reverse_hop(route, &st.ids()) {
        Some(SELF) => true,
        Some(to) if desc.ttl > 0 => {
            st.send_many(&[to], desc);
            false
        }
        _ => {
            no_route(st, desc);
            false
        }
    }
}

fn no_route(st: &mut State, desc: &Descriptor) {
    debug!(
        "{}: no route for a {:?}, dropped",
        st.me,
        desc.payload.kind()
    );
    bump(&st.stats.no_route);
}

/// Our Pong to neighbour `to`: where we listen and what we share.
fn pong(st: &State, to: PeerId) -> Pong {
    Pong {
        port: st.me.port(),
        ip: st.advertised(st.me, to),
        files: st.folder.files().len() as u32,
        kbytes: (st.folder.total_bytes() / 1024) as u32,
    }
}

/// Our QueryHit for `text`, if any shared file has every keyword in its name. Results
/// carry `urn:sha1:` so the downloader can check what it gets.
fn answer(st: &State, text: &str, to: PeerId) -> Option<QueryHit> {
    let results: Vec<HitResult> = st
        .folder
        .search(text)
        .into_iter()
        .take(MAX_HITS_PER_REPLY)
        .map(|f| HitResult {
            index: f.index,
            size: f.size.min(u32::MAX as u64) as u32,
            name: f.name.clone(),
            extension: format!("urn:sha1:{}", ids::to_base32(&f.sha1)),
        })
        .collect();
    (!results.is_empty()).then(|| QueryHit {
        port: st.http.port(),
        ip: st.advertised(st.http, to),
        speed: 1000,
        results,
        trailer: Vec::new(),
        servent_id: st.id,
    })
}

/// A Ping or Query of our own: remembered as seen (route SELF), sent to everyone.
pub fn originate(st: &mut State, guid: Guid, ttl: u8, payload: Payload) {
    let kind = payload.kind() as u8;
    st.seen.insert_if_new((guid, kind), SELF, Instant::now());
    let desc = Descriptor {
        guid,
        ttl: ttl.clamp(1, msg::MAX_TTL),
        hops: 0,
        payload,
    };
    let targets = policy::forward_targets(&st.ids(), SELF, desc.ttl, true, true);
    st.send_many(&targets, &desc);
}

/// Our Push toward the servent `servent_id`, along the path its QueryHit came.
pub fn push(st: &mut State, guid: Guid, servent_id: Guid, index: u32) {
    let route = policy::reverse_hop(st.push_routes.get(&servent_id).copied(), &st.ids());
    let via = route.unwrap_or(SELF);
    let desc = Descriptor {
        guid,
        ttl: msg::MAX_TTL,
        hops: 0,
        payload: Payload::Push(msg::Push {
            servent_id,
            index,
            ip: st.advertised(st.http, via),
            port: st.http.port(),
        }),
    };
    match route {
        Some(to) if to != SELF => st.send_many(&[to], &desc),
        _ => info!("{}: no route for a Push", st.me),
    }
}

/// A one-hop Ping to every neighbour, remembered as ours so the Pong finds its way home;
/// upkeep, as are the Pongs it brings (see the module doc).
pub fn keepalive(st: &mut State) {
    st.keepalives.clear();
    for id in st.ids() {
        let desc = Descriptor {
            guid: st.guid(),
            ttl: 1,
            hops: 0,
            payload: Payload::Ping,
        };
        st.seen
            .insert_if_new((desc.guid, Kind::Ping as u8), SELF, Instant::now());
        st.keepalives.push(desc.guid);
        st.send_as(true, &[id], &desc);
    }
}
