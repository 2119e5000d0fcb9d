//! The coordinator: one thread per servent owns its [`State`] and makes every decision.
//!
//! ```text
//!   loop select! {
//!     events   (readers, dialer) ─► new/lost neighbours, descriptors (relay.rs), dial results
//!     commands (the handle)      ─► our own Query/Ping/Push, Leave, questions answered
//!     tick                       ─► expire the seen-table, keepalive Pings, refill the degree
//!   }
//! ```
//!
//! It never touches a socket beyond closing one: descriptors go to each neighbour's
//! writer queue (`State::send_many`), dials to the dialer thread (`dial.rs`).

use super::config::Config;
use super::relay;
use crate::gnutella::event::{Admit, Command, Event, Job};
use crate::gnutella::hosts::{self, Hosts};
use crate::gnutella::msg::handshake::Answer;
use crate::gnutella::msg::{Guid, Payload};
use crate::gnutella::policy::{self, Refill};
use crate::gnutella::state::{Link, State};
use crate::gnutella::trace::{bump, Counters, Hit, Trace};
use crate::rng::Rng;
use crate::seen::Seen;
use crossbeam_channel::{select, tick, Receiver, Sender};
use log::info;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the degree is checked (and the seen-table expired) without an event.
pub const JOIN_TICK: Duration = Duration::from_millis(200);
/// A servent below its degree with no address left pings at most this often.
pub const PING_RETRY: Duration = Duration::from_secs(2);
/// The host cache is asked at most this often.
pub const CACHE_RETRY: Duration = Duration::from_secs(2);

pub struct Coordinator {
    st: State,
    /// The dialer's queue (one job at a time: `State::dialing`).
    jobs: Sender<Job>,
    /// `Config::keepalive`: how often [`relay::keepalive`] pings every neighbour.
    keepalive: Duration,
}

