//! Notes 6.4 side by side: the conformance checks of `p2plab::locate::conformance`, run
//! against every design on 127.0.0.1 (and the in-memory oracle they are measured by).
//!
//! Every design named in `tests/designs/mod.rs` gets one test per check, named
//! `<design>::<check>`, and one that its traffic is counted at both ends. The tests of
//! this file run one at a time (`SERIAL`): each starts a whole network, and on two
//! cores two networks at once only slow each other down. `stopping_leaves_no_thread`
//! counts the process's threads, so it runs alone in `tests/locate_stop.rs`.

mod designs;

use designs::{every_design, Make};
use p2plab::locate::conformance::{self, CHECKS};
use p2plab::locate::{total_bytes, total_msgs, Design, NodeTraffic, SharedFile};
use std::sync::Mutex;
use std::time::Duration;

static SERIAL: Mutex<()> = Mutex::new(());

/// The check of this name, from the suite's own list.
fn check(name: &str) -> fn(conformance::Make) -> Result<(), String> {
    match CHECKS.iter().find(|c| c.0 == name) {
        Some(c) => c.1,
        None => panic!("no conformance check named {name}"),
    }
}

/// Runs one check on fresh networks from `make`, one test at a time.
fn run(name: &str, make: Make) {
    let _alone = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut make = make;
    if let Err(e) = check(name)(&mut make) {
        panic!("{e}");
    }
}

/// Every message a node sends, another node receives: once the network is quiet, the
/// sums of both sides meet, in messages and in bytes, and a search costs something.
fn traffic_is_counted_at_both_ends(make: Make) {
    let _alone = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut d = make().unwrap();
    for p in 0..3 {
        d.join(p, &[SharedFile::new(&format!("song{p}.mp3"))])
            .unwrap();
    }
    let quiet = |d: &dyn Design| {
        let t = d.traffic();
        let received = |f: fn(&NodeTraffic) -> u64| t.iter().map(f).sum::<u64>();
        total_msgs(&t) == received(|n| n.msgs_received)
            && total_bytes(&t) == received(|n| n.bytes_received)
    };
    assert!(
        p2plab::wait::until(Duration::from_secs(10), || quiet(d.as_ref())),
        "{:?}",
        d.traffic()
    );
    let before = total_msgs(&d.traffic());
    let found = d.search(0, "song2").unwrap();
    assert!(
        p2plab::wait::until(Duration::from_secs(10), || quiet(d.as_ref())),
        "{:?}",
        d.traffic()
    );
    let cost = total_msgs(&d.traffic()) - before;
    let networked = !d.traffic().is_empty();
    d.stop();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        !networked || cost >= 2,
        "a search and its answer: {cost} messages"
    );
}

macro_rules! conformance {
    ($($design:ident),* $(,)?) => {$(
        mod $design {
            use super::*;

            #[test]
            fn published_file_is_found() {
                run("published_file_is_found", designs::$design);
            }

            #[test]
            fn left_peers_files_are_gone() {
                run("left_peers_files_are_gone", designs::$design);
            }

            #[test]
            fn crashed_peers_files_are_gone() {
                run("crashed_peers_files_are_gone", designs::$design);
            }

            #[test]
            fn no_false_providers() {
                run("no_false_providers", designs::$design);
            }

            #[test]
            fn traffic_is_counted_at_both_ends() {
                super::traffic_is_counted_at_both_ends(designs::$design);
            }
        }
    )*};
}

every_design!(conformance);

/// Every check of the suite has a test above: a check added to `CHECKS` and not here
/// fails this test instead of silently never running.
#[test]
fn every_check_has_a_test() {
    let tested = [
        "published_file_is_found",
        "left_peers_files_are_gone",
        "crashed_peers_files_are_gone",
        "no_false_providers",
    ];
    let names: Vec<&str> = CHECKS.iter().map(|c| c.0).collect();
    assert_eq!(names, tested);
}
