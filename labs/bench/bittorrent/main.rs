//! bench-bittorrent: one seeder → one leecher on loopback, ours against aria2c.
//!
//! A 256 MiB file in 256 KiB pieces, shared through our tracker. Our seeder runs in
//! this process; our leecher is a separate `p2plab bt get` process, so its peak memory
//! (VmHWM, which it reports from `/proc/self/status` as it exits) is its own. Then
//! aria2c seeds and aria2c leeches the same torrent. Each leecher is timed from spawn
//! to exit: start-up, announce, transfer, SHA-1 of every piece, and the last write.
//! Prints a table and writes `target/bench/bittorrent.json`. Issue target: ours ≥ 320 MiB/s.
//! Then the first-byte line (`first_byte.rs`): from a connection's first SYN to its first
//! piece byte, plaintext and encrypted, ours and aria2c's.

mod first_byte;
mod leecher;
mod scratch;

use getopts::Options;
use leecher::{check_copy, time_leecher, Killed, Run};
use p2plab::bittorrent::make::make_torrent;
use p2plab::bittorrent::node::{seed_paths, Client, ClientConfig};
use p2plab::bittorrent::tracker::{Tracker, TrackerConfig};
use p2plab::share::ids::sha1_file;
use scratch::{free_port, wait_until, write_file, Res};
use std::fs;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

const TARGET_MIB_S: f64 = 320.0;

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let mut opts = Options::new();
    opts.optopt("", "size", "file size in MiB (default 256)", "MIB");
    opts.optopt(
        "",
        "piece-length",
        "piece length in KiB (default 256)",
        "KIB",
    );
    opts.optopt(
        "",
        "runs",
        "runs of each pair; the median is reported (default 3)",
        "N",
    );
    opts.optopt(
        "",
        "dir",
        "scratch folder (default /dev/shm if present, so disks do not count)",
        "DIR",
    );
    opts.optflag("", "no-aria2", "only our pair");
    opts.optflag(
        "",
        "no-first-byte",
        "skip the first-byte line (it captures loopback with dumpcap)",
    );
    let m = match p2plab::opts::parse(
        &mut opts,
        std::env::args().skip(1),
        "Usage: bench-bittorrent [options]",
    ) {
        Ok(Some(m)) => m,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => return p2plab::opts::finish("bench-bittorrent", Err(e)),
    };
    let base = m.opt_str("dir").map(PathBuf::from).unwrap_or_else(|| {
        let shm = Path::new("/dev/shm");
        if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        }
    });
    let scratch = base.join(format!("p2plab-bench-bt-{}", std::process::id()));
    let result = (|| -> Res<()> {
        let num = |k: &str, d: u64| p2plab::opts::value(&m, k, d);
        run(
            &scratch,
            num("size", 256)?.max(1),
            num("piece-length", 256)?.max(16) * 1024,
            num("runs", 3)?.max(1) as usize,
            !m.opt_present("no-aria2"),
            !m.opt_present("no-first-byte"),
        )
    })();
    let _ = fs::remove_dir_all(&scratch);
    p2plab::opts::finish("bench-bittorrent", result)
}

fn run(
    dir: &Path,
    size_mib: u64,
    piece: u64,
    runs: usize,
    with_aria: bool,
    with_first_byte: bool,
) -> Res<()> {
    let data_dir = dir.join("data");
    fs::create_dir_all(&data_dir)?;
    let src = data_dir.join("bench.bin");
    write_file(&src, size_mib << 20)?;
    let mut tracker = Tracker::start("127.0.0.1:0", TrackerConfig::default())?;
    let meta = make_torrent(&src, piece, Some(tracker.announce_url()))?;
    let torrent = dir.join("bench.torrent");
    fs::write(&torrent, meta.to_bytes())?;
    let want = sha1_file(&src)?;
    println!(
        "bench-bittorrent: {size_mib} MiB, {} KiB pieces, one seeder -> one leecher on loopback, files in {}",
        piece / 1024,
        dir.display()
    );

    // Ours: the seeder here, the leecher a process of its own.
    let p2plab = std::env::current_exe()?.with_file_name("p2plab");
    let mut seeder = Client::start(
        meta.clone(),
        &seed_paths(&meta, &src),
        false,
        ClientConfig::default(),
    )?;
    wait_until(|| tracker.counts(&meta.info_hash).0 == 1)?;
    let mut ours = Vec::new();
    for i in 0..runs {
        let out = dir.join(format!("ours-{i}"));
        let mut cmd = Command::new(&p2plab);
        cmd.args(["bt", "get"])
            .arg(&torrent)
            .arg("-o")
            .arg(&out)
            .args(["--timeout", "170"]);
        let run = time_leecher(cmd, true)?;
        check_copy(&out.join("bench.bin"), &want)?;
        fs::remove_dir_all(&out)?;
        ours.push(run);
    }
    seeder.stop(); // announces `stopped`: aria2c will only find aria2c
    wait_until(|| tracker.counts(&meta.info_hash) == (0, 0))?;

    let mut aria = Vec::new();
    let have_aria = Command::new("aria2c")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok();
    if with_aria && !have_aria {
        println!("aria2c not found (apt-get install aria2): only our pair is measured");
    }
    if with_aria && have_aria {
        let seed_port = free_port()?;
        let mut seed = Command::new("aria2c");
        seed.args(aria_common())
            .arg(format!("--dir={}", data_dir.display()))
            .arg(format!("--listen-port={seed_port}"))
            .args(["--seed-ratio=0.0", "--bt-seed-unverified=true"])
            .arg(&torrent)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut seed = Killed(
            seed.spawn()
                .map_err(|e| format!("cannot run aria2c ({e}): apt-get install aria2"))?,
        );
        wait_until(|| tracker.counts(&meta.info_hash).0 == 1)?;
        for i in 0..runs {
            let out = dir.join(format!("aria-{i}"));
            let mut cmd = Command::new("aria2c");
            cmd.args(aria_common())
                .arg(format!("--dir={}", out.display()))
                .arg(format!("--listen-port={}", free_port()?))
                .args(["--seed-time=0"])
                .arg(&torrent);
            let run = time_leecher(cmd, false)?;
            check_copy(&out.join("bench.bin"), &want)?;
            fs::remove_dir_all(&out)?;
            aria.push(run);
        }
        let _ = seed.0.kill();
        let _ = seed.0.wait();
    }
    tracker.stop();
    let first = if with_first_byte {
        first_byte::measure(dir, &p2plab, with_aria && have_aria)?
    } else {
        Vec::new()
    };
    report(size_mib as f64, &ours, &aria, first)
}

