//! `make lab-kazaa`: the notes' hybrid (6.3 混合体) with 4 group leaders and 40 nodes.
//!
//! The story: nodes join and upload their lists; a query is answered across leaders; a
//! file is downloaded by its hash; a leader is killed and its children reattach; a
//! crowded leader promotes its most capable child; then a query workload is measured.
//! See labs/kazaa/README.md for what to look at and the exercises.

mod catalog;
mod flood;
mod world;

use catalog::Rng;
use getopts::Options;
use p2plab::share::ids;
use std::process::ExitCode;
use std::time::Instant;
use world::{wait_until, workload, Measure, Setup, World};

struct Opts {
    leaders: usize,
    nodes: usize,
    files: usize,
    songs: usize,
    ttl: u8,
    queries: usize,
    max_children: usize,
    index_limit: usize,
    dedup: bool,
    seed: u64,
    flood_ttl: u8,
    gnutella: bool,
}

fn options() -> Result<Option<Opts>, String> {
    let mut o = Options::new();
    o.optopt("", "leaders", "group leaders (default 4)", "N");
    o.optopt("", "nodes", "ordinary nodes (default 40)", "N");
    o.optopt("", "files", "files per node (default 3)", "N");
    o.optopt(
        "",
        "songs",
        "distinct songs in the collection (default 60)",
        "N",
    );
    o.optopt(
        "",
        "ttl",
        "leader-to-leader hops per query (default 2)",
        "N",
    );
    o.optopt(
        "",
        "queries",
        "queries in the measured workload (default 200)",
        "N",
    );
    o.optopt(
        "",
        "max-children",
        "children per leader before a promotion (default 12)",
        "N",
    );
    o.optopt(
        "",
        "index-limit",
        "files a leader's index holds (default 0: no limit)",
        "N",
    );
    o.optopt(
        "",
        "flood-ttl",
        "TTL of the same queries on the Gnutella overlay (default 7)",
        "N",
    );
    o.optflag(
        "",
        "no-gnutella",
        "skip the Gnutella side of the comparison",
    );
    o.optflag(
        "",
        "no-dedup",
        "leaders forward queries they have seen (the mistake)",
    );
    o.optopt(
        "",
        "seed",
        "seed for files, capacities and queries (default 7)",
        "N",
    );
    let Some(m) = p2plab::opts::parse(
        &mut o,
        std::env::args().skip(1),
        "Usage: lab-kazaa [options]",
    )?
    else {
        return Ok(None);
    };
    let num = |name: &str, d: usize| p2plab::opts::value(&m, name, d);
    Ok(Some(Opts {
        leaders: num("leaders", 4)?.max(1),
        nodes: num("nodes", 40)?.max(2),
        files: num("files", 3)?,
        songs: num("songs", 60)?.max(1),
        ttl: num("ttl", 2)?.min(7) as u8,
        queries: num("queries", 200)?,
        max_children: num("max-children", 12)?,
        index_limit: num("index-limit", 0)?,
        dedup: !m.opt_present("no-dedup"),
        flood_ttl: num("flood-ttl", flood::TTL as usize)?.min(7) as u8,
        gnutella: !m.opt_present("no-gnutella"),
        seed: num("seed", 7)? as u64,
    }))
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    p2plab::opts::finish("lab-kazaa", options().and_then(|o| o.map_or(Ok(()), run)))
}

