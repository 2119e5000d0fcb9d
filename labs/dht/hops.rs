//! Steps 3 and 5 of the lab: how many hops a lookup takes, with shortcuts (捷径) and
//! without. Step 3 follows one lookup hop by hop; step 5 measures the mean against N.

use super::{fast, label, Lab, SETTLE};
use p2plab::dht::{Config, LocalRing, Rng, Routing};

/// The largest ring whose successor-only lookups are measured (NaN above): N/2 hops on
/// average, and up to N - 1, which must stay under `p2plab::dht::MAX_HOPS`.
const SUCCESSOR_ONLY_MAX: usize = 512;

impl Lab {
    /// 3. One lookup, hop by hop, with and without shortcuts, from the node just after
    ///    the owner (the farthest start: almost a whole ring away).
    pub fn one_lookup(&mut self) -> Result<(), String> {
        let id = self.key.1;
        let sorted = self.ring.sorted();
        let owner_pos = sorted.iter().position(|n| *n == self.ring.owner(&id));
        let pos = (owner_pos.unwrap_or(0) + 1) % sorted.len();
        let asker = &self.ring.nodes[self.ring.at_position(pos)];
        println!(
            "\n== 3. Node {} looks the key up (iterative: it asks each hop itself)",
            asker.id()
        );
        let mut rows = Vec::new();
        for routing in [Routing::Fingers, Routing::SuccessorOnly] {
            let l = asker
                .lookup_with(&id, routing)
                .map_err(|e| format!("step 3: lookup {} should succeed: {e}", label(routing)))?;
            let path: Vec<String> = l.path.iter().map(|n| n.id.to_string()).collect();
            println!(
                "   {:<15} {} -> owner {}   {} hops",
                label(routing),
                path.join(" -> "),
                l.owner.id,
                l.hops()
            );
            rows.push((format!("hops of that lookup, {}", label(routing)), l.hops()));
        }
        rows.into_iter().for_each(|(k, v)| self.row(k, v));
        Ok(())
    }

    /// 5. Mean hops against N, on rings of 8, 16, ... up to `--max` nodes, m = 160.
    pub fn hops_against_n(&mut self) -> Result<(), String> {
        println!(
            "\n== 5. Mean hops of {} random lookups, m = 160 (½·log2 N is Chord's figure)",
            self.o.lookups
        );
        println!(
            "   {:>5} {:>12} {:>9} {:>15} {:>6}",
            "N", "with fingers", "½·log2 N", "successor only", "N/2"
        );
        let mut n = 8;
        while n <= self.o.max {
            let mut cfg = fast(160, Config::r_for(n));
            cfg.time_scale = Config::lab_time_scale(n);
            cfg.scale_with_ring = true;
            let ring = LocalRing::start(n, &cfg).map_err(|e| format!("step 5, N = {n}: {e}"))?;
            if !ring.wait_settled(true, SETTLE) {
                return Err(format!(
                    "step 5: expected the ring of {n} nodes to settle within {} s",
                    SETTLE.as_secs()
                ));
            }
            let lookups = |routing, count, rng: &mut Rng| {
                ring.mean_hops(count, routing, rng)
                    .map_err(|e| format!("step 5, N = {n}: every lookup should succeed: {e}"))
            };
            let with = lookups(Routing::Fingers, self.o.lookups, &mut self.rng)?;
            // Walking a larger ring node by node would outgrow `MAX_HOPS` on some lookups.
            let without = if n <= SUCCESSOR_ONLY_MAX {
                let count = self.o.lookups.min(200);
                lookups(Routing::SuccessorOnly, count, &mut self.rng)?
            } else {
                f64::NAN
            };
            println!(
                "   {n:>5} {with:>12.2} {:>9.2} {without:>15.2} {:>6}",
                (n as f64).log2() / 2.0,
                n / 2
            );
            self.row(
                format!("mean hops N={n} (fingers / successor only)"),
                format!("{with:.2} / {without:.2}"),
            );
            n *= 2;
        }
        Ok(())
    }
}
