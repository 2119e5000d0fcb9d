//! The conformance checks of notes 6.4 (`locate::conformance`) on the Chord ring and on
//! KaZaA's group leaders, on real nodes and real sockets. One test per check and
//! design, so a failure names both. `stopping_leaves_no_thread` counts the process's
//! threads and runs alone, in `locate_kd_stop.rs`.

use p2plab::dht::locate::Ring;
use p2plab::kazaa::locate::Groups;
use p2plab::kazaa::Mode;
use p2plab::locate::conformance::CHECKS;
use p2plab::locate::{delta, Design, NodeTraffic, SharedFile};

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

/// Leaders that answer from copies of each other's index (notes 6.4, 获得其他组长的数据拷贝).
fn copying() -> Result<Box<dyn Design>, String> {
    Groups::with_mode(4, Mode::Copy)
        .map(|g| Box::new(g) as Box<dyn Design>)
        .map_err(|e| e.to_string())
}

/// Copies, and forwarding when the copy finds nothing.
fn both() -> Result<Box<dyn Design>, String> {
    Groups::with_mode(4, Mode::Both)
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

#[test]
fn copying_leaders_published_file_is_found() {
    check("published_file_is_found", copying);
}

#[test]
fn copying_leaders_left_peers_files_are_gone() {
    check("left_peers_files_are_gone", copying);
}

#[test]
fn copying_leaders_crashed_peers_files_are_gone() {
    check("crashed_peers_files_are_gone", copying);
}

#[test]
fn copying_leaders_no_false_providers() {
    check("no_false_providers", copying);
}

#[test]
fn copy_and_forward_leaders_pass_every_check() {
    for (name, _) in CHECKS {
        check(name, both);
    }
}

/// In copy mode a search is answered by the searcher's own leader: no leader forwards
/// it, and the answer still names the peer of the other leader. In forward mode the
/// same search goes to the other leader. (Counted by the leaders' own counters, which
/// keep-alive pings do not touch.)
#[test]
fn copying_leaders_answer_alone_forwarding_leaders_ask_each_other() {
    let forwarded = |mode: Mode| {
        let mut d = Groups::with_mode(4, mode).unwrap();
        for p in 0..2 {
            d.join(p, &[SharedFile::new(&format!("solo{p}.mp3"))])
                .unwrap();
        }
        let sum = |d: &Groups| d.leader_stats().iter().map(|s| s.forwarded).sum::<u64>();
        let before = sum(&d);
        let got = d.search(0, "solo1").unwrap();
        assert_eq!(
            got.iter().map(|p| p.peer).collect::<Vec<_>>(),
            [1],
            "{mode}"
        );
        let copied: u64 = d.leader_stats().iter().map(|s| s.copies_out).sum();
        let after = sum(&d);
        d.stop();
        (after - before, copied)
    };
    let (fwd, copies) = forwarded(Mode::Copy);
    assert_eq!(fwd, 0, "copy: the query goes to no other leader");
    assert!(copies >= 2, "copy: each join went to the other leader");
    let (fwd, copies) = forwarded(Mode::Forward);
    assert_eq!(fwd, 1, "forward: the query goes to the other leader");
    assert_eq!(copies, 0, "forward: joins cost the other leader nothing");
}

/// Two peers join, peer 0 searches for peer 1's song: the answer names peer 1, and
/// peer 0's own counters saw the search go out and its answer come back.
fn search_is_counted(mut d: Box<dyn Design>) -> Vec<NodeTraffic> {
    for p in 0..2 {
        d.join(p, &[SharedFile::new(&format!("solo{p}.mp3"))])
            .unwrap();
    }
    let before = d.traffic();
    let got = d.search(0, "solo1").unwrap();
    assert_eq!(
        got.iter().map(|p| p.peer).collect::<Vec<_>>(),
        [1],
        "{got:?}"
    );
    let after = d.traffic();
    let change = delta(&after, &before);
    let me = change.iter().find(|n| n.node == "peer 0").unwrap();
    assert!(me.msgs_sent >= 1 && me.msgs_received >= 1, "{me:?}");
    assert!(me.bytes_sent > me.msgs_sent, "{me:?}");
    d.stop();
    after
}

#[test]
fn ring_counts_a_search_on_the_searcher() {
    let nodes = search_is_counted(ring().unwrap());
    let names: Vec<&str> = nodes.iter().map(|n| n.node.as_str()).collect();
    assert_eq!(names, ["peer 0", "peer 1"]);
}

#[test]
fn leaders_come_first_and_count_a_search() {
    let nodes = search_is_counted(groups().unwrap());
    let names: Vec<&str> = nodes.iter().map(|n| n.node.as_str()).collect();
    assert_eq!(names, ["leader 0", "leader 1", "peer 0", "peer 1"]);
    let leaders: u64 = nodes[..2].iter().map(|n| n.msgs_received).sum();
    assert!(
        leaders >= 4,
        "Hello and Publish of both peers, at least: {nodes:?}"
    );
}
