//! The coordinator: the one thread that owns the swarm table and decides.
//!
//! ```text
//!   request threads ──Job──►  ┌──────────────────────────────┐ ──Answer──► the job's
//!   handle (counts) ──Job──►  │ select!  Swarms (state)      │   (try_send  one-slot
//!   sweep tick ────────────►  │          policy::*           │    channel)
//!   stop (handle) ─────────►  └──────────────────────────────┘
//! ```
//!
//! Announces, scrapes and expiry happen here one at a time, so the table needs no lock
//! and no request sees half an update. The coordinator never touches a socket: each
//! answer goes to its request's one-slot channel with try_send, which cannot block.
//!
//! It also owns the website's catalog (`site/catalog.rs`): what was published, and so,
//! with `registered_only`, which torrents may be announced at all. A page is built here
//! as plain rows (bounded by `MAX_ROWS`, `MAX_PEERS_SHOWN`) and rendered by the request's
//! thread.

use super::Stats;
use crate::bittorrent::metainfo::InfoHash;
use crate::bittorrent::tracker::job::{Answer, Ask, Job};
use crate::bittorrent::tracker::msg::answer::AnnounceAnswer;
use crate::bittorrent::tracker::msg::query::{AnnounceQuery, MAX_SCRAPE};
use crate::bittorrent::tracker::policy::{self, PeerKey};
use crate::bittorrent::tracker::site::catalog::Catalog;
use crate::bittorrent::tracker::site::{
    IndexPage, PeerRow, Row, SwarmPage, MAX_PEERS_SHOWN, MAX_ROWS,
};
use crate::bittorrent::tracker::state::Swarms;
use crate::rng::Rng;
use crossbeam_channel::{select, tick, Receiver};
use log::debug;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Seed of the peer-list sampling: the same announces in the same order get the same
/// peer lists, run after run.
pub const PEER_LIST_SEED: u64 = 0x0074_7261_636b_6572; // "tracker" in ASCII

/// Why an announce is refused by a `registered_only` tracker.
pub const NOT_REGISTERED: &str =
    "torrent not registered with this tracker (publish it to the site first)";

pub struct Coordinator {
    swarms: Swarms,
    catalog: Catalog,
    /// Announces only for torrents in the catalog (opentracker's whitelist).
    registered_only: bool,
    interval: Duration,
    rng: Rng,
    stats: Arc<Stats>,
}

impl Coordinator {
    pub fn new(
        swarms: Swarms,
        catalog: Catalog,
        registered_only: bool,
        interval: Duration,
        stats: Arc<Stats>,
    ) -> Coordinator {
        Coordinator {
            swarms,
            catalog,
            registered_only,
            interval,
            rng: Rng::new(PEER_LIST_SEED),
            stats,
        }
    }

    /// The loop: until `stop` disconnects (or every job sender is gone).
    pub fn run(mut self, jobs: Receiver<Job>, stop: Receiver<()>) {
        let sweep = tick(policy::sweep_period(self.interval));
        loop {
            select! {
                recv(jobs) -> job => match job {
                    Ok(job) => self.on_job(job),
                    Err(_) => break,
                },
                recv(sweep) -> _ => {
                    self.swarms.expire(Instant::now(), policy::expiry(self.interval));
                    self.publish();
                }
                recv(stop) -> _ => break,
            }
        }
    }

    fn on_job(&mut self, Job { ask, reply }: Job) {
        let answer = match ask {
            Ask::Announce { query, .. }
                if self.registered_only && !self.catalog.contains(&query.info_hash) =>
            {
                Answer::Refused(NOT_REGISTERED)
            }
            Ask::Announce { query, ip } => Answer::Announce(self.announce(&query, ip)),
            Ask::Publish { meta, bytes } => Answer::Published(self.catalog.publish(&meta, bytes)),
            Ask::Index => Answer::Index(self.index()),
            Ask::Swarm(hash) => Answer::Swarm(self.swarm_page(&hash)),
            Ask::File(hash) => Answer::File(
                self.catalog
                    .get(&hash)
                    .map(|p| (p.summary.name.clone(), p.bytes.clone())),
            ),
            Ask::Scrape(hashes) => Answer::Scrape(self.swarms.scrape(&hashes, MAX_SCRAPE)),
            Ask::Counts(hash) => {
                let (seeds, leechers) = self.swarms.get(&hash).map_or((0, 0), |s| s.counts());
                Answer::Counts(seeds, leechers)
            }
        };
        self.publish();
        // The requester may have given up (timed out, or its client left): nothing to do.
        let _ = reply.try_send(answer);
    }

