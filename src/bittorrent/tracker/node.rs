//! The tracker (追踪服务器): who is in each torrent. An HTTP server answering GET.
//!
//! ```text
//!   peer ──GET /announce?info_hash=..&peer_id=..&port=..&left=..&event=started──► tracker
//!        ◄── d 8:complete i1e 10:incomplete i3e 8:interval i300e 5:peers <6 bytes each> e
//! ```
//! It stores, per info-hash, each peer's address and how much it still needs (`left`
//! = 0 makes it a seed). It never touches the file: the swarm moves the data.
//!
//! | file | role |
//! |---|---|
//! | `node.rs` | [`Tracker`]: bind, accept (with the listener's defences), the handle, stop |
//! | `node/coordinator.rs` | the one thread that owns the swarm table and answers |
//!
//! Defences, because every slot and every entry is a stranger's to take (one thread per
//! connection makes slots scarce): the request head must arrive within
//! [`HEAD_DEADLINE`] however slowly it trickles; one address holds at most
//! [`MAX_PER_ADDR`] connections; a full listener closes the connection that has dawdled
//! longest to admit a newcomer; the table is bounded and evicts (see `state.rs`).
//! The website on the same port (`site/`) adds an upload: capped at `site::MAX_UPLOAD`
//! and due, like the head, within the opening deadline; its catalog is bounded too.

mod coordinator;

pub use coordinator::PEER_LIST_SEED;

use super::conn;
use super::job::{self, Answer, Ask, Job};
use super::site::catalog::{Catalog, MAX_CATALOG_BYTES, MAX_PUBLISHED};
use super::state::Swarms;
use crate::bittorrent::metainfo::InfoHash;
use crate::net::{Conns, Server, ServerConfig};
use coordinator::Coordinator;
use crossbeam_channel::{bounded, Sender};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Limits on what announces can make the tracker remember.
pub const MAX_TORRENTS: usize = 10_000;
pub const MAX_PEERS_PER_TORRENT: usize = 5_000;
/// Requests served at once. An announce takes a millisecond; only a dawdler holds a slot.
pub const MAX_CONNS: usize = 1024;
/// Connections one address may hold at once: a quarter of the slots, so that one
/// address never holds them all. Not fewer: a slot is freed only when its thread has
/// ended, a little after its answer went out, and labs run every peer on 127.0.0.1, so
/// hundreds of peers announcing at once must fit (a NAT of many clients, likewise).
pub const MAX_PER_ADDR: usize = MAX_CONNS / 4;
/// The whole request head, however it is paced: a GET of ~300 bytes fits in one
/// segment, so 5 s leaves room for a lossy link's retransmissions and nothing more.
pub const HEAD_DEADLINE: Duration = Duration::from_secs(5);
/// A client that stops reading its answer for this long is dropped.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Requests waiting for the coordinator; a request finding it full waits (at most
/// `job::ANSWER_TIMEOUT`), which slows only that client.
pub const JOB_QUEUE: usize = MAX_CONNS;

#[derive(Debug, Clone)]
pub struct TrackerConfig {
    /// `interval` told to clients: how often to re-announce. Peers silent for twice
    /// this long are forgotten. Told in whole seconds, at least 1; tests use milliseconds
    /// so that expiry happens within the test.
    pub interval: Duration,
}

impl Default for TrackerConfig {
    fn default() -> TrackerConfig {
        TrackerConfig {
            interval: Duration::from_secs(300),
        }
    }
}

/// What strangers can make the tracker hold, and how long they may dawdle.
#[derive(Debug, Clone)]
pub struct TrackerLimits {
    pub max_torrents: usize,
    pub max_peers_per_torrent: usize,
    pub max_conns: usize,
    pub max_per_addr: usize,
    pub head_deadline: Duration,
    /// Torrents and bytes of `.torrent` files the site's catalog holds.
    pub max_published: usize,
    pub max_catalog_bytes: usize,
    /// Track only the torrents published to the site (`--registered-only`); an announce
    /// for any other gets a bencoded `failure reason`.
    pub registered_only: bool,
}

