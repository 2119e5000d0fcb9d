//! Notes 6.4 side by side: the conformance checks of `p2plab::locate::conformance`, run
//! against every design on 127.0.0.1 (and the in-memory oracle they are measured by).
//!
//! One line per design in `conformance!` below gives it one test per check, named
//! `<design>::<check>`. The tests of this file run one at a time (`SERIAL`): each
//! starts a whole network, and `stopping_leaves_no_thread` counts the process's
//! threads, which another test's network would change.

use p2plab::gnutella::locate::{GnutellaNet, NetOptions};
use p2plab::locate::conformance::{self, Check, CHECKS};
use p2plab::locate::{Design, Oracle};
use p2plab::napster::{NapsterNet, ServerOptions};
use std::sync::Mutex;

static SERIAL: Mutex<()> = Mutex::new(());

/// Runs one check on fresh networks from `make`, alone in the process.
fn run(
    check: fn(conformance::Make) -> Result<(), String>,
    make: fn() -> Result<Box<dyn Design>, String>,
) {
    let _alone = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut make = make;
    if let Err(e) = check(&mut make) {
        panic!("{e}");
    }
}

fn oracle() -> Result<Box<dyn Design>, String> {
    Ok(Box::new(Oracle::new()))
}

fn napster() -> Result<Box<dyn Design>, String> {
    let net = NapsterNet::start(ServerOptions::default()).map_err(|e| e.to_string())?;
    Ok(Box::new(net))
}

fn gnutella() -> Result<Box<dyn Design>, String> {
    let opts = NetOptions {
        seed: 7,
        ..NetOptions::default()
    };
    Ok(Box::new(GnutellaNet::new(opts).map_err(|e| e.to_string())?))
}

/// The check of this name, from the suite's own list.
fn check(name: &str) -> fn(conformance::Make) -> Result<(), String> {
    let all: Vec<Check> = CHECKS.to_vec();
    match all.iter().find(|c| c.0 == name) {
        Some(c) => c.1,
        None => panic!("no conformance check named {name}"),
    }
}

macro_rules! conformance {
    ($($design:ident),* $(,)?) => {$(
        mod $design {
            use super::*;

            #[test]
            fn published_file_is_found() {
                run(check("published_file_is_found"), super::$design);
            }

            #[test]
            fn left_peers_files_are_gone() {
                run(check("left_peers_files_are_gone"), super::$design);
            }

            #[test]
            fn crashed_peers_files_are_gone() {
                run(check("crashed_peers_files_are_gone"), super::$design);
            }

            #[test]
            fn no_false_providers() {
                run(check("no_false_providers"), super::$design);
            }

            #[test]
            fn stopping_leaves_no_thread() {
                run(conformance::stopping_leaves_no_thread, super::$design);
            }
        }
    )*};
}

// One line per design: KaZaA and the DHT join here.
conformance!(oracle, napster, gnutella);

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
