//! One HTTP request (连接线程): read the head, ask the coordinator, write its answer.
//! `/announce` and `/scrape` are the tracker; any other path is its website (`site/`).
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

use super::job::{self, Answer, Ask, Job};
use super::msg::answer::{self, NOT_FOUND};
use super::msg::query::{self, Query, Unusable};
use super::site::serve as site;
use crate::net::{self, ConnResult};
use crate::wire::read_head;
use crossbeam_channel::Sender;
use std::io::{BufReader, Write};
use std::net::TcpStream;

/// Request heads are short: a GET line with a query of ~250 bytes.
pub const MAX_HEAD: usize = 8 * 1024;
/// Header lines accepted in a request head (aria2c sends 5).
pub const MAX_HEADERS: usize = 32;
/// Serves one connection: one request, one answer, close (HTTP/1.0).
pub fn serve(stream: TcpStream, jobs: &Sender<Job>) -> ConnResult {
    // A client on an IPv4-mapped IPv6 address (a tracker bound to [::]) is an IPv4 peer:
    // it must fit in a compact peer list.
    let ip = stream.peer_addr()?.ip().to_canonical();
    let mut reader = BufReader::new(&stream);
    let Some(head) = read_head(&mut reader, MAX_HEAD, MAX_HEADERS)? else {
        return Ok(());
    };
    let mut start = head.start.split(' ');
    let (method, target) = (start.next().unwrap_or(""), start.next().unwrap_or(""));
    let base = site::base_url(&head, stream.local_addr()?);
    if method == "POST" {
        // An upload: the body too must arrive within the opening deadline.
        let (out, unread) = site::post(&mut reader, target, &head, &base, jobs);
        (&stream).write_all(&out)?;
        if unread > 0 {
            site::drain(&stream, &mut reader, unread);
        }
        return Ok(());
    }
    net::established();
    let out = match query::decode(target) {
        Err(Unusable::NotFound) if method == "GET" || method == "HEAD" => {
            site::get(method, target, &base, jobs)
        }
        Err(Unusable::NotFound) => NOT_FOUND.to_vec(),
        Err(Unusable::Failure(why)) => answer::http_ok(&answer::failure(why)),
        Ok(Query::Announce(query)) => {
            let (compact, no_peer_id) = (query.compact, query.no_peer_id);
            match job::ask(jobs, Ask::Announce { query, ip }) {
                Some(Answer::Announce(a)) => {
                    answer::http_ok(&answer::announce(&a, compact, no_peer_id))
                }
                Some(Answer::Refused(why)) => answer::http_ok(&answer::failure(why)),
                _ => busy(),
            }
        }
        Ok(Query::Scrape(hashes)) => match job::ask(jobs, Ask::Scrape(hashes)) {
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