impl Default for TrackerLimits {
    fn default() -> TrackerLimits {
        TrackerLimits {
            max_torrents: MAX_TORRENTS,
            max_peers_per_torrent: MAX_PEERS_PER_TORRENT,
            max_conns: MAX_CONNS,
            max_per_addr: MAX_PER_ADDR,
            head_deadline: HEAD_DEADLINE,
            max_published: MAX_PUBLISHED,
            max_catalog_bytes: MAX_CATALOG_BYTES,
            registered_only: false,
        }
    }
}

/// What the table holds and what it gave up; the coordinator writes, the handle reads.
#[derive(Debug, Default)]
pub struct Stats {
    pub swarms: AtomicUsize,
    pub peers: AtomicUsize,
    pub expired_peers: AtomicU64,
    pub evicted_swarms: AtomicU64,
    pub evicted_peers: AtomicU64,
}

/// A running tracker; dropping it stops it.
pub struct Tracker {
    server: Server,
    jobs: Sender<Job>,
    stats: Arc<Stats>,
    /// Dropped at stop: the coordinator sees it disconnect and ends.
    stop: Option<Sender<()>>,
}

impl Tracker {
    pub fn start(listen: &str, cfg: TrackerConfig) -> io::Result<Tracker> {
        Tracker::start_with(listen, cfg, TrackerLimits::default())
    }

    pub fn start_with(listen: &str, cfg: TrackerConfig, lim: TrackerLimits) -> io::Result<Tracker> {
        let mut sc = ServerConfig::new("bt-tracker");
        sc.max_conns = lim.max_conns;
        sc.max_per_addr = lim.max_per_addr;
        sc.evict_when_full = true;
        sc.opening_deadline = Some(lim.head_deadline);
        // Per read: the deadline bounds the head; after it there is nothing left to read.
        sc.read_timeout = Some(lim.head_deadline);
        sc.write_timeout = Some(WRITE_TIMEOUT);
        let (jobs, jobs_rx) = bounded(JOB_QUEUE);
        let (stop, stop_rx) = bounded::<()>(0);
        let stats = Arc::new(Stats::default());
        let swarms = Swarms::new(lim.max_torrents, lim.max_peers_per_torrent);
        let catalog = Catalog::new(lim.max_published, lim.max_catalog_bytes);
        let coordinator = Coordinator::new(
            swarms,
            catalog,
            lim.registered_only,
            cfg.interval,
            stats.clone(),
        );
        let conns = Conns::new();
        conns.spawn_worker("bt-tracker-coordinator".into(), move || {
            coordinator.run(jobs_rx, stop_rx)
        })?;
        let j = jobs.clone();
        let server = match Server::bind_with(listen, sc, conns.clone(), move |s| conn::serve(s, &j))
        {
            Ok(server) => server,
            Err(e) => {
                drop(stop); // ends the coordinator
                conns.join_all();
                return Err(e);
            }
        };
        Ok(Tracker {
            server,
            jobs,
            stats,
            stop: Some(stop),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// The announce URL of this tracker.
    pub fn announce_url(&self) -> String {
        format!("http://{}/announce", self.local_addr())
    }

    /// The website's front page (BT网站); `bt make --publish` takes this URL.
    pub fn site_url(&self) -> String {
        format!("http://{}/", self.local_addr())
    }

    /// `(seeds, leechers)` known for an info-hash, asked of the coordinator.
    pub fn counts(&self, info_hash: &[u8]) -> (usize, usize) {
        let Ok(hash) = InfoHash::try_from(info_hash) else {
            return (0, 0);
        };
        match job::ask(&self.jobs, Ask::Counts(hash)) {
            Some(Answer::Counts(s, l)) => (s as usize, l as usize),
            _ => (0, 0),
        }
    }

    /// Torrents and peers held, and what expiry and eviction took.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// `(torrents, peers)` held, as the coordinator last counted.
    pub fn held(&self) -> (usize, usize) {
        let s = &self.stats;
        (
            s.swarms.load(Ordering::Relaxed),
            s.peers.load(Ordering::Relaxed),
        )
    }

    pub fn stop(&mut self) {
        self.stop.take();
        self.server.stop();
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        self.stop();
    }
}
