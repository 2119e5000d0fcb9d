//! Whole swarms on 127.0.0.1 (notes 6.5): a tracker, a seed and capped peers, built
//! with `run_swarm`. Nothing here asserts a time: the checks are who finished, what
//! their files hash to, which slot carried whose bytes, and the random choices.
//! The protocol's periods are scaled down (rechoke every 0.5 s); byte rates are real.

mod common;

use common::TempDir;
use p2plab::bittorrent::policy::pick::PickReason;
use p2plab::bittorrent::swarm::{run_swarm, Kill, Leave, PeerSpec, Role, SwarmConfig};
use p2plab::bittorrent::MAX_BAD_PIECES;
use std::time::Duration;

const KIB: u64 = 1024;
const MIB: u64 = 1 << 20;

fn swarm(dir: &TempDir, n: usize, file: u64, us: u64, ui: u64) -> SwarmConfig {
    let mut cfg = SwarmConfig::uniform(n, file, Some(us), Some(ui), dir.path().to_path_buf());
    cfg.piece_length = 64 * KIB;
    cfg.time_scale = 0.05;
    cfg.seed = 7;
    // Generous: two cores shared with other builds. The run ends when all are done.
    cfg.timeout = Duration::from_secs(240);
    cfg
}

#[test]
fn one_seed_and_ten_leechers_all_get_the_right_file() {
    let dir = TempDir::new("swarm-10");
    let cfg = swarm(&dir, 10, 4 * MIB, MIB, MIB);
    let r = run_swarm(&cfg, None).unwrap();
    assert!(r.distribution_time.is_some(), "not every leecher finished");
    assert!(r.all_verified);
    for p in &r.peers {
        assert_eq!(p.sha1_ok, Some(true), "{}", p.name);
        // The notes' order: random first pieces, then rarest first.
        assert!(p.picks.len() >= 4, "{}: {:?}", p.name, p.picks);
        assert!(p.picks[..4]
            .iter()
            .all(|(_, w)| *w == PickReason::RandomFirst));
        assert!(
            p.picks
                .iter()
                .any(|(_, w)| matches!(w, PickReason::Rarest { .. })),
            "{} never picked by rarity",
            p.name
        );
    }
    // The seed can send 1 MiB/s; 40 MiB went out. Most of it came from the leechers:
    // they served each other (相互服务), which is what tit-for-tat is for.
    let from_leechers: u64 = r.peers.iter().map(|p| p.uploaded).sum();
    assert!(
        from_leechers > r.seed_uploaded,
        "leechers uploaded {from_leechers}, the seed {}",
        r.seed_uploaded
    );
}

#[test]
fn when_30_percent_are_killed_mid_run_the_rest_still_complete() {
    let dir = TempDir::new("swarm-churn");
    let mut cfg = swarm(&dir, 10, 4 * MIB, MIB, MIB);
    for p in cfg.peers.iter_mut().take(3) {
        p.kill = Some(Kill::AtProgress(0.3));
    }
    let r = run_swarm(&cfg, None).unwrap();
    let killed: Vec<&str> = r
        .peers
        .iter()
        .filter(|p| p.killed)
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(killed, ["L01", "L02", "L03"]);
    for p in r.peers.iter().filter(|p| !p.killed) {
        assert_eq!(p.sha1_ok, Some(true), "{} did not complete", p.name);
    }
    assert!(r
        .peers
        .iter()
        .filter(|p| p.killed)
        .all(|p| p.completed.is_none()));
    assert!(r.distribution_time.is_some() && r.all_verified);
}

