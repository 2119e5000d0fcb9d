//! Section 6 of the lab: a quarter of the ring crashes at once. Lookups are followed
//! round by round until they are right again, then every key is asked for.

use super::{fast, sha1_hex, Opts, SETTLE};
use p2plab::dht::{Config, Id, LocalRing, Rng};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

pub fn churn(o: &Opts, rng: &mut Rng, results: &mut Vec<(String, String)>) {
    let n = o.churn_nodes;
    let mut cfg = fast(160, Config::r_for(n));
    // Slower repairs than the other rings (stabilize every 250 ms), so the recovery
    // can be watched round by round.
    cfg.time_scale = 0.25;
    println!(
        "\n== 6. Churn: {n} nodes, m = 160, r = {}, {} keys; 25% crash at once",
        cfg.r, o.keys
    );
    let mut ring = LocalRing::start(n, &cfg).expect("ring");
    assert!(ring.wait_settled(true, SETTLE));
    for i in 0..o.keys {
        let k = sha1_hex(&format!("song-{i:03}.mp3"));
        ring.nodes[rng.below(n)]
            .put(k.as_bytes(), format!("10.1.0.{}:6346", i % 200).as_bytes())
            .expect("put");
    }
    let stored = ring.all_values();
    assert!(ring.wait_replicated(&stored, SETTLE));
    let victims: Vec<usize> = rng
        .sample(n, n / 4)
        .into_iter()
        .map(|p| ring.at_position(p))
        .collect();
    let gone = ring.kill(victims);
    println!(
        "   killed {} nodes; lookups of 64 keys from random live nodes, every 100 ms:",
        gone.len()
    );
    let t0 = Instant::now();
    loop {
        let (mut ok, mut wrong, mut failed) = (0, 0, 0);
        for k in stored.keys().take(64) {
            let id = Id::hash(k, 160);
            match ring.nodes[rng.below(ring.nodes.len())].lookup(&id) {
                Ok(l) if l.owner == ring.owner(&id) => ok += 1,
                Ok(_) => wrong += 1,
                Err(_) => failed += 1,
            }
        }
        let t = t0.elapsed().as_secs_f64();
        println!(
            "   t = {t:>4.1} s   correct {ok:>2}   wrong owner {wrong:>2}   failed {failed:>2}"
        );
        if ok == stored.len().min(64) || t > 60.0 {
            results.push((
                "churn: seconds until lookups correct".into(),
                format!("{t:.1}"),
            ));
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        ring.wait_settled(true, SETTLE),
        "ring settles after the crash"
    );
    lost_check(&ring, &stored, results, "after 25% crashed");
}

/// Asks the ring for every key that was put and counts values that did not come back.
pub fn lost_check(
    ring: &LocalRing,
    all: &BTreeMap<Vec<u8>, BTreeSet<Vec<u8>>>,
    results: &mut Vec<(String, String)>,
    when: &str,
) {
    let mut lost = 0;
    for (k, want) in all {
        let got: BTreeSet<Vec<u8>> = ring.nodes[0].get(k).unwrap_or_default();
        lost += want.difference(&got).count();
    }
    println!(
        "   {} keys asked for from node {}: {lost} values lost",
        all.len(),
        ring.nodes[0].id()
    );
    results.push((format!("values lost {when}"), lost.to_string()));
}
