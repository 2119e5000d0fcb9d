//! Step 1b: KaZaA's two ways for a leader to reach the other leaders' children (notes
//! 6.4, 组长与其它组长联系): forwarding queries (转发查询) or getting a copy of their
//! data (获得其他组长的数据拷贝), or both. The same workload as step 1, on leaders in
//! each mode; the table puts what a search costs beside what a join and a leave cost.
//!
//! Two kinds of count: every message on every socket while a search or a join ran, minus
//! upkeep (as in step 1: the keep-alive pings are counted apart), and the leaders' own
//! counters, which see only what goes between leaders (`LeaderStats`): forwarded Query
//! frames and their Hits per search, Copy/Uncopy frames per join, leave or crash.

use crate::report::{num, pct};
use p2plab::kazaa::locate::Groups;
use p2plab::kazaa::{LeaderStats, Mode};
use p2plab::locate::measure::{self, Column, MeasureConfig};
use p2plab::locate::workload::{Step, Workload};
use p2plab::locate::Design;
use p2plab::report::Table;
use std::time::{Duration, Instant};

/// The modes, in the table's order.
const MODES: [Mode; 3] = [Mode::Forward, Mode::Copy, Mode::Both];

/// One mode's run: the measured column and what went between leaders.
pub struct Trade {
    pub mode: Mode,
    pub col: Column,
    /// Query + Hits frames between leaders per query a child asked.
    pub leader_msgs_per_search: f64,
    /// Copy + Uncopy frames between leaders per join, leave or crash.
    pub leader_msgs_per_churn: f64,
}

/// Runs the workload on leaders in every mode and prints the trade.
pub fn run(w: &Workload, peers: usize) -> Result<Vec<Trade>, String> {
    println!(
        "\n== 1b. KaZaA's leaders reach each other's children: forward queries, copy indexes, or both ({} leaders)",
        (peers / 16).max(2)
    );
    // The special node's kill is step 1's; here only searching and churn are compared.
    let cfg = MeasureConfig {
        kill: false,
        idle: Duration::ZERO, // step 1 has the upkeep figure
        ..MeasureConfig::default()
    };
    let churn = w.initial.len()
        + (w.steps.iter())
            .filter(|s| !matches!(s, Step::Search { .. }))
            .count();
    let mut out = Vec::new();
    for mode in MODES {
        let t = Instant::now();
        let mut d = Groups::with_mode(peers, mode).map_err(|e| format!("kazaa {mode}: {e}"))?;
        let col = measure::run(&mut d, w, &cfg);
        let s = LeaderStats::sum(&d.leader_stats());
        d.stop();
        let col = col?;
        println!("   {mode:<8} {:.1} s", t.elapsed().as_secs_f64());
        // A leader receives every Query frame: from children, and forwarded ones.
        let asked = s.queries_in.saturating_sub(s.forwarded).max(1);
        out.push(Trade {
            mode,
            col,
            leader_msgs_per_search: 2.0 * s.forwarded as f64 / asked as f64,
            leader_msgs_per_churn: s.copies_out as f64 / churn.max(1) as f64,
        });
    }
    table(&out);
    Ok(out)
}

fn table(rows: &[Trade]) {
    let mut t = Table::new(&[
        "mode",
        "found",
        "msgs / search",
        "msgs / join",
        "msgs / leave",
        "leader↔leader / search",
        "leader↔leader / join|leave|crash",
        "join: s to findable",
        "leave: s to gone",
    ]);
    for r in rows {
        let c = &r.col;
        t.row(&[
            &r.mode,
            &pct(c.success_rate()),
            &num(c.msgs_per_search.get(), 1),
            &num(c.join_msgs.get(), 1),
            &num(c.leave_msgs.get(), 1),
            &num(r.leader_msgs_per_search, 2),
            &num(r.leader_msgs_per_churn, 2),
            &num(c.join_secs.get(), 3),
            &num(c.leave_secs.get(), 3),
        ]);
    }
    t.print();
}
