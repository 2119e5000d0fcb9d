//! What a request thread (or the handle) asks the tracker's coordinator, and what it
//! answers: the one channel between the threads that do I/O and the one that decides.
//!
//! ```text
//!   request thread ──Job{Ask, reply: bounded(1)}──► coordinator ──Answer (try_send)──┐
//!        ◄────────────────────────── waits at most ANSWER_TIMEOUT ◄──────────────────┘
//! ```

use super::msg::answer::{AnnounceAnswer, ScrapeCounts};
use super::msg::query::AnnounceQuery;
use super::site::catalog::Outcome;
use super::site::{IndexPage, SwarmPage};
use crate::bittorrent::metainfo::{InfoHash, Metainfo};
use crossbeam_channel::{bounded, Sender};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a request waits for the coordinator (queue and answer) before it tells the
/// client to come back: the coordinator answers in microseconds unless it is swamped.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// What the coordinator is asked: by a client's request, or by the handle.
#[derive(Debug)]
pub enum Ask {
    /// `ip` is the connection's source address: the only address the tracker trusts.
    Announce {
        query: AnnounceQuery,
        ip: IpAddr,
    },
    Scrape(Vec<InfoHash>),
    /// `(seeds, leechers)` of a torrent, for [`Tracker::counts`](super::Tracker::counts).
    Counts(InfoHash),
    /// List a torrent on the site; `meta` was decoded from `bytes` by this thread.
    Publish {
        meta: Box<Metainfo>,
        bytes: Arc<Vec<u8>>,
    },
    /// The site's front page, one swarm's page, one published `.torrent`.
    Index,
    Swarm(InfoHash),
    File(InfoHash),
}

#[derive(Debug)]
pub enum Answer {
    Announce(AnnounceAnswer),
    /// An announce refused (`registered_only` and the torrent is not listed).
    Refused(&'static str),
    Scrape(Vec<(InfoHash, ScrapeCounts)>),
    Counts(u64, u64),
    Published(Outcome),
    Index(IndexPage),
    Swarm(Option<SwarmPage>),
    /// The torrent's name and its bytes as published.
    File(Option<(String, Arc<Vec<u8>>)>),
}

/// One question and where its answer goes.
pub struct Job {
    pub ask: Ask,
    pub reply: Sender<Answer>,
}

/// Sends `ask` to the coordinator and waits for the answer, at most [`ANSWER_TIMEOUT`]
/// in all. `None`: the coordinator is swamped or stopped.
pub fn ask(jobs: &Sender<Job>, ask: Ask) -> Option<Answer> {
    let end = Instant::now() + ANSWER_TIMEOUT;
    let (reply, answer) = bounded(1);
    jobs.send_timeout(Job { ask, reply }, ANSWER_TIMEOUT).ok()?;
    answer
        .recv_timeout(end.saturating_duration_since(Instant::now()))
        .ok()
}
