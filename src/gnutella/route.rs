//! What the coordinator does with each kind of descriptor, once a hop is applied.
//!
//! ```text
//!   Ping  ─► Pong back to the sender; flood on            (forward_targets)
//!   Query ─► QueryHit back if our folder matches; flood on
//!   Pong, QueryHit ─► one step back along the route the seen-table kept for its GUID
//!   Push  ─► toward the neighbour the named servent's QueryHit came from
//! ```

use super::coordinator::{ipv4, Coordinator};
use super::descriptor::{Descriptor, HitResult, Kind, Payload, Pong, QueryHit};
use super::policy::{self, SELF};
use super::servent::{Hit, Trace};
use crate::share::ids;
use log::{debug, info};
use std::net::SocketAddr;
use std::time::Instant;

/// Most results in one of our QueryHits: keeps it well under Wireshark's 4 KiB.
pub const MAX_HITS_PER_REPLY: usize = 32;

pub(super) fn dispatch(c: &mut Coordinator, from: u64, desc: Descriptor, first: bool) {
    // Without dedup (the lab's mistake) every copy is treated as new, answers included.
    let process = first || !c.dedup;
    match &desc.payload {
        Payload::Ping => {
            if process {
                reply(c, from, &desc, Payload::Pong(pong(c)));
            }
            flood(c, from, &desc, first);
        }
        Payload::Query(q) => {
            if process {
                if let Some(hit) = answer(c, &q.text) {
                    let results = hit.results.len();
                    reply(c, from, &desc, Payload::QueryHit(hit));
                    c.ctx.lock().stats.hits_sent += 1;
                    c.ctx.trace(Trace::Answered {
                        at: c.ctx.me,
                        guid: desc.guid,
                        results,
                    });
                }
            }
            flood(c, from, &desc, first);
        }
        Payload::Pong(p) => {
            let host = SocketAddr::new(p.ip.into(), p.port);
            if host != c.ctx.me {
                // Every servent on the way back learns the address: a Pong cache.
                c.ctx.lock().hosts.add(host);
            }
            if route_back(c, &desc, Kind::Ping) {
                c.ctx.trace(Trace::PongArrived {
                    at: c.ctx.me,
                    host,
                    files: p.files,
                    kbytes: p.kbytes,
                });
            }
        }
        Payload::QueryHit(h) => {
            c.push_routes.put(h.servent_id, from, Instant::now());
            if route_back(c, &desc, Kind::Query) {
                let _ = c.hits.try_send(Hit {
                    guid: desc.guid,
                    hops: desc.hops,
                    http: SocketAddr::new(h.ip.into(), h.port),
                    servent_id: h.servent_id,
                    results: h.results.clone(),
                });
            }
        }
        Payload::Push(p) => {
            if p.servent_id == c.id {
                let requester = SocketAddr::new(p.ip.into(), p.port);
                info!(
                    "{}: Push for file {} from {requester} (GIV not implemented)",
                    c.ctx.me, p.index
                );
                c.ctx.trace(Trace::PushArrived {
                    at: c.ctx.me,
                    guid: desc.guid,
                    index: p.index,
                    requester,
                });
                return;
            }
            let route = policy::reverse_hop(c.push_routes.get(&p.servent_id).copied(), &c.ids());
            match route {
                Some(to) if to != SELF && desc.ttl > 0 => c.send_many(&[to], &desc),
                _ => no_route(c, &desc),
            }
        }
        Payload::Bye(_) => {} // the reader closes on Bye; it never gets here
    }
}

/// Sends a Pong or QueryHit answering `req` straight back to the neighbour it came from.
fn reply(c: &Coordinator, to: u64, req: &Descriptor, payload: Payload) {
    let desc = Descriptor {
        guid: req.guid,
        ttl: policy::reply_ttl(req.hops),
        hops: 0,
        payload,
    };
    c.send_many(&[to], &desc);
}

fn flood(c: &Coordinator, from: u64, desc: &Descriptor, first: bool) {
    let targets = policy::forward_targets(&c.ids(), from, desc.ttl, first, c.dedup);
    if targets.is_empty() {
        return;
    }
    c.send_many(&targets, desc);
    c.ctx.trace(Trace::Forwarded {
        at: c.ctx.me,
        guid: desc.guid,
        kind: desc.payload.kind(),
        to: targets.len(),
    });
}

/// One step back along the reverse path. True when the reply is for this servent.
fn route_back(c: &Coordinator, desc: &Descriptor, request: Kind) -> bool {
    match policy::reverse_hop(c.seen.get(&(desc.guid, request as u8)).copied(), &c.ids()) {
        Some(SELF) => true,
        Some(to) if desc.ttl > 0 => {
            c.send_many(&[to], desc);
            false
        }
        _ => {
            no_route(c, desc);
            false
        }
    }
}

fn no_route(c: &Coordinator, desc: &Descriptor) {
    debug!(
        "{}: no route for a {:?}, dropped",
        c.ctx.me,
        desc.payload.kind()
    );
    c.ctx.lock().stats.no_route += 1;
}

/// Our Pong: where we listen and what we share.
fn pong(c: &Coordinator) -> Pong {
    Pong {
        port: c.ctx.me.port(),
        ip: ipv4(c.ctx.me),
        files: c.folder.files().len() as u32,
        kbytes: (c.folder.total_bytes() / 1024) as u32,
    }
}

/// Our QueryHit for `text`, if any shared file has every keyword in its name. Results
/// carry `urn:sha1:` so the downloader can check what it gets.
fn answer(c: &Coordinator, text: &str) -> Option<QueryHit> {
    let results: Vec<HitResult> = c
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
        port: c.http.port(),
        ip: ipv4(c.http),
        speed: 1000,
        results,
        trailer: Vec::new(),
        servent_id: c.id,
    })
}
