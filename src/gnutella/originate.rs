//! Descriptors a servent starts itself: the handle's commands (Query, Ping, Push,
//! Leave) and the keepalive Pings. Each is remembered in the seen-table as ours
//! (route SELF), so that its replies stop here.

use super::conn::Out;
use super::coordinator::{ipv4, Coordinator};
use super::descriptor::{self as d, Descriptor, Guid, Kind, Payload};
use super::policy::{self, SELF};
use super::servent::Command;
use log::info;
use std::time::Instant;

impl Coordinator {
    pub(super) fn command(&mut self, c: Command) {
        match c {
            Command::Query { guid, text, ttl } => {
                let q = d::Query {
                    min_speed: 0,
                    text,
                    extension: Vec::new(),
                };
                self.originate(guid, ttl, Payload::Query(q));
            }
            Command::Ping { guid, ttl } => self.originate(guid, ttl, Payload::Ping),
            Command::Push {
                guid,
                servent_id,
                index,
            } => {
                let route =
                    policy::reverse_hop(self.push_routes.get(&servent_id).copied(), &self.ids());
                let push = Payload::Push(d::Push {
                    servent_id,
                    index,
                    ip: ipv4(self.http),
                    port: self.http.port(),
                });
                let desc = Descriptor {
                    guid,
                    ttl: d::MAX_TTL,
                    hops: 0,
                    payload: push,
                };
                match route {
                    Some(to) if to != SELF => self.send_many(&[to], &desc),
                    _ => info!("{}: no route for a Push", self.ctx.me),
                }
            }
            Command::Leave { done } => {
                let (tx, rx) = crossbeam_channel::unbounded();
                let bye = d::encode(&Descriptor {
                    guid: self.guid(),
                    ttl: 1,
                    hops: 0,
                    payload: Payload::Bye(d::Bye {
                        code: 200,
                        text: "leaving".into(),
                    }),
                });
                for link in std::mem::take(&mut self.links).into_values() {
                    let _ = link.out.try_send(Out::Bye(bye.clone(), tx.clone()));
                }
                self.publish();
                let _ = done.send(rx);
            }
        }
    }

    /// A Ping or Query of our own: remembered as seen (route SELF), sent to everyone.
    pub(super) fn originate(&mut self, guid: Guid, ttl: u8, payload: Payload) {
        let kind = payload.kind() as u8;
        self.seen.insert_if_new((guid, kind), SELF, Instant::now());
        let desc = Descriptor {
            guid,
            ttl: ttl.clamp(1, d::MAX_TTL),
            hops: 0,
            payload,
        };
        let targets = policy::forward_targets(&self.ids(), SELF, desc.ttl, true, true);
        self.send_many(&targets, &desc);
    }

    pub(super) fn keepalive(&mut self) {
        for id in self.ids() {
            let desc = Descriptor {
                guid: self.guid(),
                ttl: 1,
                hops: 0,
                payload: Payload::Ping,
            };
            // Remembered as ours, so the one-hop Pong finds its way home.
            self.seen
                .insert_if_new((desc.guid, Kind::Ping as u8), SELF, Instant::now());
            self.send_many(&[id], &desc);
        }
    }
}
