//! `make bench` (gnutella): how many queries a 50-servent overlay floods per second,
//! and what the seen-table holds after 1,000,000 distinct descriptors; then the `scale`
//! section (issue #16): overlays of 250 and 1,000 servents flooding a TTL 1..7 sweep,
//! their messages against the flood bound, threads and memory per servent, and how the
//! run time grows from N to 4N (`labs/gnutella/scale.rs`).
//!
//! Prints a table and writes the same figures to `target/bench/gnutella.json`.

#[path = "../gnutella/scale.rs"]
mod scale;

use getopts::Options;
use p2plab::gnutella::overlay::random_regular;
use p2plab::gnutella::{new_guid, Config, Guid, Servent};
use p2plab::rng::Rng;
use p2plab::seen::{Seen, SEEN_CAPACITY, SEEN_LIFETIME};
use p2plab::share::Folder;
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Counts live heap bytes, so the seen-table's memory is measured, not estimated.
struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static A: Counting = Counting;

const DESCRIPTORS: u64 = 1_000_000;

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut o = Options::new();
    o.optopt("", "peers", "servents (default 50)", "N");
    o.optopt(
        "",
        "queries",
        "queries flooded with dedup (default 2000)",
        "Q",
    );
    o.optopt("", "seed", "overlay seed (default 1)", "S");
    o.optopt(
        "",
        "scale-max",
        "largest overlay of the scale section, N/4 and N (default 1000; 0 skips it)",
        "N",
    );
    let parsed =
        p2plab::opts::parse(&mut o, args, "Usage: bench-gnutella [options]").and_then(|m| {
            let Some(m) = m else { return Ok(None) };
            Ok(Some((
                p2plab::opts::value(&m, "peers", 50usize)?.max(2),
                p2plab::opts::value(&m, "queries", 2000usize)?,
                p2plab::opts::value(&m, "seed", 1u64)?,
                p2plab::opts::value(&m, "scale-max", 1000usize)?.min(1000),
            )))
        });
    let (n, q, seed, scale_max) = match parsed {
        Ok(Some(v)) => v,
        Ok(None) => return,
        Err(e) => {
            eprintln!("bench-gnutella: {e}");
            std::process::exit(2)
        }
    };

    let mut fig: Vec<(String, f64)> = vec![
        ("servents".into(), n as f64),
        ("degree".into(), 4.0),
        ("ttl".into(), 7.0),
    ];
    println!("== flooding through {n} servents, degree 4, TTL 7");
    println!(
        "   {:<14} {:>8} {:>10} {:>12} {:>14} {:>8}",
        "dedup", "queries", "seconds", "queries/s", "messages/s", "hits"
    );
    // Without dedup each query costs ~30x more messages: fewer queries keep the run short.
    for (dedup, count) in [(true, q), (false, q / 40)] {
        let r = flood(n, count.max(1), seed, dedup);
        println!(
            "   {:<14} {:>8} {:>10.2} {:>12.0} {:>14.0} {:>8}",
            if dedup { "on" } else { "off (mistake)" },
            r.queries,
            r.secs,
            r.queries as f64 / r.secs,
            r.messages as f64 / r.secs,
            r.hits
        );
        let suffix = if dedup { "" } else { "_no_dedup" };
        fig.push((
            format!("queries_per_s{suffix}"),
            (r.queries as f64 / r.secs).round(),
        ));
        fig.push((
            format!("messages_per_s{suffix}"),
            (r.messages as f64 / r.secs).round(),
        ));
        fig.push((
            format!("messages_per_query{suffix}"),
            (r.messages as f64 / r.queries as f64).round(),
        ));
    }

    println!("\n== seen-table after {DESCRIPTORS} distinct descriptors");
    println!("   {:<34} {:>10} {:>12}", "table", "entries", "heap bytes");
    let (entries, bytes) = fill_bounded();
    println!(
        "   {:<34} {:>10} {:>12}",
        format!("Seen (capacity {SEEN_CAPACITY})"),
        entries,
        bytes
    );
    let (u_entries, u_bytes) = fill_unbounded();
    println!(
        "   {:<34} {:>10} {:>12}",
        "HashMap, never expiring (mistake)", u_entries, u_bytes
    );
    fig.push(("seen_entries_after_1m".into(), entries as f64));
    fig.push(("seen_bytes_after_1m".into(), bytes as f64));
    fig.push(("seen_capacity".into(), SEEN_CAPACITY as f64));
    fig.push(("unbounded_bytes_after_1m".into(), u_bytes as f64));

    if scale_max >= 8 {
        scale_section(scale_max, seed, &mut fig);
    }

    match p2plab::report::write_bench_json("gnutella", &fig) {
        Ok(p) => println!("\nwrote {}", p.display()),
        Err(e) => eprintln!("cannot write the figures: {e}"),
    }
}