fn report(mib: f64, ours: &[Run], aria: &[Run], first: Vec<(String, f64)>) -> Res<()> {
    let med = |runs: &[Run]| -> (f64, u64) {
        let mut s: Vec<f64> = runs.iter().map(|r| r.seconds).collect();
        s.sort_by(f64::total_cmp);
        let mem = runs.iter().map(|r| r.vmhwm_kib).max().unwrap_or(0);
        (s[s.len() / 2], mem)
    };
    println!(
        "| seeder -> leecher | runs | median s | MiB/s | best s | leecher peak memory (VmHWM) |"
    );
    println!("|---|---|---|---|---|---|");
    let mut figures = vec![("size_mib", mib)];
    let rate = |name: &str, key: &str, runs: &[Run], figures: &mut Vec<(String, f64)>| -> f64 {
        let (secs, mem) = med(runs);
        let best = runs.iter().map(|r| r.seconds).fold(f64::MAX, f64::min);
        println!(
            "| {name} | {} | {secs:.2} | {:.0} | {best:.2} | {:.1} MiB |",
            runs.len(),
            mib / secs,
            mem as f64 / 1024.0
        );
        figures.push((format!("{key}_seconds"), secs));
        figures.push((format!("{key}_mib_per_s"), mib / secs));
        figures.push((format!("{key}_leecher_vmhwm_kib"), mem as f64));
        mib / secs
    };
    let mut figs: Vec<(String, f64)> = figures.drain(..).map(|(k, v)| (k.to_string(), v)).collect();
    let ours_rate = rate("p2plab -> p2plab", "ours", ours, &mut figs);
    if !aria.is_empty() {
        let aria_rate = rate("aria2c -> aria2c", "aria2c", aria, &mut figs);
        println!("ratio (ours / aria2c, MiB/s): {:.2}", ours_rate / aria_rate);
        figs.push(("ratio".into(), ours_rate / aria_rate));
    }
    println!(
        "target: ours >= {TARGET_MIB_S} MiB/s: {}",
        if ours_rate >= TARGET_MIB_S {
            "met"
        } else {
            "NOT met"
        }
    );
    if !first.is_empty() {
        let cell = |who: &str, mode: &str| {
            let ms = |suffix: &str| {
                let key = format!("first_byte_{who}_{mode}_{suffix}");
                first.iter().find(|(k, _)| *k == key).map(|(_, ms)| *ms)
            };
            match (ms("ms"), ms("own_connection_ms")) {
                (Some(a), Some(b)) => format!("{a:.1} ms ({b:.1} ms)"),
                _ => "–".to_string(),
            }
        };
        println!("\nfrom the first SYN between the two to the first piece byte (in brackets: from the SYN of the connection that carried it)");
        println!("| seeder -> leecher | plaintext | encrypted (MSE) |");
        println!("|---|---|---|");
        for (who, name) in [
            ("ours", "p2plab -> p2plab"),
            ("aria2c", "aria2c -> aria2c"),
            ("ours_to_aria2c", "p2plab -> aria2c"),
        ] {
            if first
                .iter()
                .any(|(k, _)| k.starts_with(&format!("first_byte_{who}_p")))
            {
                println!(
                    "| {name} | {} | {} |",
                    cell(who, "plaintext"),
                    cell(who, "encrypted")
                );
            }
        }
        figs.extend(first);
    }
    let path = p2plab::report::write_bench_json("bittorrent", &figs)?;
    println!("figures written to {}", path.display());
    Ok(())
}

pub(crate) fn aria_common() -> Vec<&'static str> {
    vec![
        "--enable-dht=false",
        "--enable-dht6=false",
        "--bt-enable-lpd=false",
        "--enable-peer-exchange=false",
        "--disable-ipv6=true",
        "--file-allocation=none",
        "--summary-interval=0",
        "--console-log-level=warn",
    ]
}
