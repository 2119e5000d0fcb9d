//! What a servent reports: trace events (every routing step, for labs and tests),
//! counters, and the QueryHits that reached it. (Named `trace`, not `report`:
//! `crate::report` is the crate's tables and bench figures.)

use super::msg::{Guid, HitResult, Kind};
use crate::share::{ids, Download};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a servent did, for counting. `at` is the servent's Gnutella address; `ttl` and
/// `hops` are the values after this hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trace {
    Received {
        at: SocketAddr,
        from: SocketAddr,
        guid: Guid,
        kind: Kind,
        ttl: u8,
        hops: u8,
        duplicate: bool,
    },
    Sent {
        at: SocketAddr,
        to: SocketAddr,
        guid: Guid,
        kind: Kind,
    },
    /// A `Sent` descriptor was dropped before reaching the socket (queue full, or the
    /// neighbour just left): it will never be received.
    Unsent {
        at: SocketAddr,
        guid: Guid,
    },
    /// A Ping or Query copy went on to `to` (at least one) neighbours.
    Forwarded {
        at: SocketAddr,
        guid: Guid,
        kind: Kind,
        to: usize,
    },
    /// This servent answered a Query with a hit of `results` files.
    Answered {
        at: SocketAddr,
        guid: Guid,
        results: usize,
    },
    /// A Push reached the servent it names.
    PushArrived {
        at: SocketAddr,
        guid: Guid,
        index: u32,
        requester: SocketAddr,
    },
    Connected {
        at: SocketAddr,
        peer: SocketAddr,
        outgoing: bool,
    },
    Disconnected {
        at: SocketAddr,
        peer: SocketAddr,
        why: String,
    },
    DialFailed {
        at: SocketAddr,
        peer: SocketAddr,
        why: String,
    },
    CacheAsked {
        at: SocketAddr,
        got: usize,
    },
    PongArrived {
        at: SocketAddr,
        host: SocketAddr,
        files: u32,
        kbytes: u32,
    },
}

/// Counters of one servent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub received: u64,
    pub sent: u64,
    pub duplicates: u64,
    pub hits_sent: u64,
    pub no_route: u64,
    pub dropped_full: u64,
    pub bad_input: u64,
}

/// [`Stats`] as the coordinator keeps them: it alone writes them (relaxed atomic
/// adds); the handle reads a snapshot without a round trip to the coordinator, so a
/// bench polling fifty servents' counters does not slow their floods down.
#[derive(Debug, Default)]
pub struct Counters {
    pub received: AtomicU64,
    pub sent: AtomicU64,
    pub duplicates: AtomicU64,
    pub hits_sent: AtomicU64,
    pub no_route: AtomicU64,
    pub dropped_full: AtomicU64,
    pub bad_input: AtomicU64,
}

/// Counts one more.
pub fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    pub fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            received: get(&self.received),
            sent: get(&self.sent),
            duplicates: get(&self.duplicates),
            hits_sent: get(&self.hits_sent),
            no_route: get(&self.no_route),
            dropped_full: get(&self.dropped_full),
            bad_input: get(&self.bad_input),
        }
    }
}

/// A QueryHit that reached the servent that asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub guid: Guid,
    pub hops: u8,
    /// Where its files are downloaded from (`GET /get/<index>/<name>`).
    pub http: SocketAddr,
    pub servent_id: Guid,
    pub results: Vec<HitResult>,
}

impl Hit {
    /// A download of result `i`; `None` if the hit carried no `urn:sha1:` to check against.
    pub fn download(&self, i: usize) -> Option<Download> {
        let r = self.results.get(i)?;
        let b32 = r.extension.strip_prefix("urn:sha1:")?;
        let sha1 = ids::sha1_from_base32(b32)?;
        Some(Download::by_index(
            self.http,
            r.index,
            &r.name,
            r.size as u64,
            sha1,
        ))
    }
}
