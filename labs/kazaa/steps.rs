//! Steps 5 to 7 of the lab and the final table: a leader dies, the workload again,
//! the same workload on Gnutella.

use super::world::{wait_until, workload, Measure};
use super::{err, flood, Lab};
use std::time::Instant;

/// Peers the Gnutella side of step 7 runs beside the KaZaA network: both in one process,
/// a KaZaA node holds ~17 open files and a servent ~16 (`--scale` tables), under a
/// limit of 20,000 (`ulimit -n` on the lab machine).
const GNUTELLA_BESIDE_MAX: usize = 550;

/// A table row: its label and how to read it off a run.
type Row = (&'static str, fn(&Measure) -> f64);

impl Lab {
    /// Step 5: Leader L1 dies: its children reattach and upload their lists again; leaders
    /// with too many children promote their most capable child.
    pub fn kill_a_leader(&mut self) -> Result<(), String> {
        let (o, w) = (&self.o, &mut self.w);
        let victim = 1 % o.leaders;
        println!(
            "\n== 5. leader L{victim} dies; its children reattach and upload their lists again;"
        );
        println!(
            "      leaders with more than {} children promote their most capable child",
            o.max_children
        );
        let dead = w.leaders[victim].local_addr();
        let orphans: Vec<usize> = (0..w.nodes.len())
            .filter(|&i| w.nodes[i].leader() == Some(dead))
            .collect();
        let t = Instant::now();
        w.leaders[victim].kill();
        let w = &self.w;
        wait_until("the orphans to reattach", || {
            (orphans.iter()).all(|&i| w.nodes[i].attaches() >= 2 && w.nodes[i].leader().is_some())
        })?;
        println!(
            "   {} orphans reattached in {:.0} ms",
            orphans.len(),
            t.elapsed().as_secs_f64() * 1000.0
        );
        let promoted =
            wait_until("a promotion", || w.nodes.iter().any(|n| n.led().is_some())).is_ok();
        // Let every moved child settle on its new leader before telling the story.
        wait_until("the moves", || w.nodes.iter().all(|n| n.leader().is_some()))?;
        for &i in &orphans {
            let path: Vec<String> = w.nodes[i]
                .history()
                .into_iter()
                .map(|a| w.name(a))
                .collect();
            let capacity = w.nodes[i].capacity();
            println!(
                "     node {i} (capacity {capacity} KiB/s): {}",
                path.join(" -> ")
            );
        }
        if !promoted {
            println!(
                "   no leader went above --max-children {}: no promotion",
                o.max_children
            );
        }
        for (i, n) in w
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.led().is_some())
        {
            let kids = n.led_stats().map_or(0, |s| s.children);
            let capacity = n.capacity();
            println!(
                "   node {i} ({capacity} KiB/s) was promoted: leads P{i} with {kids} children"
            );
        }
        let s = w.stats();
        println!(
            "   promotions: {}, children redirected to new leaders: {}",
            s.promotions, s.redirects
        );
        let again = w.nodes[0].query(&self.text, o.ttl).map_err(err)?;
        let (before_hits, before_leaders) =
            (self.answer.as_ref()).map_or((0, 0), |a| (a.hits.len(), a.leaders));
        println!(
            "   {:?} again: {} hits from {} leaders (before: {before_hits} from {before_leaders})",
            self.text,
            again.hits.len(),
            again.leaders,
        );
        self.orphans = orphans.len();
        Ok(())
    }

    /// Step 6: The same workload after the churn.
    pub fn measure_after_churn(&mut self) -> Result<(), String> {
        println!("\n== 6. the same workload after the churn");
        self.churned = workload(&self.w, &self.work, self.o.ttl)?;
        let m = &self.churned;
        println!(
            "   {:.0} queries/s, {:.1} messages and {:.1} hits per query",
            m.per_second, m.messages, m.hits
        );
        Ok(())
    }

    /// Step 7: The same workload on a Gnutella overlay of the same size: node i's folder is
    /// servent i's; the leaders' machines share nothing.
    pub fn compare_with_gnutella(&mut self) -> Result<(), String> {
        let o = &self.o;
        if !o.gnutella {
            return Ok(());
        }
        let peers = o.leaders + o.nodes;
        println!("\n== 7. the same workload on a Gnutella overlay of the same size (完全分布式)");
        if peers > GNUTELLA_BESIDE_MAX {
            println!(
                "   skipped: {peers} peers; the overlay runs beside the KaZaA network, in the same process, up to {GNUTELLA_BESIDE_MAX} \
                 (together they would pass the 20,000 open files of `ulimit -n`); `make lab-gnutella ARGS='--scale'` floods 1,000"
            );
            return Ok(());
        }
        println!(
            "   {peers} servents, degree {}, ttl {}: node i's folder is servent i's, the {} leaders' machines share nothing",
            flood::DEGREE, o.flood_ttl, o.leaders
        );
        let shares: Vec<_> = (0..o.nodes)
            .map(|i| self.w.dir.join(format!("node{i}")))
            .collect();
        let overlay = flood::build(&shares, o.leaders, o.seed)?;
        let m = flood::workload(&overlay, &self.work, o.flood_ttl)?;
        println!(
            "   {:.0} queries/s, {:.1} messages and {:.1} hits per query",
            m.per_second, m.messages, m.hits
        );
        self.gnutella = Some(m);
        Ok(())
    }

    /// The three runs side by side.
    pub fn table(&self) {
        let (o, w) = (&self.o, &self.w);
        let (stable, churned) = (&self.stable, &self.churned);
        println!(
            "\n   {} peers, {} queries (seed {}); KaZaA: {} leaders at first, ttl {}, dedup {}, mode {}; Gnutella: degree {}, ttl {}",
            o.leaders + o.nodes, self.work.len(), o.seed, o.leaders, o.ttl, o.dedup, o.mode, flood::DEGREE, o.flood_ttl
        );
        println!("   | measure                              | KaZaA    | KaZaA    | Gnutella |");
        println!("   |                                      | stable   | churned  |          |");
        println!("   |--------------------------------------|----------|----------|----------|");
        let g = |f: fn(&Measure) -> f64| {
            (self.gnutella.as_ref()).map_or("-".to_string(), |m| format!("{:.1}", f(m)))
        };
        println!(
            "   | {:<36} | {:8} | {:8} | {:>8} |",
            "leaders (Gnutella: none)",
            self.stable_leaders,
            w.live_leaders(),
            0
        );
        let rows: [Row; 6] = [
            ("messages per query (query + answers)", |m| m.messages),
            ("peers touched per query", |m| m.touched),
            ("duplicate queries per query", |m| m.duplicates),
            ("hits per query", |m| m.hits),
            ("% of queries with a hit", |m| m.found),
            ("queries per second (one at a time)", |m| m.per_second),
        ];
        for (name, f) in rows {
            println!(
                "   | {name:<36} | {:8.1} | {:8.1} | {:>8} |",
                f(stable),
                f(churned),
                g(f)
            );
        }
        println!(
            "   | {:<36} | {:>8} | {:8} | {:>8} |",
            "orphans reattached after the kill", "", self.orphans, "-"
        );
        println!(
            "   peers touched: KaZaA counts the leaders that searched; its children never see a query."
        );
        println!("   hits: a KaZaA leader also lists the asker's own files; a Gnutella servent never answers itself.");
    }
}
