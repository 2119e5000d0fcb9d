//! What the coordinator does with each kind of descriptor, once a hop is applied.
//!
//! ```text
//!   Ping  ─► Pong back to the sender; flood on            (forward_targets)
//!   Query ─► QueryHit back if our folder matches; flood on
//!   Pong, QueryHit ─► one step back along the route the seen-table kept for its GUID
//!   Push  ─► toward the neighbour the named servent's QueryHit came from
//! ```

use super::coordinator::Coordinator;
use super::descriptor::{Descriptor, Kind, Payload};
use super::policy::{self, SELF};
use super::servent::{Hit, Trace};
use log::{debug, info};
use std::net::SocketAddr;

pub(super) fn dispatch(c: &mut Coordinator, from: u64, desc: Descriptor, first: bool) {
    // Without dedup (the lab's mistake) every copy is treated as new, answers included.
    let process = first || !c.dedup();
    match &desc.payload {
        Payload::Ping => {
            if process {
                reply(c, from, &desc, Payload::Pong(c.pong()));
            }
            flood(c, from, &desc, first);
        }
        Payload::Query(q) => {
            if process {
                if let Some(hit) = c.answer(&q.text) {
                    let results = hit.results.len();
                    reply(c, from, &desc, Payload::QueryHit(hit));
                    c.ctx().lock().stats.hits_sent += 1;
                    c.ctx().trace(Trace::Answered {
                        at: c.me(),
                        guid: desc.guid,
                        results,
                    });
                }
            }
            flood(c, from, &desc, first);
        }
        Payload::Pong(p) => {
            let host = SocketAddr::new(p.ip.into(), p.port);
            if host != c.me() {
                // Every servent on the way back learns the address: a Pong cache.
                c.ctx().lock().hosts.add(host);
            }
            if route_back(c, &desc, Kind::Ping) {
                c.ctx().trace(Trace::PongArrived {
                    at: c.me(),
                    host,
                    files: p.files,
                    kbytes: p.kbytes,
                });
            }
        }
        Payload::QueryHit(h) => {
            c.learn_push_route(h.servent_id, from);
            if route_back(c, &desc, Kind::Query) {
                c.deliver(Hit {
                    guid: desc.guid,
                    hops: desc.hops,
                    http: SocketAddr::new(h.ip.into(), h.port),
                    servent_id: h.servent_id,
                    results: h.results.clone(),
                });
            }
        }
        Payload::Push(p) => {
            if p.servent_id == c.servent_id() {
                let requester = SocketAddr::new(p.ip.into(), p.port);
                info!(
                    "{}: Push for file {} from {requester} (GIV not implemented)",
                    c.me(),
                    p.index
                );
                c.ctx().trace(Trace::PushArrived {
                    at: c.me(),
                    guid: desc.guid,
                    index: p.index,
                    requester,
                });
                return;
            }
            let route = policy::reverse_hop(c.push_route(&p.servent_id), &c.neighbour_ids());
            match route {
                Some(to) if to != SELF && desc.ttl > 0 => c.forward(&[to], &desc),
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
    c.forward(&[to], &desc);
}

fn flood(c: &Coordinator, from: u64, desc: &Descriptor, first: bool) {
    let targets = policy::forward_targets(&c.neighbour_ids(), from, desc.ttl, first, c.dedup());
    if targets.is_empty() {
        return;
    }
    c.forward(&targets, desc);
    c.ctx().trace(Trace::Forwarded {
        at: c.me(),
        guid: desc.guid,
        kind: desc.payload.kind(),
        to: targets.len(),
    });
}

/// One step back along the reverse path. True when the reply is for this servent.
fn route_back(c: &Coordinator, desc: &Descriptor, request: Kind) -> bool {
    match policy::reverse_hop(c.route_of(desc.guid, request), &c.neighbour_ids()) {
        Some(SELF) => true,
        Some(to) if desc.ttl > 0 => {
            c.forward(&[to], desc);
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
        c.me(),
        desc.payload.kind()
    );
    c.ctx().lock().stats.no_route += 1;
}