#[test]
fn a_free_rider_lives_on_optimistic_unchokes_and_finishes_among_the_last() {
    // A torrent in mid-life: 12 leechers already hold a random half of the file each,
    // and a newcomer that will never upload joins them. A leecher gives its regular
    // slots only to peers that upload to it, so while it downloads, every byte it
    // sends the free-rider goes out in its optimistic slot (the check below fails as
    // soon as a choker hands zero-rate peers a regular slot).
    //
    // Simplified: the free-rider also needs twice as much as the others, and the
    // leechers are selfish (they leave when done), so being last does not rest on small
    // rate differences: finished leechers that stay seed everyone alike, and in a small
    // swarm a free-rider lives well on that spare capacity (the lab's handout measures
    // it). With altruistic leechers this test failed about one run in three.
    let dir = TempDir::new("swarm-free");
    let mut cfg = swarm(&dir, 12, 6 * MIB, MIB, MIB);
    cfg.time_scale = 0.02;
    for p in &mut cfg.peers {
        p.start_with = 0.5;
        p.leave = Leave::Selfish;
    }
    cfg.peers.push(PeerSpec {
        role: Role::FreeRider,
        ..PeerSpec::leecher("free", Some(MIB))
    });
    let r = run_swarm(&cfg, None).unwrap();
    assert!(r.all_verified);
    let free = r.peers.iter().find(|p| p.name == "free").unwrap();
    assert_eq!(free.uploaded, 0, "a free-rider uploads nothing");
    let free_done = free.completed.expect("the free-rider still gets the file");
    // At the very end only the seed is left to serve both the free-rider and the last
    // leecher, so which of those two finishes first is a coin toss (it failed one CI run
    // in several): the free-rider must finish after every leecher but at most one.
    let later: Vec<&str> = r
        .peers
        .iter()
        .filter(|p| p.name != "free" && p.completed.is_some_and(|t| t > free_done))
        .map(|p| p.name.as_str())
        .collect();
    assert!(
        later.len() <= 1,
        "{later:?} finished after the free-rider: it was served like a contributor"
    );
    let mut optimistic = 0;
    for p in r.peers.iter().filter(|p| p.name != "free") {
        assert!(p.completed.is_some(), "{} never finished", p.name);
        if let Some((_, s)) = p.links.iter().find(|(n, _)| n == "free") {
            assert_eq!(
                s.up_regular_leeching, 0,
                "{} gave the free-rider a regular slot",
                p.name
            );
            optimistic += s.up_optimistic;
        }
    }
    assert!(
        optimistic > 0,
        "no leecher ever unchoked the free-rider optimistically"
    );
}

#[test]
fn a_corrupt_peer_is_dropped_and_costs_nobody_a_wrong_byte() {
    let dir = TempDir::new("swarm-bad");
    let mut cfg = swarm(&dir, 5, 4 * MIB, 512 * KIB, MIB);
    cfg.peers.push(PeerSpec {
        role: Role::Corrupt,
        ..PeerSpec::leecher("bad", Some(4 * MIB))
    });
    let r = run_swarm(&cfg, None).unwrap();
    assert!(r.distribution_time.is_some(), "not every leecher finished");
    assert!(r.all_verified, "a wrong byte reached a file");
    let mut fooled = 0;
    for p in r.peers.iter().filter(|p| p.role == Role::Leecher) {
        assert_eq!(p.sha1_ok, Some(true));
        let Some((_, s)) = p.links.iter().find(|(n, _)| n == "bad") else {
            continue;
        };
        // Several pieces' worth of lies: the liar must have been dropped.
        // Enough lies to be caught (3 bad pieces): it must have been dropped.
        if s.down >= MAX_BAD_PIECES as u64 * cfg.piece_length {
            fooled += 1;
            assert!(s.banned, "{} did not drop the corrupt peer", p.name);
        }
    }
    assert!(
        fooled > 0,
        "nobody took pieces from the corrupt peer: the test tests nothing"
    );
}

#[test]
fn a_fixed_seed_tells_the_same_story_twice() {
    let picks = |seed| {
        let dir = TempDir::new("swarm-seed");
        let mut cfg = swarm(&dir, 1, 2 * MIB, 4 * MIB, MIB);
        cfg.seed = seed;
        let r = run_swarm(&cfg, None).unwrap();
        assert!(r.all_verified && r.distribution_time.is_some());
        r.peers[0].picks.iter().map(|(i, _)| *i).collect::<Vec<_>>()
    };
    let a = picks(5);
    assert_eq!(a.len(), 32, "each of the 32 pieces picked once");
    assert_eq!(a, picks(5), "same seed, different picks");
    assert_ne!(a, picks(6), "the seed does not reach the picker");
}
