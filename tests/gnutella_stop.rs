//! Stopping servents (and leaving with a Bye) leaves no thread behind. Alone in its own
//! test binary because it counts the process's threads.

mod common;

use common::{eventually, TempDir};
use p2plab::gnutella::{Config, HostCache, Servent};
use p2plab::share::Folder;
use std::sync::Arc;
use std::time::Duration;

#[test]
fn servents_stop_and_leave_without_leaking_threads() {
    let before = common::thread_count();
    let dir = TempDir::new("gnutella-stop");
    let cache = HostCache::start("127.0.0.1:0").unwrap();
    let mut s: Vec<Servent> = (0..10)
        .map(|i| {
            let mut cfg = Config::new(Arc::new(Folder::empty(&dir.sub(&format!("s{i}")))));
            cfg.cache = Some(cache.url());
            cfg.degree = 3;
            cfg.seed = i + 1;
            Servent::start(cfg).unwrap()
        })
        .collect();
    assert!(eventually(Duration::from_secs(30), || s
        .iter()
        .all(|x| x.neighbours().len() >= 3)));
    assert!(common::thread_count() > before + 10 * 4);
    // Half leave politely, half are just dropped.
    for x in s.drain(..5) {
        x.leave();
    }
    drop(s);
    drop(cache);
    assert!(
        eventually(Duration::from_secs(10), || common::thread_count() <= before),
        "{} threads left, {before} before",
        common::thread_count()
    );
}
