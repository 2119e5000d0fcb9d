//! Step 5 (`--netns`): the same swarm with every peer on its own host (notes 6.2 on
//! real links). The tracker and the seed sit on host 0 and leecher i on host i of a
//! testnet (network namespaces on one bridge); u_s, u_i and d_i are set on the hosts'
//! links by the kernel (tbf), and no token bucket in our code limits anyone. The table
//! puts the bound, the token-bucket run of steps 1-4 and this run side by side.

use p2plab::bittorrent::swarm::{run_swarm_hosts, PeerSpec, Role, SwarmConfig, SwarmReport};
use p2plab::distribution::Bound;
use p2plab::report::Table;
use p2plab::testnet::{self, HostSpec, Rate, Testnet};

/// Runs the swarm of `cfg` on N + 1 hosts and prints the comparison with `tb`, the
/// token-bucket run. Where namespaces cannot be made (not root, no iproute2) it says
/// so in one line and returns: the lab has already told its story.
pub fn real_links(cfg: &SwarmConfig, bound: &Bound, tb: &SwarmReport) -> Result<(), String> {
    println!("\n5. Real links: the seed on host 0, leecher i on host i, rates shaped by the kernel (tbf), no token buckets.");
    if let Err(e) = testnet::available() {
        println!("   skipped: {e}");
        return Ok(());
    }
    let plain = |p: &&_| {
        matches!(
            p,
            PeerSpec {
                kill: None,
                role: Role::Leecher,
                ..
            }
        )
    };
    if cfg
        .peers
        .iter()
        .any(|p| !plain(&p) || !p.join_after.is_zero())
    {
        println!("   note: on real links every peer is an ordinary leecher present from the start (no churn, no free-riders)");
    }
    testnet::cleanup_on_interrupt();
    let rate = |r: Option<u64>| r.map(Rate::bytes_per_s);
    let mut specs = vec![HostSpec {
        up: rate(cfg.seed_upload),
        down: None,
    }];
    let n = cfg.peers.iter().filter(|p| p.join_after.is_zero()).count();
    specs.extend(cfg.peers.iter().take(n).map(|p| HostSpec {
        up: rate(p.upload),
        down: rate(p.download),
    }));
    let net = Testnet::create(&specs).map_err(|e| format!("cannot make {} hosts: {e}", n + 1))?;
    let mut real = cfg.clone();
    real.peers.truncate(n);
    real.work_dir = cfg.work_dir.join("real-links");
    let run = run_swarm_hosts(&net, &real).map_err(|e| format!("the swarm on real links: {e}"))?;
    drop(net); // every namespace goes before the table is printed
    if !run.all_verified {
        return Err(format!(
            "real links: expected all {n} leechers to finish within {} s with the seed's SHA-1; not so",
            real.timeout.as_secs()
        ));
    }
    let secs = |d: Option<std::time::Duration>| {
        d.map_or("-".into(), |d| format!("{:.2}", d.as_secs_f64()))
    };
    let ratio = |d: Option<std::time::Duration>| {
        d.map_or("-".into(), |d| {
            format!("{:.2}", d.as_secs_f64() / bound.seconds)
        })
    };
    let mut t = Table::new(&["run", "distribution time s", "÷ bound", "SHA-1"]);
    t.row(&[
        &"6.2 bound",
        &format!("{:.2}", bound.seconds),
        &"1.00",
        &"-",
    ]);
    t.row(&[
        &"token buckets (steps 1-4)",
        &secs(tb.distribution_time),
        &ratio(tb.distribution_time),
        &if tb.all_verified { "all ok" } else { "BAD" },
    ]);
    t.row(&[
        &format!("real links ({} hosts)", n + 1),
        &secs(run.distribution_time),
        &ratio(run.distribution_time),
        &"all ok",
    ]);
    println!();
    t.print();
    Ok(())
}
