//! Stopping a ring leaves no thread behind. Alone in its own test binary because it
//! counts the process's threads, which tests running beside it would change.

mod common;

use p2plab::dht::{Config, LocalRing};
use std::time::Duration;

#[test]
fn stopping_a_ring_joins_every_thread() {
    let before = common::thread_count();
    let mut cfg = Config::new(160);
    cfg.time_scale = 0.05;
    let mut ring = LocalRing::start(10, &cfg).unwrap();
    assert!(ring.wait_settled(false, Duration::from_secs(60)));
    // Per node: reader, coordinator, maintenance worker; no keys, so no store worker.
    let per_node = p2plab::dht::THREADS_PER_NODE;
    assert_eq!(common::thread_count(), before + 10 * per_node);
    // A put makes its owner copy the value to its successors: store workers start.
    ring.nodes[0].put(b"song", b"10.0.0.7:6346").unwrap();
    assert!(common::thread_count() > before + 10 * per_node);
    ring.stop();
    assert_eq!(common::thread_count(), before, "every thread joined");
}