impl Coordinator {
    pub fn new(
        cfg: &Config,
        me: SocketAddr,
        id: Guid,
        http: SocketAddr,
        hits: Sender<Hit>,
        jobs: Sender<Job>,
        stats: Arc<Counters>,
    ) -> Coordinator {
        let now = Instant::now();
        let mut known = Hosts::default();
        let mut start = cfg.peers.clone();
        if let Some(p) = &cfg.host_list {
            start.extend(hosts::load(p));
        }
        for h in start.into_iter().filter(|h| *h != me) {
            known.add_old(h);
        }
        let st = State {
            me,
            http,
            id,
            folder: cfg.share.clone(),
            dedup: cfg.dedup,
            links: BTreeMap::new(),
            hosts: known,
            degree: cfg.degree.min(cfg.max_degree),
            max_degree: cfg.max_degree,
            idle_grace: cfg.idle_grace,
            ping_ttl: cfg.ping_ttl,
            stats,
            traffic: cfg.traffic.clone(),
            keepalives: Vec::new(),
            seen: Seen::new(cfg.seen_capacity, cfg.seen_lifetime, now),
            push_routes: Seen::new(cfg.seen_capacity, cfg.seen_lifetime, now),
            // The servent id is already unique per servent: seed from it.
            rng: Rng::new(u64::from_le_bytes([
                id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7],
            ])),
            hits,
            trace: cfg.trace.clone(),
            has_cache: cfg.cache.is_some(),
            dialing: false,
            leaving: false,
            last_ping: None,
            last_cache: None,
        };
        Coordinator {
            st,
            jobs,
            keepalive: cfg.keepalive,
        }
    }

    pub fn run(mut self, events: Receiver<Event>, cmds: Receiver<Command>) {
        let ticker = tick(JOIN_TICK);
        let mut last_keepalive = Instant::now();
        self.refill();
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
                    self.st.seen.expire(now);
                    self.st.push_routes.expire(now);
                    if now.duration_since(last_keepalive) >= self.keepalive {
                        last_keepalive = now;
                        relay::keepalive(&mut self.st);
                    }
                    self.refill();
                }
            }
        }
    }

    fn event(&mut self, e: Event) {
        let st = &mut self.st;
        match e {
            Event::Hello { listen, reply } => {
                if st.links.len() >= st.max_degree {
                    // Full: a neighbour that only holds its slot makes room.
                    let links: Vec<_> = st
                        .links
                        .iter()
                        .map(|(id, l)| (*id, l.answered, l.last_useful))
                        .collect();
                    if let Some(id) = policy::evict_idle(&links, Instant::now(), st.idle_grace) {
                        let gone = st.links.get(&id).map(|l| l.addr);
                        info!(
                            "{}: full, dropping {gone:?} (idle longest) for {listen}",
                            st.me
                        );
                        if let Some(addr) = gone.filter(|a| !st.hosts.is_verified(a)) {
                            st.hosts.remove(&addr);
                        }
                        st.drop_link(id, "idle; replaced by a newcomer".into(), false);
                    }
                }
                let x_try = st.x_try(listen);
                let admit = match policy::admit(st.me, listen, &st.neighbours(), st.max_degree) {
                    None => Admit::Accept { x_try },
                    Some(why) => Admit::Refuse { why, x_try },
                };
                let _ = reply.try_send(admit);
            }
            Event::Up {
                id,
                addr,
                outgoing,
                out,
                local,
                ack,
                hello,
            } => {
                let dup = addr == st.me || st.links.values().any(|l| l.addr == addr);
                if dup || st.links.len() >= st.max_degree || st.leaving {
                    out.close();
                    if let Some(a) = ack {
                        let _ = a.try_send(Err(format!("{addr}: already a neighbour or full")));
                    }
                    return;
                }
                let link = Link {
                    addr,
                    out,
                    local,
                    last_useful: Instant::now(),
                    answered: false,
                };
                st.links.insert(id, link);
                if outgoing {
                    st.hosts.verified(addr); // we reached its listening socket ourselves
                }
                st.hosts.add(addr);
                for h in hello.x_try.iter().filter(|h| **h != st.me) {
                    st.hosts.add_old(*h);
                }
                st.trace(Trace::Connected {
                    at: st.me,
                    peer: addr,
                    outgoing,
                });
                if let Some(a) = ack {
                    let _ = a.try_send(Ok(Answer::Accepted(hello)));
                }
            }
            Event::Down { id, why, bye } => {
                if st.drop_link(id, why, bye) {
                    self.refill(); // below degree? dial again
                }
            }
            Event::Descriptor { id, d } => relay::descriptor(st, id, d),
            Event::BadInput => bump(&st.stats.bad_input),
            Event::Dialed { addr, result } => match result {
                Ok(Answer::Accepted(_)) => {
                    if st.links.len() == 1 {
                        // Our first neighbour: a Ping brings Pongs, Pongs bring hosts.
                        self.ping();
                    }
                }
                Ok(Answer::Refused { code, x_try }) => {
                    info!("{}: {addr} refused with {code}", st.me);
                    st.hosts.remove(&addr);
                    for h in x_try.into_iter().filter(|h| *h != st.me) {
                        st.hosts.add_old(h);
                    }
                }
                Err(why) => {
                    st.hosts.remove(&addr);
                    st.trace(Trace::DialFailed {
                        at: st.me,
                        peer: addr,
                        why,
                    });
                }
            },
            Event::CacheAnswered(Ok(list)) => {
                for h in list.iter().filter(|h| **h != st.me) {
                    st.hosts.add_old(*h);
                }
                st.trace(Trace::CacheAsked {
                    at: st.me,
                    got: list.len(),
                });
            }
            Event::CacheAnswered(Err(e)) => info!("{}: host cache: {e}", st.me),
            Event::DialerIdle => {
                st.dialing = false;
                self.refill();
            }
        }
    }

    fn command(&mut self, c: Command) {
        let st = &mut self.st;
        match c {
            Command::Query { guid, text, ttl } => {
                let q = Payload::Query(crate::gnutella::msg::Query {
                    min_speed: 0,
                    text,
                    extension: Vec::new(),
                });
                relay::originate(st, guid, ttl, q);
            }
            Command::Ping { guid, ttl } => relay::originate(st, guid, ttl, Payload::Ping),
            Command::Push {
                guid,
                servent_id,
                index,
            } => relay::push(st, guid, servent_id, index),
            Command::Leave { done } => {
                st.leaving = true;
                let (tx, rx) = crossbeam_channel::unbounded();
                st.bye_all(tx);
                let _ = done.send(rx);
            }
            Command::SetDegree(d) => {
                st.degree = d.min(st.max_degree);
                self.refill();
            }
            Command::Neighbours(reply) => {
                let _ = reply.try_send(st.neighbours());
            }
            Command::KnownHosts(reply) => {
                let _ = reply.try_send(st.hosts.to_vec());
            }
        }
    }

    fn ping(&mut self) {
        self.st.last_ping = Some(Instant::now());
        let (guid, ttl) = (self.st.guid(), self.st.ping_ttl);
        relay::originate(&mut self.st, guid, ttl, Payload::Ping);
    }

    /// Below the target degree: decide (`policy::refill`) and act on it.
    fn refill(&mut self) {
        let st = &mut self.st;
        if st.dialing || st.leaving {
            return;
        }
        let now = Instant::now();
        let have = st.links.len();
        let decision = policy::refill(
            st.degree.saturating_sub(have),
            have,
            st.candidates(),
            st.has_cache && policy::due(st.last_cache, CACHE_RETRY, now),
            policy::due(st.last_ping, PING_RETRY, now),
        );
        let job = match decision {
            Refill::Nothing => return,
            Refill::Ping => return self.ping(),
            Refill::Dial { hosts, need } => Job::Dial { hosts, need },
            Refill::AskCache => {
                st.last_cache = Some(now);
                Job::AskCache
            }
        };
        st.dialing = self.jobs.try_send(job).is_ok();
    }
}