    fn announce(&mut self, q: &AnnounceQuery, ip: IpAddr) -> AnnounceAnswer {
        let key = PeerKey {
            id: q.peer_id,
            addr: SocketAddr::new(ip, q.port),
        };
        debug!("announce {:?} from {}, left {}", q.event, key.addr, q.left);
        let now = Instant::now();
        self.swarms.announce(q.info_hash, key, q.left, q.event, now);
        let (complete, incomplete, peers) = match self.swarms.get(&q.info_hash) {
            None => (0, 0, Vec::new()),
            Some(s) => {
                let (seeds, leechers) = s.counts();
                let picked = policy::pick_peers(s.peers.keys(), &key, q.numwant, &mut self.rng);
                (seeds, leechers, picked)
            }
        };
        AnnounceAnswer {
            complete,
            incomplete,
            interval: self.interval,
            peers: peers.into_iter().map(|k| (k.id, k.addr)).collect(),
        }
    }

    /// A row of the front page: the catalog's summary, the swarm table's counts.
    fn row(&self, hash: &InfoHash) -> Row {
        let (seeds, leechers, completed) = self.swarms.get(hash).map_or((0, 0, 0), |s| {
            let (seeds, leechers) = s.counts();
            (seeds, leechers, s.downloaded)
        });
        Row {
            hash: *hash,
            summary: self.catalog.get(hash).map(|p| p.summary.clone()),
            seeds,
            leechers,
            completed,
        }
    }

    /// Published torrents first (info-hash order), then those only announced.
    fn index(&self) -> IndexPage {
        let announced = self.swarms.hashes().filter(|h| !self.catalog.contains(h));
        let both = self
            .catalog
            .iter()
            .filter(|(h, _)| self.swarms.get(h).is_some());
        let known = self.catalog.len() + self.swarms.len().0 - both.count();
        let rows: Vec<Row> = (self.catalog.iter().map(|(h, _)| h))
            .chain(announced)
            .take(MAX_ROWS)
            .map(|h| self.row(h))
            .collect();
        IndexPage {
            hidden: known - rows.len(),
            rows,
            registered_only: self.registered_only,
        }
    }

    /// One torrent's page, if the catalog or the swarm table knows it.
    fn swarm_page(&self, hash: &InfoHash) -> Option<SwarmPage> {
        let swarm = self.swarms.get(hash);
        if swarm.is_none() && !self.catalog.contains(hash) {
            return None;
        }
        let now = Instant::now();
        let peers: Vec<PeerRow> = swarm
            .into_iter()
            .flat_map(|s| s.peers.iter())
            .take(MAX_PEERS_SHOWN)
            .map(|(k, p)| PeerRow {
                addr: k.addr,
                id: k.id,
                left: p.left,
                heard_ago: now.saturating_duration_since(p.heard),
            })
            .collect();
        let total = swarm.map_or(0, |s| s.peers.len());
        Some(SwarmPage {
            row: self.row(hash),
            hidden: total - peers.len(),
            peers,
        })
    }

    /// Counters for the handle, written after every change so that a test that got
    /// an answer reads counters that include its own request.
    fn publish(&self) {
        let (swarms, peers) = self.swarms.len();
        let f = self.swarms.forgotten;
        let s = &self.stats;
        s.swarms.store(swarms, Ordering::Relaxed);
        s.peers.store(peers, Ordering::Relaxed);
        s.expired_peers.store(f.expired_peers, Ordering::Relaxed);
        s.evicted_swarms.store(f.evicted_swarms, Ordering::Relaxed);
        s.evicted_peers.store(f.evicted_peers, Ordering::Relaxed);
    }
}
