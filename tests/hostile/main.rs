//! Hostile and broken peers against real nodes on 127.0.0.1 (issue 13): peers that
//! break the protocol's pace or state, not its bytes. Each test attacks one listener
//! and asserts that a well-behaved client is still served within [`SERVED`] during
//! and after the attack, and that no data of well-behaved peers is lost.
//!
//! Hostile sockets come from other 127.x.y.z addresses (`net::connect_from`), so the
//! per-address rules are exercised on one machine. Deadlines are set short through
//! each node's config; nothing here sleeps for readiness.

#[path = "../common/mod.rs"]
mod common;

mod bittorrent;
mod gnutella;
mod measure;
mod napster;
mod share;
mod tracker;

use p2plab::net::connect_from;
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// How soon a well-behaved client must be served, attack or not.
pub const SERVED: Duration = Duration::from_secs(1);
/// Generous bound for what is not the point of a test: two cores shared with builds.
pub const LIMIT: Duration = Duration::from_secs(30);

/// Runs a well-behaved client's whole exchange and asserts it finished within
/// [`SERVED`]; `f` gets the deadline to give its socket reads.
pub fn served<T>(what: &str, f: impl FnOnce(Duration) -> T) -> T {
    let end = Instant::now() + SERVED;
    let out = f(SERVED);
    assert!(
        Instant::now() <= end,
        "{what}: not served within {SERVED:?} under attack"
    );
    out
}

/// The `i`-th hostile source address: 127.`net`.x.y, never 127.0.0.1.
pub fn hostile_ip(net: u8, i: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, net, (i / 250) as u8, (i % 250) as u8 + 2)
}

/// `n` connections from `n` addresses, each sending `first` and then nothing: slow
/// senders caught in the opening phase (a per-read timeout would wait for each).
pub fn slow_senders(to: SocketAddr, net: u8, n: usize, first: &[u8]) -> Vec<TcpStream> {
    let SocketAddr::V4(to) = to else {
        panic!("IPv4 only")
    };
    (0..n)
        .filter_map(|i| connect_from(hostile_ip(net, i), to, Some(LIMIT)).ok())
        .map(|mut s| {
            let _ = s.write_all(first);
            s
        })
        .collect()
}

/// True once the node has closed `s` (EOF or reset), reading and dropping anything it
/// sent first; false if it stays open past `limit`.
pub fn closed_within(s: &mut TcpStream, limit: Duration) -> bool {
    let end = Instant::now() + limit;
    let mut buf = [0u8; 4096];
    loop {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let _ = s.set_read_timeout(Some(left));
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false
            }
            Err(_) => return true,
        }
    }
}

/// How many of `socks` the node still holds open right now.
pub fn still_open(socks: &mut [TcpStream]) -> usize {
    let mut n = 0;
    for s in socks.iter_mut() {
        n += usize::from(!closed_within(s, Duration::from_millis(1)));
    }
    n
}
