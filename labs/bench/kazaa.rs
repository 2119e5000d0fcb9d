//! `bench-kazaa`: queries per second through 4 group leaders with 40 nodes, and what
//! each query costs in messages. Prints a table and writes `target/bench/kazaa.json`.
//! The `scale` section (issue #16): 250 and 1,000 nodes under 8 and 32 leaders, per
//! query and per node, and the run time from N to 4N (`labs/kazaa/scale.rs`).

#[path = "../kazaa/catalog.rs"]
mod catalog;
#[path = "../kazaa/flood.rs"]
mod flood;
mod kazaa_hostile;
#[path = "../kazaa/scale.rs"]
mod scale;
#[path = "../kazaa/world.rs"]
mod world;

use catalog::Rng;
use getopts::Options;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use world::{Setup, World};

struct Opts {
    queries: usize,
    threads: usize,
    ttl: u8,
    seed: u64,
}

fn options() -> Result<Option<Opts>, String> {
    let mut o = Options::new();
    o.optopt(
        "",
        "queries",
        "queries in the timed run (default 20000)",
        "N",
    );
    o.optopt(
        "",
        "threads",
        "nodes asking at the same time (default 8)",
        "N",
    );
    o.optopt("", "ttl", "leader-to-leader hops (default 2)", "N");
    o.optopt("", "seed", "seed (default 7)", "N");
    let Some(m) = p2plab::opts::parse(
        &mut o,
        std::env::args().skip(1),
        "Usage: bench-kazaa [options]",
    )?
    else {
        return Ok(None);
    };
    let num = |name: &str, d: usize| p2plab::opts::value(&m, name, d);
    Ok(Some(Opts {
        queries: num("queries", 20_000)?.max(1),
        threads: num("threads", 8)?.clamp(1, 40),
        ttl: num("ttl", 2)?.min(7) as u8,
        seed: num("seed", 7)? as u64,
    }))
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    p2plab::opts::finish("bench-kazaa", options().and_then(|o| o.map_or(Ok(()), run)))
}

