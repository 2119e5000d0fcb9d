//! The conformance checks of notes 6.4 (`locate::conformance`) on the Chord ring and on
//! KaZaA's group leaders, on real nodes and real sockets. One test per check and
//! design, so a failure names both. `stopping_leaves_no_thread` counts the process's
//! threads and runs alone, in `locate_kd_stop.rs`.

use p2plab::dht::locate::Ring;
use p2plab::kazaa::locate::Groups;
use p2plab::locate::conformance::CHECKS;
use p2plab::locate::Design;

/// Fixed: which quarter of the ring kill_special takes.
const SEED: u64 = 7;

fn ring() -> Result<Box<dyn Design>, String> {
    Ok(Box::new(Ring::new(4, SEED)))
}

fn groups() -> Result<Box<dyn Design>, String> {
    Groups::new(4)
        .map(|g| Box::new(g) as Box<dyn Design>)
        .map_err(|e| e.to_string())
}

fn check(name: &str, mut make: fn() -> Result<Box<dyn Design>, String>) {
    let (_, f) = CHECKS.iter().find(|c| c.0 == name).expect("a known check");
    if let Err(e) = f(&mut make) {
        panic!("{name}: {e}");
    }
}

#[test]
fn every_check_has_a_test_here() {
    let here = [
        "published_file_is_found",
        "left_peers_files_are_gone",
        "crashed_peers_files_are_gone",
        "no_false_providers",
    ];
    let all: Vec<&str> = CHECKS.iter().map(|c| c.0).collect();
    assert_eq!(all, here, "a new check needs its two tests below");
}

#[test]
fn ring_published_file_is_found() {
    check("published_file_is_found", ring);
}

#[test]
fn ring_left_peers_files_are_gone() {
    check("left_peers_files_are_gone", ring);
}

#[test]
fn ring_crashed_peers_files_are_gone() {
    check("crashed_peers_files_are_gone", ring);
}

#[test]
fn ring_no_false_providers() {
    check("no_false_providers", ring);
}

#[test]
fn leaders_published_file_is_found() {
    check("published_file_is_found", groups);
}

#[test]
fn leaders_left_peers_files_are_gone() {
    check("left_peers_files_are_gone", groups);
}

#[test]
fn leaders_crashed_peers_files_are_gone() {
    check("crashed_peers_files_are_gone", groups);
}

#[test]
fn leaders_no_false_providers() {
    check("no_false_providers", groups);
}
