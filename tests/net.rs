//! The thread-per-connection server: stopping, caps, timeouts, on real sockets.

mod common;

use common::{echo, echo_config};
use p2plab::net::{LimitedWriter, Server, TokenBucket};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

#[test]
fn connection_cap_refuses_the_extra_peer() {
    let mut cfg = echo_config("capped");
    cfg.max_conns = 2;
    let server = Server::bind("127.0.0.1:0", cfg, echo).unwrap();
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut c = TcpStream::connect(server.local_addr()).unwrap();
        c.write_all(b"x").unwrap();
        c.read_exact(&mut [0u8; 1]).unwrap(); // served, so counted
        held.push(c);
    }
    let mut third = TcpStream::connect(server.local_addr()).unwrap();
    third
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = third.write_all(b"x");
    let mut b = [0u8; 1];
    assert_eq!(
        third.read(&mut b).unwrap_or(0),
        0,
        "the third peer is closed, not served"
    );
}

#[test]
fn a_silent_peer_is_dropped_after_the_read_timeout() {
    let mut cfg = echo_config("timeout");
    cfg.read_timeout = Some(Duration::from_millis(200));
    let server = Server::bind("127.0.0.1:0", cfg, echo).unwrap();
    let mut c = TcpStream::connect(server.local_addr()).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let t = Instant::now();
    assert_eq!(c.read(&mut [0u8; 1]).unwrap_or(0), 0);
    assert!(t.elapsed() < Duration::from_secs(4));
    assert!(common::eventually(Duration::from_secs(2), || server
        .conns()
        .is_empty()));
}

#[test]
fn token_bucket_counts_bytes() {
    // Correctness only (every byte arrives, in order); the rate itself is measured by
    // the distribution lab, not asserted in a test.
    let bucket = TokenBucket::new(50 * 1024 * 1024);
    let mut w = LimitedWriter::new(Vec::new(), Some(bucket.clone()));
    let data = common::bytes(200_000, 9);
    w.write_all(&data).unwrap();
    assert_eq!(w.into_inner(), data);
    assert_eq!(bucket.rate(), 50 * 1024 * 1024);
}
