//! One HTTP request (连接线程): read the head, ask the coordinator, write its answer.
//!
//! ```text
//!   client ──GET──► bt-tracker-conn-ADDR ──Job{ask, reply: bounded(1)}──► coordinator
//!          ◄──200──        (waits on reply)  ◄──────────── Answer (try_send) ──┘
//! ```
//! This thread does I/O only: it reads and checks the request (msg/query.rs), hands the
//! decision to the coordinator, and writes what comes back (msg/answer.rs). The
//! coordinator answers on a one-slot channel with try_send, so it never waits for
//! this thread, let alone for its socket. The request head must arrive within the
//! listener's opening deadline (`net`), however slowly a client trickles it.

use super::msg::answer::{self, AnnounceAnswer, ScrapeCounts, NOT_FOUND};
use super::msg::query::{self, AnnounceQuery, Query, Unusable};
use crate::bittorrent::metainfo::InfoHash;
use crate::net::{self, ConnResult};
use crate::wire::read_head;
use crossbeam_channel::{bounded, Sender};
use std::io::{BufReader, Write};
use std::net::{IpAddr, TcpStream};
use std::time::{Duration, Instant};

/// Request heads are short: a GET line with a query of ~250 bytes.
pub const MAX_HEAD: usize = 8 * 1024;
/// Header lines accepted in a request head (aria2c sends 5).
pub const MAX_HEADERS: usize = 32;
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
}

#[derive(Debug)]
pub enum Answer {
    Announce(AnnounceAnswer),
    Scrape(Vec<(InfoHash, ScrapeCounts)>),
    Counts(u64, u64),
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

/// Serves one connection: one request, one answer, close (HTTP/1.0).
pub fn serve(stream: TcpStream, jobs: &Sender<Job>) -> ConnResult {
    // A client on an IPv4-mapped IPv6 address (a tracker bound to [::]) is an IPv4 peer:
    // it must fit in a compact peer list.
    let ip = stream.peer_addr()?.ip().to_canonical();
    let Some(head) = read_head(&mut BufReader::new(&stream), MAX_HEAD, MAX_HEADERS)? else {
        return Ok(());
    };
    net::established();
    let target = head.start.split(' ').nth(1).unwrap_or("");
    let out = match query::decode(target) {
        Err(Unusable::NotFound) => NOT_FOUND.to_vec(),
        Err(Unusable::Failure(why)) => answer::http_ok(&answer::failure(why)),
        Ok(Query::Announce(query)) => {
            let (compact, no_peer_id) = (query.compact, query.no_peer_id);
            match self::ask(jobs, Ask::Announce { query, ip }) {
                Some(Answer::Announce(a)) => {
                    answer::http_ok(&answer::announce(&a, compact, no_peer_id))
                }
                _ => busy(),
            }
        }
        Ok(Query::Scrape(hashes)) => match self::ask(jobs, Ask::Scrape(hashes)) {
            Some(Answer::Scrape(files)) => answer::http_ok(&answer::scrape(&files)),
            _ => busy(),
        },
    };
    (&stream).write_all(&out)?;
    Ok(())
}

fn busy() -> Vec<u8> {
    answer::http_ok(&answer::failure("tracker busy, try again later"))
}
