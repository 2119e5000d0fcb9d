//! bench-dht: lookups per second on a 128-node ring in one process, mean lookup hops
//! for N = 8 .. 256 beside Chord's ½·log2 N, and a scale table (N = 64, 256, 1,024 by
//! default; `--scale-max 4096` for the largest): build and settle time, hops, threads,
//! memory and files per node. Figures go to target/bench/dht.json and dht_scale.json.
//!
//! The `pool` column kept its name so that figures compare with the TCP version: it was
//! the idle TCP connections a node kept, it is now the idle private UDP sockets a node
//! keeps for its calls (`Config::pool`). A UDP call needs no handshake, so the two rows
//! should agree; when they did not, opening connections was the cost.

use getopts::Options;
use p2plab::dht::scale::{measure, sizes, ScaleRow, SCALE_MAX};
use p2plab::dht::{Config, LocalRing, Rng, Routing};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const SETTLE: Duration = Duration::from_secs(120);
/// Longest a ring of the scale table may take to settle (issue #16: 5 min for 4,096).
const SCALE_LIMIT: Duration = Duration::from_secs(600);

fn main() {
    // A ring of thousands takes minutes to settle: its progress is logged at info.
    env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or("warn,p2plab::dht::scale=info"),
    )
    .init();
    let mut opts = Options::new();
    opts.optopt("", "seed", "random seed (default 1)", "N");
    opts.optopt(
        "",
        "lookups",
        "lookups per ring for mean hops (default 2000)",
        "N",
    );
    opts.optopt("", "secs", "seconds of the lookups/s run (default 3)", "S");
    opts.optopt("", "threads", "threads issuing lookups (default 2)", "N");
    opts.optopt(
        "",
        "pool",
        "idle private sockets per node in the lookups/s run (default 32)",
        "N",
    );
    opts.optopt(
        "",
        "max",
        "largest ring in the hops table (default 256)",
        "N",
    );
    opts.optopt(
        "",
        "scale-max",
        "largest ring in the scale table (default 1024, at most 4096; 0 skips it)",
        "N",
    );
    let parsed = p2plab::opts::parse(
        &mut opts,
        std::env::args().skip(1),
        "Usage: bench-dht [options]",
    )
    .and_then(|m| {
        let Some(m) = m else { return Ok(None) };
        let num = |k: &str, d: usize| p2plab::opts::value(&m, k, d);
        Ok(Some((
            num("seed", 1)? as u64,
            num("lookups", 2000)?,
            num("secs", 3)? as u64,
            num("threads", 2)?.max(1),
            num("max", 256)?,
            num("pool", 32)?,
            num("scale-max", 1024)?,
        )))
    });
    let (seed, lookups, secs, threads, max, pool, scale_max) = match parsed {
        Ok(Some(v)) => v,
        Ok(None) => return,
        Err(e) => {
            eprintln!("bench-dht: {e}");
            std::process::exit(2)
        }
    };
    let mut rng = Rng::new(seed);
    let mut figures: Vec<(String, f64)> = Vec::new();

    println!("bench-dht: Chord on 127.0.0.1, m = 160, every node a real UDP socket\n");
    println!("mean lookup hops ({lookups} random lookups per ring, fingers settled)");
    println!(
        "{:>6} {:>10} {:>10} {:>10} {:>8}",
        "N", "settle s", "mean hops", "½·log2 N", "error"
    );
    let mut n = 8;
    while n <= max {
        let (ring, settle) = build(n, 8);
        let hops = ring
            .mean_hops(lookups, Routing::Fingers, &mut rng)
            .expect("lookups on a settled ring");
        let half = (n as f64).log2() / 2.0;
        let err = (hops - half) / half * 100.0;
        println!("{n:>6} {settle:>10.1} {hops:>10.2} {half:>10.2} {err:>+7.1}%");
        figures.push((format!("mean_hops_{n}"), hops));
        figures.push((format!("half_log2_{n}"), half));
        figures.push((format!("settle_s_{n}"), settle));
        drop(ring);
        n *= 2;
    }

    let n = 128.min(max);
    println!("\nlookups per second on a {n}-node ring ({threads} threads, {secs} s each)");
    println!(
        "{:>6} {:>10} {:>12} {:>10}",
        "pool", "lookups", "lookups/s", "mean hops"
    );
    for pool in [8, pool] {
        let (count, rate, mean) = measure_rate(n, pool, threads, secs, seed);
        println!("{pool:>6} {count:>10} {rate:>12.0} {mean:>10.2}");
        figures.push((format!("ring_{n}_pool_{pool}_lookups_per_s"), rate));
        figures.push((format!("ring_{n}_pool_{pool}_mean_hops"), mean));
    }
    figures.push(("threads".into(), threads as f64));
    match p2plab::report::write_bench_json("dht", &figures) {
        Ok(p) => println!("\nfigures written to {}", p.display()),
        Err(e) => eprintln!("cannot write the figures: {e}"),
    }
    if scale_max > 0 {
        scale(scale_max, lookups, seed);
    }
}

