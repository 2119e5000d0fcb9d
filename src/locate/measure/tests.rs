//! The measurements measured: an in-memory directory whose every message is counted by
//! hand gives exactly the numbers the rules predict.

use super::*;
use crate::locate::workload::WorkloadConfig;
use crate::locate::{Killed, Provider, SharedFile, Traffic};
use std::collections::HashMap;

/// A directory in memory: each operation is one message from the peer to the directory
/// and one answer back, counted on both.
struct Directory {
    dir: Traffic,
    peers: HashMap<PeerId, (Traffic, Vec<SharedFile>)>,
    alive: bool,
    forget_on_leave: bool,
    /// A keep-alive crosses to the directory and back during every search (upkeep).
    pings: bool,
}

impl Directory {
    fn new(forget_on_leave: bool) -> Directory {
        Directory {
            dir: Traffic::new(),
            peers: HashMap::new(),
            alive: true,
            forget_on_leave,
            pings: false,
        }
    }

    fn round_trip(&self, peer: PeerId) {
        let t = self
            .peers
            .get(&peer)
            .map(|p| p.0.clone())
            .unwrap_or_default();
        t.sent(10);
        self.dir.received(10);
        self.dir.sent(30);
        t.received(30);
    }
}

impl Design for Directory {
    fn name(&self) -> String {
        "directory".into()
    }
    fn join(&mut self, peer: PeerId, files: &[SharedFile]) -> Result<(), LocateError> {
        let t = self
            .peers
            .get(&peer)
            .map(|p| p.0.clone())
            .unwrap_or_default();
        self.peers.insert(peer, (t, files.to_vec()));
        self.round_trip(peer);
        Ok(())
    }
    fn search(&mut self, from: PeerId, kw: &str) -> Result<Vec<Provider>, LocateError> {
        if !self.alive {
            return Err(LocateError::NoService("the directory is down".into()));
        }
        self.round_trip(from);
        if self.pings {
            let t = self
                .peers
                .get(&from)
                .map(|p| p.0.clone())
                .unwrap_or_default();
            t.sent_as(true, 5);
            self.dir.received_as(true, 5);
            self.dir.sent_as(true, 5);
            t.received_as(true, 5);
        }
        let mut out = Vec::new();
        for (&peer, (_, files)) in &self.peers {
            for f in files.iter().filter(|f| f.name.contains(kw)) {
                out.push(Provider {
                    peer,
                    addr: ([127, 0, 0, 1], 1000).into(),
                    sha1: f.sha1,
                    name: f.name.clone(),
                });
            }
        }
        Ok(out)
    }
    fn leave(&mut self, peer: PeerId) -> Result<(), LocateError> {
        self.round_trip(peer);
        if self.forget_on_leave {
            self.peers.remove(&peer);
        }
        Ok(())
    }
    fn crash(&mut self, peer: PeerId) -> Result<(), LocateError> {
        self.peers.remove(&peer);
        Ok(())
    }
    fn crash_timeout(&self) -> Duration {
        Duration::ZERO
    }
    fn kill_special(&mut self) -> Result<Killed, LocateError> {
        self.alive = false;
        Ok(Killed {
            what: "the directory".into(),
            nodes: 1,
            peers: Vec::new(),
        })
    }
    fn traffic(&self) -> Vec<NodeTraffic> {
        let mut all = vec![self.dir.snapshot("directory")];
        let mut ids: Vec<&PeerId> = self.peers.keys().collect();
        ids.sort();
        all.extend(
            ids.iter()
                .map(|p| self.peers[p].0.snapshot(&format!("peer{p}"))),
        );
        all
    }
    fn stop(&mut self) {}
}

fn quick() -> MeasureConfig {
    MeasureConfig {
        settle_limit: Duration::from_millis(200),
        recover_limit: Duration::from_millis(100),
        idle: Duration::from_millis(10),
        ..MeasureConfig::default()
    }
}

#[test]
fn a_right_directory_finds_everything_and_carries_half_of_every_message() {
    let w = Workload::generate(&WorkloadConfig::new(16, 7));
    let mut d = Directory::new(true);
    let col = run(&mut d, &w, &quick()).unwrap();
    assert!(col.answerable > 0);
    assert_eq!(col.found, col.answerable, "{:?}", col.notes);
    assert_eq!((col.wrong, col.stale, col.errors), (0, 0, 0));
    // One request and one answer: two messages sent per search, 40 bytes.
    assert_eq!(col.msgs_per_search.get(), 2.0);
    assert_eq!(
        col.upkeep_per_node, 0.0,
        "this directory keeps nothing alive"
    );
    assert_eq!(col.bytes_per_search.get(), 40.0);
    let (node, share) = col.busiest.clone().unwrap();
    assert_eq!((node.as_str(), share), ("directory", 0.5));
    if col.join_msgs.count > 0 {
        assert_eq!(col.join_msgs.get(), 2.0);
    }
    assert!(
        col.leave_msgs.count + col.crash_secs.count > 0,
        "the workload has leaves or crashes"
    );
    let kill = col.kill.unwrap();
    assert_eq!(kill.what, "the directory");
    assert_eq!(
        kill.failed, kill.tried,
        "every search fails without the directory"
    );
    assert_eq!(kill.recovered, None);
    assert_eq!(kill.lost, kill.checked);
}

#[test]
fn upkeep_during_a_search_is_not_the_searchs_cost() {
    let w = Workload::generate(&WorkloadConfig::new(16, 7));
    let mut d = Directory::new(true);
    d.pings = true;
    let col = run(&mut d, &w, &quick()).unwrap();
    // Four messages crossed the sockets per search; two of them were a keep-alive.
    assert_eq!(col.msgs_per_search.get(), 2.0);
    assert_eq!(col.bytes_per_search.get(), 40.0);
    assert_eq!(col.busiest.unwrap().1, 0.5);
}

#[test]
fn a_directory_that_keeps_left_peers_names_them_as_stale() {
    let w = Workload::generate(&WorkloadConfig::new(16, 7));
    let leaves = w
        .steps
        .iter()
        .filter(|s| matches!(s, Step::Leave(_)))
        .count();
    assert!(leaves > 0, "seed 7 must have a polite leave");
    let mut d = Directory::new(false);
    let col = run(&mut d, &w, &quick()).unwrap();
    assert!(col.stale > 0);
    assert!(
        col.notes.iter().any(|n| n.contains("left, but")),
        "{:?}",
        col.notes
    );
}

#[test]
fn the_load_sweep_adds_churn_at_the_rate_asked() {
    let w = Workload::generate(&WorkloadConfig::new(16, 7));
    let mut d = Directory::new(true);
    let points = directory_load(
        &mut d,
        &w,
        &[0.0, 200.0],
        100.0,
        Duration::from_millis(100),
        &|| Duration::ZERO,
    )
    .unwrap();
    assert_eq!(points.len(), 2);
    assert_eq!(points[0].churn_done, 0.0);
    assert!(points[1].churn_done > 0.0);
    assert!(points[0].special_msgs > 0.0, "searches reach the directory");
}