/// Overlays of `max` and `max`/4 servents (the larger first, see `scale::sizes`).
fn scale_section(max: usize, seed: u64, fig: &mut Vec<(String, f64)>) {
    const TTL: u8 = 7;
    println!(
        "\n== scale: overlays of {} and {max} servents, degree 4, TTL 1..{TTL} from #0",
        max / 4
    );
    let measured =
        p2plab::scale::run_sizes(&[max, max / 4], |n| scale::measure(n, 4, TTL, seed), |_| ());
    let rows = match measured {
        Ok(rows) => rows,
        Err(e) => return eprintln!("scale: {e}"),
    };
    scale::table(&rows, TTL).print();
    p2plab::scale::print_growth(&rows);
    fig.extend(p2plab::scale::figures(&rows));
    for r in &rows {
        let (n, (_, reached, msgs, dups)) = (r.n, r.last());
        fig.push((format!("scale_n{n}_build_s"), r.build_s));
        fig.push((format!("scale_n{n}_sweep_s"), r.sweep_s));
        fig.push((format!("scale_n{n}_reached_ttl7"), reached as f64));
        fig.push((format!("scale_n{n}_messages_ttl7"), msgs as f64));
        fig.push((format!("scale_n{n}_duplicates_ttl7"), dups as f64));
        if let Some(k) = r.stack_kib {
            fig.push((format!("scale_n{n}_stack_kib_deepest"), k as f64));
        }
    }
    fig.push((
        "scale_flood_bound_ttl7".into(),
        p2plab::gnutella::policy::flood_bound(4, TTL as u32) as f64,
    ));
}

struct Run {
    queries: usize,
    secs: f64,
    messages: u64,
    hits: usize,
}

/// Floods `q` queries (TTL 7, from random servents, in waves) and waits until every
/// message sent has been received. Completion is read from the servents' counters,
/// so no trace events slow the servents down.
fn flood(n: usize, q: usize, seed: u64, dedup: bool) -> Run {
    let dir = std::env::temp_dir().join(format!(
        "p2plab-bench-gnutella-{}-{dedup}",
        std::process::id()
    ));
    let servents: Vec<Servent> = (0..n)
        .map(|i| {
            let share = dir.join(format!("s{i}"));
            std::fs::create_dir_all(&share).expect("temp dir");
            std::fs::write(share.join(format!("track {}.mp3", i % 10)), [i as u8; 1024])
                .expect("file");
            let mut cfg = Config::new(Arc::new(Folder::scan(&share).expect("scan")));
            cfg.degree = 0;
            cfg.dedup = dedup;
            cfg.seed = seed + i as u64;
            Servent::start(cfg).expect("servent")
        })
        .collect();
    for (a, b) in random_regular(n, 4, seed) {
        servents[a].connect(servents[b].addr()).expect("connect");
    }
    let mut rng = Rng::new(seed);
    let totals = |s: &[Servent]| {
        s.iter()
            .map(|x| x.stats())
            .fold((0, 0), |acc, st| (acc.0 + st.sent, acc.1 + st.received))
    };
    let base = totals(&servents);
    let t0 = Instant::now();
    let wave = 100;
    let mut sent = 0;
    while sent < q {
        for _ in 0..wave.min(q - sent) {
            servents[rng.below(n)].query(&format!("track {}", rng.below(20)), 7);
            sent += 1;
        }
        // Quiet: everything sent has arrived, twice in a row.
        let mut last = (u64::MAX, 0);
        let end = Instant::now() + Duration::from_secs(60);
        loop {
            let t = totals(&servents);
            if t.0 == t.1 && t == last || Instant::now() > end {
                break;
            }
            last = t;
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let end = totals(&servents);
    let hits = servents.iter().map(|s| s.hits().try_iter().count()).sum();
    drop(servents);
    let _ = std::fs::remove_dir_all(&dir);
    Run {
        queries: q,
        secs,
        messages: end.1 - base.1,
        hits,
    }
}

fn guid_of(i: u64) -> Guid {
    new_guid(&mut Rng::new(i))
}

fn fill_bounded() -> (usize, isize) {
    let before = LIVE.load(Ordering::SeqCst);
    let now = Instant::now();
    let mut seen: Seen<(Guid, u8), u64> = Seen::new(SEEN_CAPACITY, SEEN_LIFETIME, now);
    for i in 0..DESCRIPTORS {
        seen.insert_if_new((guid_of(i), 0x80), i % 5, now);
    }
    (seen.len(), LIVE.load(Ordering::SeqCst) - before)
}

fn fill_unbounded() -> (usize, isize) {
    let before = LIVE.load(Ordering::SeqCst);
    let mut all: HashMap<(Guid, u8), u64> = HashMap::new();
    for i in 0..DESCRIPTORS {
        all.insert((guid_of(i), 0x80), i % 5);
    }
    (all.len(), LIVE.load(Ordering::SeqCst) - before)
}