/// The scale table (issue #16): rings of 64, 256, 1,024 ... nodes, built and settled.
fn scale(max: usize, lookups: usize, seed: u64) {
    let max = p2plab::opts::clamp("bench-dht", "scale-max", max, 1, SCALE_MAX);
    println!("\nscale: build, settle, hops and cost per node ({lookups} lookups per ring)");
    println!("{}", ScaleRow::HEADER);
    let rows = p2plab::scale::run_sizes(
        &sizes(64, max),
        |n| measure(n, lookups, seed, SCALE_LIMIT),
        |row| println!("{}", row.line()),
    );
    // A ring that does not settle is a finding to report, not a crash of the bench.
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => {
            println!("{e}");
            return;
        }
    };
    p2plab::scale::print_growth(&rows);
    // The figures every scale section shares (run time = build + settle, cost per node,
    // growth N -> 4N), then the ring's own under the same `scale_n{N}_` prefix.
    let mut figures = p2plab::scale::figures(&rows);
    for row in &rows {
        let n = row.n;
        figures.push((format!("scale_n{n}_build_s"), row.build_s));
        figures.push((format!("scale_n{n}_settle_s"), row.settle_s));
        figures.push((format!("scale_n{n}_mean_hops"), row.mean_hops));
        figures.push((format!("scale_n{n}_half_log2"), row.half_log2));
        figures.push((format!("scale_n{n}_load1"), row.load1));
    }
    match p2plab::report::write_bench_json("dht_scale", &figures) {
        Ok(p) => println!("\nfigures written to {}", p.display()),
        Err(e) => eprintln!("cannot write the figures: {e}"),
    }
}

/// Lookups from random nodes for random ids, from `threads` threads for `secs` seconds:
/// (lookups, lookups per second, mean hops).
fn measure_rate(n: usize, pool: usize, threads: usize, secs: u64, seed: u64) -> (usize, f64, f64) {
    let (ring, _) = build(n, pool);
    let done = AtomicUsize::new(0);
    let hops = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let t0 = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let (ring, done, hops, stop) = (&ring, &done, &hops, &stop);
            let mut rng = Rng::new(seed + 100 + t as u64);
            s.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let node = &ring.nodes[rng.below(ring.nodes.len())];
                    let id = node.key_id(&rng.next_u64().to_be_bytes());
                    let l = node.lookup(&id).expect("lookup on a settled ring");
                    hops.fetch_add(l.hops(), Ordering::Relaxed);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        std::thread::sleep(Duration::from_secs(secs));
        stop.store(true, Ordering::Relaxed);
    });
    let count = done.load(Ordering::Relaxed);
    let rate = count as f64 / t0.elapsed().as_secs_f64();
    let mean = hops.load(Ordering::Relaxed) as f64 / count.max(1) as f64;
    (count, rate, mean)
}

/// A settled ring of `n` nodes (fingers included), and the seconds that took. Bigger
/// rings get slower maintenance (`Config::lab_time_scale`) so that their periodic
/// traffic leaves the CPU to the lookups being measured.
fn build(n: usize, pool: usize) -> (LocalRing, f64) {
    let mut cfg = Config::new(160);
    cfg.pool = pool;
    cfg.r = Config::r_for(n);
    cfg.time_scale = Config::lab_time_scale(n);
    cfg.scale_with_ring = true;
    let t = Instant::now();
    let ring = LocalRing::start(n, &cfg).expect("start ring");
    assert!(
        ring.wait_settled(true, SETTLE),
        "ring of {n} did not settle"
    );
    (ring, t.elapsed().as_secs_f64())
}
