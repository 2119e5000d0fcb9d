//! Counting a flood from the servents' [`Trace`] events: what the lab prints and what
//! the tests assert. A flood is over when every descriptor sent with its GUID has been
//! received (the coordinator traces `Received` after the copies it caused).

use super::msg::{Guid, Kind};
use super::trace::Trace;
use crossbeam_channel::Receiver;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Everything one query (or ping) caused.
#[derive(Debug, Clone, Default)]
pub struct Flood {
    /// Servents that got the request (a first copy; the origin only sees duplicates).
    pub reached: BTreeSet<SocketAddr>,
    /// Copies of the request sent over any edge.
    pub messages: u64,
    /// Copies that arrived at a servent that had seen the request already.
    pub duplicates: u64,
    /// Copies each servent passed on, summed per servent and per decision.
    pub forwards: BTreeMap<SocketAddr, Vec<usize>>,
    /// Servents that answered (QueryHit or Pong created).
    pub answered: Vec<SocketAddr>,
    /// Reply messages (QueryHit / Pong) sent over any edge.
    pub reply_messages: u64,
    /// Each servent's first-copy sender: the reverse path home.
    pub route: BTreeMap<SocketAddr, SocketAddr>,
    /// Servents a Push reached (the one it names).
    pub push_arrived: Vec<SocketAddr>,
    /// (from, at) of every reply (and Push) hop.
    pub reply_hops: Vec<(SocketAddr, SocketAddr)>,
    sent: u64,
    received: u64,
}

fn is_request(k: Kind) -> bool {
    matches!(k, Kind::Query | Kind::Ping)
}

impl Flood {
    fn add(&mut self, t: &Trace) {
        match t {
            Trace::Sent { kind, .. } => {
                self.sent += 1;
                if is_request(*kind) {
                    self.messages += 1;
                } else {
                    self.reply_messages += 1;
                }
            }
            Trace::Received {
                at,
                from,
                kind,
                duplicate,
                ..
            } => {
                self.received += 1;
                if is_request(*kind) {
                    if *duplicate {
                        self.duplicates += 1;
                    } else {
                        self.reached.insert(*at);
                        self.route.entry(*at).or_insert(*from);
                    }
                } else {
                    self.reply_hops.push((*from, *at));
                }
            }
            Trace::Unsent { .. } => self.received += 1,
            Trace::PushArrived { at, .. } => self.push_arrived.push(*at),
            Trace::Forwarded { at, to, .. } => self.forwards.entry(*at).or_default().push(*to),
            Trace::Answered { at, .. } => self.answered.push(*at),
            _ => {}
        }
    }

    /// The path a reply from `from` takes to `origin`, following the recorded routes.
    pub fn reverse_path(&self, from: SocketAddr, origin: SocketAddr) -> Vec<SocketAddr> {
        let mut path = vec![from];
        let mut at = from;
        while at != origin && path.len() <= self.route.len() + 1 {
            match self.route.get(&at) {
                Some(next) => {
                    path.push(*next);
                    at = *next;
                }
                None => break,
            }
        }
        path
    }
}

/// Reads `trace` until the flood of `guid` is over, or `limit` passes (`Err`, with what
/// was counted). Events about other GUIDs are skipped.
pub fn collect(trace: &Receiver<Trace>, guid: Guid, limit: Duration) -> Result<Flood, Box<Flood>> {
    let end = Instant::now() + limit;
    let mut f = Flood::default();
    loop {
        let Ok(t) = trace.recv_deadline(end) else {
            return Err(Box::new(f));
        };
        let g = match &t {
            Trace::Sent { guid, .. }
            | Trace::Received { guid, .. }
            | Trace::Unsent { guid, .. }
            | Trace::PushArrived { guid, .. }
            | Trace::Forwarded { guid, .. }
            | Trace::Answered { guid, .. } => *guid,
            _ => continue,
        };
        if g != guid {
            continue;
        }
        f.add(&t);
        if f.sent > 0 && f.sent == f.received {
            return Ok(f);
        }
    }
}
