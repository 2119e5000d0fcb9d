//! `bench-kazaa`: queries per second through 4 group leaders with 40 nodes, and what
//! each query costs in messages. Prints a table and writes `target/bench/kazaa.json`.

#[path = "../kazaa/catalog.rs"]
mod catalog;
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
    o.optflag("h", "help", "print this help");
    let m = o
        .parse(std::env::args().skip(1))
        .map_err(|e| e.to_string())?;
    if m.opt_present("help") {
        println!("{}", o.usage("Usage: bench-kazaa [options]"));
        return Ok(None);
    }
    let num = |name: &str, d: usize| -> Result<usize, String> {
        m.opt_str(name).map_or(Ok(d), |v| {
            v.parse()
                .map_err(|_| format!("--{name}: '{v}' is not a number"))
        })
    };
    Ok(Some(Opts {
        queries: num("queries", 20_000)?.max(1),
        threads: num("threads", 8)?.clamp(1, 40),
        ttl: num("ttl", 2)?.min(7) as u8,
        seed: num("seed", 7)? as u64,
    }))
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    match options().and_then(|o| o.map_or(Ok(()), run)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-kazaa: {e}");
            ExitCode::FAILURE
        }
    }
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

    println!(
        "KaZaA hybrid: 4 leaders (full mesh), 40 nodes, ttl {}, {} queries",
        o.ttl,
        work.len()
    );
    println!("| measure                                   | value    |");
    println!("|-------------------------------------------|----------|");
    println!(
        "| queries/s, {:2} nodes asking at once        | {qps:8.0} |",
        o.threads
    );
    println!(
        "| queries/s, one at a time                  | {:8.0} |",
        seq.per_second
    );
    println!("| messages per query (Query + Hits)         | {msgs:8.2} |");
    println!("| leader-to-leader forwards per query       | {fwd:8.2} |");
    println!("| duplicates dropped per query              | {dups:8.2} |");
    println!(
        "| leaders touched per query                 | {:8.2} |",
        seq.touched
    );
    println!(
        "| hits per query                            | {:8.2} |",
        hits.load(Ordering::Relaxed) as f64 / q
    );

    let json = format!(
        "{{\"queries_per_s\": {qps:.1}, \"queries_per_s_sequential\": {:.1}, \"threads\": {}, \
         \"messages_per_query\": {msgs:.3}, \"forwards_per_query\": {fwd:.3}, \
         \"duplicates_per_query\": {dups:.3}, \"leaders_touched_per_query\": {:.3}, \
         \"leaders\": 4, \"nodes\": 40, \"ttl\": {}}}\n",
        seq.per_second, o.threads, seq.touched, o.ttl
    );
    std::fs::create_dir_all("target/bench").map_err(|e| e.to_string())?;
    std::fs::write("target/bench/kazaa.json", json).map_err(|e| e.to_string())?;
    println!("figures written to target/bench/kazaa.json");
    Ok(())
}
