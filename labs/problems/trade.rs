//! Step 1b: KaZaA's two ways for a leader to reach the other leaders' children (notes
//! 6.4, 组长与其它组长联系): forwarding queries (转发查询) or getting a copy of their
//! data (获得其他组长的数据拷贝), or both. The same workload as step 1, on leaders in
//! each mode; the table puts what a search costs beside what a join and a leave cost.

use crate::report::{num, pct};
use p2plab::kazaa::locate::Groups;
use p2plab::kazaa::Mode;
use p2plab::locate::measure::{self, Column, MeasureConfig};
use p2plab::locate::workload::Workload;
use p2plab::locate::Design;
use p2plab::report::Table;
use std::time::Instant;

/// The modes, in the table's order.
const MODES: [Mode; 3] = [Mode::Forward, Mode::Copy, Mode::Both];

/// Runs the workload on leaders in every mode (reusing step 1's forwarding column when
/// there is one) and prints the trade.
pub fn run(
    w: &Workload,
    peers: usize,
    forward: Option<&Column>,
) -> Result<Vec<(Mode, Column)>, String> {
    println!(
        "\n== 1b. KaZaA's leaders reach each other's children: forward queries, copy indexes, or both ({} leaders)",
        (peers / 16).max(2)
    );
    // The special node's kill is step 1's; here only searching and churn are compared.
    let cfg = MeasureConfig {
        kill: false,
        ..MeasureConfig::default()
    };
    let mut cols = Vec::new();
    for mode in MODES {
        if let (Mode::Forward, Some(c)) = (mode, forward) {
            cols.push((mode, c.clone()));
            continue;
        }
        let t = Instant::now();
        let mut d = Groups::with_mode(peers, mode).map_err(|e| format!("kazaa {mode}: {e}"))?;
        let col = measure::run(&mut d, w, &cfg);
        d.stop();
        let col = col?;
        println!("   {mode:<8} {:.1} s", t.elapsed().as_secs_f64());
        cols.push((mode, col));
    }
    table(&cols);
    Ok(cols)
}

fn table(cols: &[(Mode, Column)]) {
    let mut t = Table::new(&[
        "mode",
        "searches found",
        "msgs / search",
        "msgs / join",
        "msgs / leave",
        "join: s until findable",
        "leave: s until gone",
    ]);
    for (mode, c) in cols {
        t.row(&[
            mode,
            &pct(c.success_rate()),
            &num(c.msgs_per_search.get(), 1),
            &num(c.join_msgs.get(), 1),
            &num(c.leave_msgs.get(), 1),
            &num(c.join_secs.get(), 3),
            &num(c.leave_secs.get(), 3),
        ]);
    }
    t.print();
}
