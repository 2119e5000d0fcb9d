//! Stopping a KaZaA network leaves no thread behind, after churn and a promotion too.
//! Alone in its own test binary because it counts the process's threads.

mod common;

use common::{eventually, TempDir};
use p2plab::kazaa::{Leader, LeaderConfig, Node, NodeConfig};
use std::time::Duration;

#[test]
fn leaders_and_nodes_stop_leaving_no_thread() {
    let before = common::thread_count();
    let dirs: Vec<TempDir> = (0..12).map(|_| TempDir::new("kazaa-stop")).collect();
    let mut leaders: Vec<Leader> = Vec::new();
    for _ in 0..3 {
        let mut cfg = LeaderConfig::new("127.0.0.1:0");
        cfg.links = leaders.iter().map(Leader::local_addr).collect();
        cfg.max_children = 5;
        leaders.push(Leader::start(cfg).unwrap());
    }
    let mut nodes: Vec<Node> = dirs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            d.file(&format!("song {i}.mp3"), 100, i as u64);
            let leader = leaders[i % 3].local_addr();
            let mut cfg = NodeConfig::new(vec![leader], d.path(), i as u64);
            cfg.capacity = 100 + i as u32;
            Node::start(cfg).unwrap()
        })
        .collect();
    assert_eq!(nodes[0].query("song", 2).unwrap().hits.len(), 12);
    // A leader dies: its 4 children go to the other two, which then have 6 > 5.
    leaders[0].kill();
    let limit = Duration::from_secs(30);
    assert!(eventually(limit, || nodes
        .iter()
        .any(|n| n.led().is_some())));
    assert!(eventually(limit, || nodes
        .iter()
        .all(|n| n.leader().is_some())));
    assert!(common::thread_count() > before + 12);

    Node::stop_all(&mut nodes);
    for l in &mut leaders {
        l.stop();
    }
    assert!(
        eventually(limit, || common::thread_count() == before),
        "{} threads left of {before}",
        common::thread_count()
    );
}
