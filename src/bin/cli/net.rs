//! `p2plab net up|down`: a testnet of shaped hosts for one-node-per-terminal use.
//!
//! `up` makes the hosts, prints how to run a node on each (`ip netns exec …`), and keeps
//! them until `quit`, Ctrl-D or Ctrl-C; `down` removes what a crashed run left behind.

use super::common::{parse, wait_for_quit};
use getopts::Options;
use p2plab::opts::value;
use p2plab::testnet::{cleanup_on_interrupt, remove_stale, HostSpec, Rate, Testnet, MAX_HOSTS};

/// Mbit/s from the command line; 0 means "not shaped".
fn rate(mbit: f64) -> Option<Rate> {
    (mbit > 0.0).then_some(Rate {
        bits_per_s: (mbit * 1e6) as u64,
    })
}

pub fn net_up(args: &[String]) -> Result<(), String> {
    let mut opts = Options::new();
    opts.optopt("n", "hosts", "hosts to make (default 4)", "N");
    opts.optopt(
        "",
        "up",
        "each host's upload u_i in Mbit/s, 0 = unshaped (default 8)",
        "MBIT",
    );
    opts.optopt(
        "",
        "down",
        "each host's download d_i in Mbit/s, 0 = unshaped (default 0)",
        "MBIT",
    );
    opts.optopt(
        "",
        "server-up",
        "host 0's upload u_s in Mbit/s (default: --up)",
        "MBIT",
    );
    let brief =
        "Usage: p2plab net up [--hosts N] [--up MBIT] [--down MBIT] [--server-up MBIT]   (as root)";
    let Some(m) = parse(&mut opts, args, brief)? else {
        return Ok(());
    };
    let hosts: usize = value(&m, "hosts", 4)?;
    if hosts == 0 || hosts > MAX_HOSTS {
        return Err(format!("--hosts: between 1 and {MAX_HOSTS}"));
    }
    let spec = HostSpec {
        up: rate(value(&m, "up", 8.0)?),
        down: rate(value(&m, "down", 0.0)?),
    };
    let mut specs = vec![spec; hosts];
    if m.opt_present("server-up") {
        specs[0].up = rate(value(&m, "server-up", 0.0)?);
    }
    cleanup_on_interrupt();
    let net = Testnet::create(&specs).map_err(|e| e.to_string())?;
    println!("{hosts} hosts on one switch; nothing in them reaches any other network:");
    for h in net.hosts() {
        println!(
            "  host {:>3}  {:<15}  up {:>10}  down {:>10}   ip netns exec {} p2plab …",
            h.index,
            h.addr,
            show(h.spec.up),
            show(h.spec.down),
            h.netns
        );
    }
    println!("type 'quit' (or Ctrl-D, or Ctrl-C) to delete the hosts");
    wait_for_quit();
    drop(net);
    println!("hosts deleted");
    Ok(())
}

pub fn net_down(args: &[String]) -> Result<(), String> {
    let mut opts = Options::new();
    let brief = "Usage: p2plab net down   (removes hosts left by a run that crashed)";
    if parse(&mut opts, args, brief)?.is_none() {
        return Ok(());
    }
    let n = remove_stale().map_err(|e| e.to_string())?;
    println!("removed {n} namespaces left behind");
    Ok(())
}

fn show(r: Option<Rate>) -> String {
    match r {
        Some(r) => format!("{:.1} Mbit/s", r.bits_per_s as f64 / 1e6),
        None => "unshaped".into(),
    }
}
