//! The `--scale` runs of lab-gnutella, lab-kazaa, lab-bittorrent and lab-napster (issue #16), at
//! small sizes: what each measures obeys the notes' bounds, and the cost per node is
//! read. The labs' own files are compiled in here, as `bench-*` does. Alone in its test
//! binary because the figures per node are the process's thread and memory counts, and
//! the tests that measure take turns ([`alone`]): a swarm's threads must not be read
//! while another test's peers start or stop.

#[path = "../labs/bittorrent/scale.rs"]
mod bittorrent_scale;
#[path = "../labs/kazaa/catalog.rs"]
mod catalog;
#[path = "../labs/gnutella/scale.rs"]
mod gnutella_scale;
#[path = "../labs/kazaa/scale.rs"]
mod kazaa_scale;
#[path = "../labs/napster/scale.rs"]
mod napster_scale;
#[path = "../labs/kazaa/world.rs"]
mod world;

use p2plab::gnutella::{policy, STACK_SIZE};
use std::sync::{Mutex, MutexGuard};

const LINUX: bool = cfg!(target_os = "linux");

/// Held by each test that measures for as long as it runs.
fn alone() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn the_sizes_double_up_to_the_tested_maximum_largest_first() {
    assert_eq!(gnutella_scale::sizes(1000), vec![1000, 500, 250, 125]);
    assert_eq!(gnutella_scale::sizes(300), vec![300, 250, 125]);
    assert_eq!(kazaa_scale::sizes(1000), vec![1000, 500, 250, 125]);
    assert_eq!(
        [125, 250, 500, 1000].map(kazaa_scale::leaders_for),
        [4, 8, 16, 32]
    );
    assert_eq!(bittorrent_scale::sizes(128), vec![8, 16, 32, 64, 128]);
    assert_eq!(bittorrent_scale::sizes(20), vec![8, 16]);
    assert_eq!(napster_scale::sizes(1000), vec![1000, 500, 250, 125]);
    assert_eq!(kazaa_scale::clamp("nodes", 5000, 2, 1000), 1000);
    assert_eq!(bittorrent_scale::clamp_peers(500), 128);
}

#[test]
fn a_gnutella_sweep_never_exceeds_the_flood_bound_nor_the_servents_in_range() {
    let _turn = alone();
    let r = gnutella_scale::measure(40, 4, 7, 3).unwrap();
    assert_eq!(r.floods.len(), 7);
    // TTL 1: exactly one copy to each of #0's neighbours (at most 4), no duplicate.
    let (in_range, reached, messages, duplicates) = r.floods[0];
    assert!((1..=4).contains(&in_range));
    assert_eq!(
        (reached, messages, duplicates),
        (in_range, in_range as u64, 0)
    );
    for (i, &(in_range, reached, messages, _)) in r.floods.iter().enumerate() {
        let ttl = i as u32 + 1;
        assert!(
            reached <= in_range,
            "TTL {ttl}: {reached} reached, {in_range} in range"
        );
        assert!(
            messages >= reached as u64,
            "TTL {ttl}: each servent reached got a copy"
        );
        assert!(
            messages <= policy::flood_bound(4, ttl),
            "TTL {ttl}: {messages} messages"
        );
    }
    // With duplicate suppression a servent forwards a query once: at most one copy per
    // edge and direction.
    assert!(r.last().2 <= 2 * r.edges as u64);
    if LINUX {
        assert!(r.per_node.threads >= 3.0, "{:?}", r.per_node);
        let stack = r.stack_kib.expect("servent stacks of gnutella::STACK_SIZE");
        assert!(stack as usize <= STACK_SIZE / 1024);
    }
}

#[test]
fn a_kazaa_query_touches_the_leaders_only() {
    let _turn = alone();
    let r = kazaa_scale::measure(64, 20, 7).unwrap();
    assert_eq!(r.leaders, 2);
    assert!(
        r.m.touched <= 2.0,
        "{} leaders touched per query",
        r.m.touched
    );
    assert!(r.m.messages >= 2.0, "at least the Query and its Hits");
    if LINUX {
        assert!(r.per_node.threads > 0.0, "{:?}", r.per_node);
    }
}

#[test]
fn a_small_swarm_is_measured_beside_both_bounds() {
    const MIB: u64 = 1 << 20;
    let _turn = alone();
    let r = bittorrent_scale::measure(2, MIB, 0.05, 7, None).unwrap();
    assert!(r.verified);
    assert!(r.measured_s.is_some(), "the swarm finished");
    // C/S: 2 copies of 1 MiB at 4 MiB/s.
    assert!((r.cs_s - 0.5).abs() < 1e-9, "{}", r.cs_s);
    assert_eq!(p2plab::scale::growth(std::slice::from_ref(&r)), vec![]);
    if LINUX {
        assert!(r.peak.threads > 0.0, "{:?}", r.peak);
    }
}

#[test]
fn every_napster_peer_is_indexed_and_its_searches_find_shared_names() {
    let _turn = alone();
    let r = napster_scale::measure(40, 3).unwrap();
    assert_eq!(r.files, 40 * napster_scale::FILES, "every share indexed");
    assert_eq!(r.searches, 40 * napster_scale::SEARCHES);
    // Each query is three words of a name some peer shares: it finds at least that file.
    assert!(r.results >= r.searches, "{} results", r.results);
    assert!(r.login_s > 0.0 && r.search_s > 0.0);
}
