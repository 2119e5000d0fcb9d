//! The lab's last words: every peer's times, bytes and share ratio, and what the
//! swarm measured against the 6.2 bound.

use crate::view::View;
use p2plab::bittorrent::swarm::{Role, SwarmReport};
use p2plab::report::Table;

/// Bytes in a MiB, for the table's columns.
pub const MIB: f64 = (1 << 20) as f64;

pub fn summary(r: &SwarmReport, view: &View) {
    println!("\nPieces picked, by reason: {:?}", view.pick_counts);
    let mut t = Table::new(&[
        "peer",
        "role",
        "joined s",
        "done s",
        "up MiB",
        "down MiB",
        "share ratio",
        "SHA-1",
    ]);
    t.row(&[
        &"seed",
        &"seed",
        &"0.0",
        &"-",
        &format!("{:.1}", r.seed_uploaded as f64 / MIB),
        &"0.0",
        &"-",
        &"-",
    ]);
    for p in &r.peers {
        let done = match (p.completed, p.killed) {
            (_, true) => "killed".to_string(),
            (Some(d), _) => format!("{:.1}", d.as_secs_f64()),
            (None, _) => "never".into(),
        };
        let ratio = if p.downloaded > 0 {
            format!("{:.2}", p.uploaded as f64 / p.downloaded as f64)
        } else {
            "-".into()
        };
        let role = match p.role {
            Role::Leecher => "peer",
            Role::FreeRider => "free-rider",
            Role::Corrupt => "corrupt",
        };
        let sha = match p.sha1_ok {
            Some(true) => "ok",
            Some(false) => "WRONG",
            None => "-",
        };
        t.row(&[
            &p.name,
            &role,
            &format!("{:.1}", p.joined.as_secs_f64()),
            &done,
            &format!("{:.1}", p.uploaded as f64 / MIB),
            &format!("{:.1}", p.downloaded as f64 / MIB),
            &ratio,
            &sha,
        ]);
    }
    t.print();
    let d = r.distribution_time.map(|d| d.as_secs_f64());
    println!();
    let mut s = Table::new(&["figure", "seconds"]);
    s.row(&[
        &"distribution time (last surviving peer done)",
        &d.map_or("never".into(), |d| format!("{d:.1}")),
    ]);
    s.row(&[
        &format!(
            "P2P lower bound max{{F/us, F/dmin, NF/(us+Σui)}} ({})",
            r.bound.binding
        ),
        &format!("{:.1}", r.bound.seconds),
    ]);
    s.row(&[
        &"measured / bound",
        &d.map_or("-".into(), |d| format!("{:.2}", d / r.bound.seconds)),
    ]);
    s.print();
    println!(
        "every completed copy has the seed's SHA-1: {}",
        if r.all_verified { "yes" } else { "NO" }
    );
}