fn run(o: Opts) -> Result<(), String> {
    let mut rng = Rng::new(o.seed);
    let songs = catalog::songs(60, &mut rng);
    let setup = Setup {
        leaders: 4,
        nodes: 40,
        files: 3,
        max_children: 0, // no promotion: the bench measures a fixed 4-leader system
        index_limit: 0,
        dedup: true,
        mode: p2plab::kazaa::Mode::Forward,
    };
    let w = World::build(&setup, &songs, &mut rng, "bench-kazaa")?;
    let work = world::queries(o.queries, w.nodes.len(), &songs, &mut rng);

    // One query at a time: the latency of the path child -> leaders -> child.
    let seq = world::workload(&w, &work[..work.len().min(2000)], o.ttl)?;

    // Several children asking at once: what the 4 leaders sustain.
    let before = w.stats();
    let next = AtomicUsize::new(0);
    let hits = AtomicUsize::new(0);
    let t = Instant::now();
    let failed = std::thread::scope(|s| {
        let handles: Vec<_> = (0..o.threads)
            .map(|k| {
                let (w, work, next, hits) = (&w, &work, &next, &hits);
                s.spawn(move || -> Result<(), String> {
                    // Thread k asks through node k, k + threads, ...: distinct children.
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((_, text)) = work.get(i) else {
                            return Ok(());
                        };
                        let n = &w.nodes[(k + i * o.threads) % w.nodes.len()];
                        let a = n.query(text, o.ttl).map_err(|e| e.to_string())?;
                        hits.fetch_add(a.hits.len(), Ordering::Relaxed);
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .find_map(|h| h.join().ok().and_then(Result::err))
    });
    if let Some(e) = failed {
        return Err(e);
    }
    let secs = t.elapsed().as_secs_f64();
    let after = w.stats();
    let q = work.len() as f64;
    let qps = q / secs;
    let msgs = (after.query_messages() - before.query_messages()) as f64 / q;
    let fwd = (after.forwarded - before.forwarded) as f64 / q;
    let dups = (after.duplicates - before.duplicates) as f64 / q;
    let hits = hits.load(Ordering::Relaxed) as f64 / q;

    // The same peers, files and queries on a Gnutella overlay: what flooding costs.
    let flooded = work.len().min(1000);
    let shares: Vec<_> = (0..w.nodes.len())
        .map(|i| w.dir.join(format!("node{i}")))
        .collect();
    let overlay = flood::build(&shares, setup.leaders, o.seed)?;
    let g = flood::workload(&overlay, &work[..flooded], flood::TTL)?;
    drop(overlay);

    println!(
        "KaZaA hybrid: 4 leaders (full mesh), 40 nodes, ttl {}, {} queries",
        o.ttl,
        work.len()
    );
    println!("| measure                                   | value    |");
    println!("|-------------------------------------------|----------|");
    let rows = [
        (
            format!("queries/s, {} nodes asking at once", o.threads),
            qps,
        ),
        ("queries/s, one at a time".into(), seq.per_second),
        ("messages per query (Query + Hits)".into(), msgs),
        ("leader-to-leader forwards per query".into(), fwd),
        ("duplicates dropped per query".into(), dups),
        ("leaders touched per query".into(), seq.touched),
        ("hits per query".into(), hits),
    ];
    for (name, v) in &rows {
        println!("| {name:<41} | {v:8.2} |");
    }
    println!(
        "\nThe first {flooded} queries, one at a time, on the same 44 peers and files;\n\
         Gnutella: a random overlay of degree {}, ttl {}",
        flood::DEGREE,
        flood::TTL
    );
    println!("| per query                  | KaZaA    | Gnutella | Gnutella/KaZaA |");
    println!("|----------------------------|----------|----------|----------------|");
    let kaz = world::workload(&w, &work[..flooded], o.ttl)?;
    for (name, k, gv) in [
        ("messages", kaz.messages, g.messages),
        ("peers touched", kaz.touched, g.touched),
        ("hits", kaz.hits, g.hits),
        ("queries per second", kaz.per_second, g.per_second),
    ] {
        println!(
            "| {name:<26} | {k:8.1} | {gv:8.1} | {:14.2} |",
            gv / k.max(1e-9)
        );
    }

    // Slow senders: 1,000 of them at a leader of 256 slots, then 10 fresh children.
    let attack = kazaa_hostile::slow_senders(1000, 256, 10)?;
    println!(
        "\n{} slow senders at a leader of 256 slots: {} still held; a fresh child's join + first answer took at most {:.1} ms",
        attack.attackers, attack.held, attack.fresh_ms
    );
    drop(w);
    let mut figures: Vec<(String, f64)> = scale_section(o.seed)?;
    figures.extend(
        [
            ("hostile_slow_senders", attack.attackers as f64),
            ("hostile_slow_senders_held", attack.held as f64),
            ("hostile_fresh_child_ms", attack.fresh_ms),
            ("queries_per_s", qps),
            ("threads", o.threads as f64),
            ("queries_per_s_sequential", seq.per_second),
            ("messages_per_query", msgs),
            ("forwards_per_query", fwd),
            ("duplicates_per_query", dups),
            ("leaders_touched_per_query", seq.touched),
            ("hits_per_query", hits),
            ("leaders", 4.0),
            ("nodes", 40.0),
            ("ttl", o.ttl as f64),
            ("compared_queries", flooded as f64),
            ("kazaa_messages_per_query_compared", kaz.messages),
            ("gnutella_messages_per_query", g.messages),
            ("gnutella_servents_touched_per_query", g.touched),
            ("gnutella_hits_per_query", g.hits),
            ("gnutella_queries_per_s_sequential", g.per_second),
            ("gnutella_ttl", flood::TTL as f64),
            ("gnutella_degree", flood::DEGREE as f64),
        ]
        .map(|(k, v)| (k.to_string(), v)),
    );
    let path = p2plab::report::write_bench_json("kazaa", &figures).map_err(|e| e.to_string())?;
    println!("figures written to {}", path.display());
    Ok(())
}

/// 250 nodes under 8 leaders and 1,000 under 32 (the larger first: `scale::sizes`).
fn scale_section(seed: u64) -> Result<Vec<(String, f64)>, String> {
    const QUERIES: usize = 200;
    println!("\n== scale: 250 and 1000 nodes, one leader per 31, {QUERIES} queries one at a time");
    let sizes: Vec<usize> = scale::sizes(scale::MAX_NODES)
        .into_iter()
        .filter(|n| [250, 1000].contains(n))
        .collect();
    let rows = p2plab::scale::run_sizes(&sizes, |n| scale::measure(n, QUERIES, seed), |_| ())?;
    scale::table(&rows).print();
    p2plab::scale::print_growth(&rows);
    let mut fig = p2plab::scale::figures(&rows);
    for r in &rows {
        let n = r.nodes;
        fig.push((format!("scale_n{n}_leaders"), r.leaders as f64));
        fig.push((format!("scale_n{n}_build_s"), r.build_s));
        fig.push((format!("scale_n{n}_messages_per_query"), r.m.messages));
        fig.push((format!("scale_n{n}_queries_per_s"), r.m.per_second));
    }
    Ok(fig)
}
