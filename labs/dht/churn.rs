//! Steps 4 and 6 of the lab: peers come and go (对等方扰动, churn). In step 4 one peer
//! leaves gracefully and returns on another port; in step 6 [`CRASH_PERCENT`] % of a
//! ring crash at once, lookups are followed round by round until they are right again,
//! then every key is asked for.

use super::{fast, owned_by, sha1_hex, song, Lab, SETTLE};
use p2plab::dht::{Config, Id, LocalRing, Rng};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// Share of the churn ring that crashes at once in step 6, in percent.
pub const CRASH_PERCENT: usize = 25;
/// Keys whose lookups are followed round by round after the crash.
const FOLLOWED: usize = 64;
/// Time between two rounds of those lookups.
const ROUND: Duration = Duration::from_millis(100);
/// The longest the lab follows the lookups before reporting how far they got.
const FOLLOW_LIMIT: f64 = 60.0;

impl Lab {
    /// 4. A peer leaves gracefully and comes back on another port: another id, and its
    ///    keys move. Then the small ring is stopped.
    pub fn leave_and_return(&mut self) -> Result<(), String> {
        println!("\n== 4. A peer leaves gracefully and returns with another port (notes 6.1: its IP may change)");
        let idx = self.rng.below(self.ring.nodes.len());
        let old = self.ring.nodes[idx].me();
        let owned_before = owned_by(&self.ring, &old);
        let heir = *self.ring.nodes[idx]
            .snapshot()
            .succs
            .first()
            .ok_or("step 4: expected the leaving node to know its successor")?;
        println!(
            "   node {} at {} owns {} keys; it leaves, handing them to id {}",
            old.id, old.addr, owned_before, heir.id
        );
        self.ring.nodes.remove(idx).leave();
        self.settle("step 4, after the leave")?;
        println!(
            "   id {} now owns {} keys",
            heir.id,
            owned_by(&self.ring, &heir)
        );
        let back = self.add_node()?;
        self.settle("step 4, after the return")?;
        let bits = self.o.bits;
        let moved = self
            .ring
            .all_values()
            .keys()
            .filter(|k| self.ring.owner(&Id::hash(k, bits)) == back)
            .count();
        let holds = self
            .ring
            .nodes
            .iter()
            .find(|n| n.me() == back)
            .map(|n| n.keys().len())
            .unwrap_or(0);
        println!("   it comes back at {} with id {} (was {}): it now owns {moved} keys, holds {holds} with replicas", back.addr, back.id, old.id);
        self.row("keys moved to the returning peer", moved);
        let lost = lost_check(&self.ring, &self.expected);
        self.row("values lost after leave and return", lost);
        self.ring.stop();
        expect_none_lost(lost, "step 4")
    }

    /// 6. Churn: CRASH_PERCENT % of a ring crash at once, without a word.
    pub fn crash(&mut self) -> Result<(), String> {
        let n = self.o.churn_nodes;
        let mut cfg = fast(160, Config::r_for(n));
        // Slower repairs than the other rings (stabilize every 250 ms), so the recovery
        // can be watched round by round.
        cfg.time_scale = 0.25;
        println!(
            "\n== 6. Churn: {n} nodes, m = 160, r = {}, {} keys; {CRASH_PERCENT}% crash at once",
            cfg.r, self.o.keys
        );
        let mut ring = LocalRing::start(n, &cfg).map_err(|e| format!("step 6: {e}"))?;
        if !ring.wait_settled(true, SETTLE) {
            return Err(format!("step 6: expected the ring of {n} to settle"));
        }
        for i in 0..self.o.keys {
            let k = sha1_hex(&song(i));
            let v = format!("10.1.0.{}:6346", i % 200);
            ring.nodes[self.rng.below(n)]
                .put(k.as_bytes(), v.as_bytes())
                .map_err(|e| format!("step 6: put of {} should succeed: {e}", song(i)))?;
        }
        let stored = ring.all_values();
        if !ring.wait_replicated(&stored, SETTLE) {
            return Err(format!(
                "step 6: expected every key on its owner and its {} successors",
                cfg.r
            ));
        }
        let victims: Vec<usize> = self
            .rng
            .sample(n, n * CRASH_PERCENT / 100)
            .into_iter()
            .map(|p| ring.at_position(p))
            .collect();
        let gone = ring.kill(victims);
        println!(
            "   killed {} nodes; lookups of {FOLLOWED} keys from random live nodes, every {} ms:",
            gone.len(),
            ROUND.as_millis()
        );
        let t = follow_lookups(&ring, &stored, &mut self.rng);
        self.row("churn: seconds until lookups correct", format!("{t:.1}"));
        if !ring.wait_settled(true, SETTLE) {
            return Err("step 6: expected the ring to settle after the crash".into());
        }
        let lost = lost_check(&ring, &stored);
        self.row(format!("values lost after {CRASH_PERCENT}% crashed"), lost);
        expect_none_lost(lost, "step 6")
    }
}

/// Rounds of lookups of the first [`FOLLOWED`] keys, each from a random live node,
/// until all name the right owner; returns the seconds that took (or the limit).
fn follow_lookups(
    ring: &LocalRing,
    stored: &BTreeMap<Vec<u8>, BTreeSet<Vec<u8>>>,
    rng: &mut Rng,
) -> f64 {
    let t0 = Instant::now();
    loop {
        let (mut ok, mut wrong, mut failed) = (0, 0, 0);
        for k in stored.keys().take(FOLLOWED) {
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
        if ok == stored.len().min(FOLLOWED) || t > FOLLOW_LIMIT {
            return t;
        }
        std::thread::sleep(ROUND); // the pace of the printed rounds, not a wait for an event
    }
}

/// Asks the ring for every key that was put and counts values that did not come back.
fn lost_check(ring: &LocalRing, all: &BTreeMap<Vec<u8>, BTreeSet<Vec<u8>>>) -> usize {
    let Some(asker) = ring.nodes.first() else {
        return all.values().map(BTreeSet::len).sum();
    };
    let mut lost = 0;
    for (k, want) in all {
        let got: BTreeSet<Vec<u8>> = asker.get(k).unwrap_or_default();
        lost += want.difference(&got).count();
    }
    println!(
        "   {} keys asked for from node {}: {lost} values lost",
        all.len(),
        asker.id()
    );
    lost
}

fn expect_none_lost(lost: usize, step: &str) -> Result<(), String> {
    if lost == 0 {
        Ok(())
    } else {
        Err(format!(
            "{step}: expected 0 values lost, but {lost} did not come back"
        ))
    }
}