fn run(o: Opts) -> Result<(), String> {
    let mut rng = Rng::new(o.seed);
    let songs = catalog::songs(o.songs, &mut rng);
    let e = |e: &dyn std::fmt::Display| e.to_string();
    let setup = Setup {
        leaders: o.leaders,
        nodes: o.nodes,
        files: o.files,
        max_children: o.max_children,
        index_limit: o.index_limit,
        dedup: o.dedup,
    };

    println!(
        "== 1. {} group leaders link to each other (组长对之间有TCP连接),",
        o.leaders
    );
    println!(
        "      then {} nodes join: one TCP connection each to a leader, then their lists",
        o.nodes
    );
    let t = Instant::now();
    let mut w = World::build(&setup, &songs, &mut rng, "lab-kazaa")?;
    println!(
        "   all joined and indexed in {:.0} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    for (i, l) in w.leaders.iter().enumerate() {
        let s = l.stats();
        println!(
            "   L{i} at {}: {} children, {} files in its index, {} leader links",
            l.local_addr(),
            s.children,
            s.files,
            s.links
        );
    }

    println!("\n== 2. a keyword query, answered across leaders (转发查询到其他组长)");
    let asker = &w.nodes[0];
    let text = catalog::query(&songs, &mut rng);
    let before = w.stats();
    let answer = asker.query(&text, o.ttl).map_err(|x| e(&x))?;
    let cost = w.stats().query_messages() - before.query_messages();
    let home = asker.leader().ok_or("node 0 has no leader")?;
    println!(
        "   node 0 (child of {}) asks {text:?} with ttl {}",
        w.name(home),
        o.ttl
    );
    println!(
        "   {} hits from {} leaders, {cost} messages (Query + Hits)",
        answer.hits.len(),
        answer.leaders
    );
    for h in answer.hits.iter().take(6) {
        println!(
            "     {}  {} bytes  urn:sha1:{}  at {}",
            h.name,
            h.size,
            ids::to_base32(&h.sha1),
            h.holder
        );
    }

    println!("\n== 3. download by hash: GET /uri-res/N2R?urn:sha1:... straight from the holder");
    let hit = answer
        .hits
        .first()
        .ok_or("the query found nothing; try another --seed")?;
    let out = w.dir.join("downloads");
    std::fs::create_dir_all(&out).map_err(|x| e(&x))?;
    let path = asker.download(hit, &out).map_err(|x| e(&x))?;
    let got = ids::sha1_file(&path).map_err(|x| e(&x))?;
    let verdict = if got == hit.sha1 {
        "matches the hash the leader gave"
    } else {
        "DOES NOT MATCH"
    };
    println!(
        "   {} from {}: SHA-1 {} {verdict}",
        hit.name,
        hit.holder,
        ids::to_hex(&got)
    );
    let urn = format!("urn:sha1:{}", ids::to_base32(&hit.sha1));
    let by_hash = asker.query(&urn, o.ttl).map_err(|x| e(&x))?;
    let mut names: Vec<&str> = by_hash.hits.iter().map(|h| h.name.as_str()).collect();
    names.sort();
    names.dedup();
    println!(
        "   the hash finds {} copies, named {names:?} (分布式命名)",
        by_hash.hits.len()
    );

    println!(
        "\n== 4. a workload: {} queries from random nodes, ttl {}",
        o.queries, o.ttl
    );
    let work = world::queries(o.queries, w.nodes.len(), &songs, &mut rng);
    let stable = workload(&w, &work, o.ttl)?;
    println!(
        "   {:.0} queries/s, {:.1} messages and {:.1} hits per query",
        stable.per_second, stable.messages, stable.hits
    );
    let stable_leaders = w.live_leaders();

    let victim = 1 % o.leaders;
    println!("\n== 5. leader L{victim} dies; its children reattach and upload their lists again;");
    println!(
        "      leaders with more than {} children promote their most capable child",
        o.max_children
    );
    let dead = w.leaders[victim].local_addr();
    let orphans: Vec<usize> = (0..w.nodes.len())
        .filter(|&i| w.nodes[i].leader() == Some(dead))
        .collect();
    let t = Instant::now();
    w.leaders[victim].kill();
    wait_until("the orphans to reattach", || {
        orphans
            .iter()
            .all(|&i| w.nodes[i].attaches() >= 2 && w.nodes[i].leader().is_some())
    })?;
    println!(
        "   {} orphans reattached in {:.0} ms",
        orphans.len(),
        t.elapsed().as_secs_f64() * 1000.0
    );
    let promoted = wait_until("a promotion", || w.nodes.iter().any(|n| n.led().is_some())).is_ok();
    // Let every moved child settle on its new leader before telling the story.
    wait_until("the moves", || w.nodes.iter().all(|n| n.leader().is_some()))?;
    for &i in &orphans {
        let path: Vec<String> = w.nodes[i]
            .history()
            .into_iter()
            .map(|a| w.name(a))
            .collect();
        println!(
            "     node {i} (capacity {} KiB/s): {}",
            capacity_of(&w, i),
            path.join(" -> ")
        );
    }
    if !promoted {
        println!(
            "   no leader went above --max-children {}: no promotion",
            o.max_children
        );
    }
    for (i, n) in w
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.led().is_some())
    {
        let kids = n.led_stats().map_or(0, |s| s.children);
        println!(
            "   node {i} ({} KiB/s) was promoted: leads P{i} with {kids} children",
            capacity_of(&w, i)
        );
    }
    let s = w.stats();
    println!(
        "   promotions: {}, children redirected to new leaders: {}",
        s.promotions, s.redirects
    );
    let again = w.nodes[0].query(&text, o.ttl).map_err(|x| e(&x))?;
    println!(
        "   {text:?} again: {} hits from {} leaders (before: {} from {})",
        again.hits.len(),
        again.leaders,
        answer.hits.len(),
        answer.leaders
    );

    println!("\n== 6. the same workload after the churn");
    let churned = workload(&w, &work, o.ttl)?;
    println!(
        "   {:.0} queries/s, {:.1} messages and {:.1} hits per query",
        churned.per_second, churned.messages, churned.hits
    );

    let peers = o.leaders + o.nodes;
    let gnutella = if o.gnutella {
        println!("\n== 7. the same workload on a Gnutella overlay of the same size (完全分布式)");
        println!(
            "   {peers} servents, degree {}, ttl {}: node i's folder is servent i's, the {} leaders' machines share nothing",
            flood::DEGREE, o.flood_ttl, o.leaders
        );
        let shares: Vec<_> = (0..o.nodes)
            .map(|i| w.dir.join(format!("node{i}")))
            .collect();
        let overlay = flood::build(&shares, o.leaders, o.seed)?;
        let m = flood::workload(&overlay, &work, o.flood_ttl)?;
        println!(
            "   {:.0} queries/s, {:.1} messages and {:.1} hits per query",
            m.per_second, m.messages, m.hits
        );
        Some(m)
    } else {
        None
    };

    println!(
        "\n   {peers} peers, {} queries (seed {}); KaZaA: {} leaders at first, ttl {}, dedup {}; Gnutella: degree {}, ttl {}",
        work.len(), o.seed, o.leaders, o.ttl, o.dedup, flood::DEGREE, o.flood_ttl
    );
    println!("   | measure                              | KaZaA    | KaZaA    | Gnutella |");
    println!("   |                                      | stable   | churned  |          |");
    println!("   |--------------------------------------|----------|----------|----------|");
    let g = |f: fn(&Measure) -> f64| {
        gnutella
            .as_ref()
            .map_or("-".to_string(), |m| format!("{:.1}", f(m)))
    };
    println!(
        "   | {:<36} | {stable_leaders:8} | {:8} | {:>8} |",
        "leaders (Gnutella: none)",
        w.live_leaders(),
        0
    );
    let rows: [Row; 6] = [
        ("messages per query (query + answers)", |m| m.messages),
        ("peers touched per query", |m| m.touched),
        ("duplicate queries per query", |m| m.duplicates),
        ("hits per query", |m| m.hits),
        ("% of queries with a hit", |m| m.found),
        ("queries per second (one at a time)", |m| m.per_second),
    ];
    for (name, f) in rows {
        println!(
            "   | {name:<36} | {:8.1} | {:8.1} | {:>8} |",
            f(&stable),
            f(&churned),
            g(f)
        );
    }
    println!(
        "   | {:<36} | {:>8} | {:8} | {:>8} |",
        "orphans reattached after the kill",
        "",
        orphans.len(),
        "-"
    );
    println!(
        "   peers touched: KaZaA counts the leaders that searched; its children never see a query."
    );
    println!("   hits: a KaZaA leader also lists the asker's own files; a Gnutella servent never answers itself.");
    Ok(())
}

/// A table row: its label and how to read it off a run.
type Row = (&'static str, fn(&Measure) -> f64);

fn capacity_of(w: &World, i: usize) -> u32 {
    w.nodes[i].capacity()
}
