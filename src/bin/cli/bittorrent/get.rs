//! `p2plab bt get SOURCE`: a `.torrent` file, an `http://…/x.torrent` URL, or a magnet
//! link (whose metadata comes from peers first, `source.rs`).

use super::super::common::{parse, run_until_stopped};
use super::client::{client_config, client_opts, connect_peers};
use super::source::resolve;
use super::MIB;
use getopts::Options;
use p2plab::bittorrent::node::{download_paths, Client, Progress};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

pub fn bt_get(args: &[String]) -> Result<(), String> {
    let mut opts = Options::new();
    client_opts(&mut opts);
    opts.optopt("o", "output", "download folder (default .)", "DIR");
    opts.optflag("s", "seed", "keep seeding after the download completes");
    opts.optopt(
        "t",
        "timeout",
        "give up after this many seconds (default: never)",
        "SECS",
    );
    let brief = "Usage: p2plab bt get X.torrent|http://../X.torrent|magnet:?xt=urn:btih:.. [-o DIR] [--peer ADDR] [--seed]";
    let Some(m) = parse(&mut opts, args, brief)? else {
        return Ok(());
    };
    let [torrent] = &m.free[..] else {
        return Err(opts.usage(brief));
    };
    let mut cfg = client_config(&m)?;
    let peers = m
        .opt_strs("peer")
        .iter()
        .map(|p| p2plab::net::parse_addr(p).map_err(|e| format!("{p}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let meta = resolve(torrent, &mut cfg, &peers)?;
    let dir = m.opt_str("output").unwrap_or_else(|| ".".into());
    let paths = download_paths(&meta, Path::new(&dir));
    let timeout = match m.opt_str("timeout") {
        Some(t) => Some(Duration::from_secs(
            t.parse().map_err(|_| format!("bad timeout '{t}'"))?,
        )),
        None => None,
    };
    let started = Instant::now();
    let client =
        Client::start(meta, &paths, true, cfg).map_err(|e| format!("cannot start: {e}"))?;
    connect_peers(&client, &m)?;
    let tty = std::io::stdout().is_terminal();
    let first = client.progress();
    let mut last_print = Instant::now();
    let mut last_bytes = 0u64;
    loop {
        let done = client.wait_complete(Duration::from_millis(if tty { 200 } else { 1000 }));
        let p = client.progress();
        let rate = (p.downloaded - last_bytes) as f64 / last_print.elapsed().as_secs_f64() / MIB;
        (last_bytes, last_print) = (p.downloaded, Instant::now());
        print_progress(&p, rate, tty);
        if done {
            break;
        }
        if timeout.is_some_and(|t| started.elapsed() > t) {
            return Err(format!(
                "timed out with {} of {} pieces",
                p.pieces, p.total_pieces
            ));
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let got = client.progress().downloaded;
    println!(
        "done: {:.1} MiB in {secs:.2} s ({:.1} MiB/s), {} of {} pieces were already on disk, peak memory {} KiB (VmHWM)",
        got as f64 / MIB,
        got as f64 / MIB / secs,
        first.pieces,
        first.total_pieces,
        vm_hwm_kib().unwrap_or(0)
    );
    if m.opt_present("seed") {
        println!("seeding on {}", client.local_addr());
        run_until_stopped();
    }
    Ok(())
}

fn print_progress(p: &Progress, rate: f64, tty: bool) {
    let have = (p.total - p.left) as f64;
    let line = format!(
        "{:5.1}%  {:.1}/{:.1} MiB  {:7.1} MiB/s  peers {}  pieces {}/{}",
        100.0 * have / p.total as f64,
        have / MIB,
        p.total as f64 / MIB,
        rate,
        p.peers,
        p.pieces,
        p.total_pieces
    );
    if tty {
        let filled = (24.0 * have / p.total as f64) as usize;
        print!(
            "\r[{}{}] {line}   ",
            "#".repeat(filled),
            "-".repeat(24 - filled)
        );
        if p.complete {
            println!();
        }
        let _ = std::io::stdout().flush();
    } else {
        println!("{line}");
    }
}

/// Peak resident memory of this process (Linux `/proc/self/status`).
fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
