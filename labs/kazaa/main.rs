//! `make lab-kazaa`: the notes' hybrid (6.3 混合体) with 4 group leaders and 40 nodes.
//!
//! The story, one `Lab` method per step of the handout (labs/kazaa/README.md): (1)
//! leaders link and nodes join, (2) a query across leaders, (3) a download by hash, (4) a
//! workload, (5) a leader dies (reattach, promotion), (6) the workload again, (7) the
//! same workload on Gnutella; then the table. This file parses the options and tells
//! steps 1 to 4; `steps.rs` tells the rest.

mod catalog;
mod flood;
mod scale;
mod steps;
mod world;

use catalog::{Rng, Song};
use getopts::Options;
use p2plab::kazaa::{Mode, QueryAnswer};
use p2plab::share::ids;
use std::process::ExitCode;
use std::time::Instant;
use world::{workload, Measure, Setup, World};

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
    mode: Mode,
    seed: u64,
    flood_ttl: u8,
    gnutella: bool,
    scale: bool,
}

fn options() -> Result<Option<Opts>, String> {
    let mut o = Options::new();
    o.optopt("", "leaders", "group leaders (default 4, at most 64)", "N");
    o.optopt(
        "",
        "nodes",
        "ordinary nodes (default 40, at most 1000; with --scale the largest, default 1000)",
        "N",
    );
    o.optflag(
        "",
        "scale",
        "only the growth curve: 125, 250, 500, 1000 nodes under 4, 8, 16, 32 leaders (scale.rs)",
    );
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
        "mode",
        "leaders forward queries, copy each other's index, or both (default forward)",
        "forward|copy|both",
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
    let scale = m.opt_present("scale");
    let nodes = num("nodes", if scale { scale::MAX_NODES } else { 40 })?;
    Ok(Some(Opts {
        leaders: scale::clamp("leaders", num("leaders", 4)?, 1, scale::MAX_LEADERS),
        nodes: scale::clamp("nodes", nodes, 2, scale::MAX_NODES),
        files: num("files", 3)?,
        songs: num("songs", 60)?.max(1),
        ttl: num("ttl", 2)?.min(7) as u8,
        queries: num("queries", 200)?,
        max_children: num("max-children", 12)?,
        index_limit: num("index-limit", 0)?,
        dedup: !m.opt_present("no-dedup"),
        mode: m.opt_str("mode").map_or(Ok(Mode::Forward), |s| s.parse())?,
        flood_ttl: num("flood-ttl", flood::TTL as usize)?.min(7) as u8,
        gnutella: !m.opt_present("no-gnutella"),
        seed: num("seed", 7)? as u64,
        scale,
    }))
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    p2plab::opts::finish("lab-kazaa", options().and_then(|o| o.map_or(Ok(()), run)))
}

/// The steps in the handout's order; the first failure ends the lab with its reason.
fn run(o: Opts) -> Result<(), String> {
    if o.scale {
        let svg = std::path::Path::new("target/kazaa-scale.svg");
        return scale::run(o.nodes, o.queries, o.seed, svg);
    }
    let mut lab = Lab::build(o)?;
    lab.query_across_leaders()?;
    lab.download_by_hash()?;
    lab.measure_workload()?;
    lab.kill_a_leader()?;
    lab.measure_after_churn()?;
    lab.compare_with_gnutella()?;
    lab.table();
    Ok(())
}

/// The lab's network and what the steps measured, for the steps after them.
pub struct Lab {
    o: Opts,
    rng: Rng,
    songs: Vec<Song>,
    w: World,
    /// The workload of steps 4, 6 and 7: (asking node, query text).
    work: Vec<(usize, String)>,
    /// Step 2's query and its answer (asked again after the churn).
    text: String,
    answer: Option<QueryAnswer>,
    stable: Measure,
    stable_leaders: usize,
    orphans: usize,
    churned: Measure,
    gnutella: Option<Measure>,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl Lab {
    /// Step 1: Leaders link to each other, then the nodes join: one TCP connection each to a
    /// leader, then their lists.
    fn build(o: Opts) -> Result<Lab, String> {
        let mut rng = Rng::new(o.seed);
        let songs = catalog::songs(o.songs, &mut rng);
        let setup = Setup {
            leaders: o.leaders,
            nodes: o.nodes,
            files: o.files,
            max_children: o.max_children,
            index_limit: o.index_limit,
            dedup: o.dedup,
            mode: o.mode,
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
        let w = World::build(&setup, &songs, &mut rng, "lab-kazaa")?;
        println!(
            "   all joined and indexed in {:.0} ms",
            t.elapsed().as_secs_f64() * 1000.0
        );
        let all = w.stats();
        println!(
            "   mode {}: {} Copy/Uncopy frames between leaders for {} joins ({:.1} per join); {} files held in copies",
            o.mode,
            all.copies_out,
            o.nodes,
            all.copies_out as f64 / o.nodes.max(1) as f64,
            all.copy_files
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
        Ok(Lab {
            o,
            rng,
            songs,
            w,
            work: Vec::new(),
            text: String::new(),
            answer: None,
            stable: Measure::default(),
            stable_leaders: 0,
            orphans: 0,
            churned: Measure::default(),
            gnutella: None,
        })
    }

    /// Step 2: A keyword query from node 0, answered across leaders.
    fn query_across_leaders(&mut self) -> Result<(), String> {
        println!("\n== 2. a keyword query, answered across leaders (转发查询到其他组长)");
        let (w, ttl) = (&self.w, self.o.ttl);
        let asker = &w.nodes[0];
        let text = catalog::query(&self.songs, &mut self.rng);
        let before = w.stats();
        let answer = asker.query(&text, ttl).map_err(err)?;
        let cost = w.stats().query_messages() - before.query_messages();
        let home = asker.leader().ok_or("node 0 has no leader")?;
        println!(
            "   node 0 (child of {}) asks {text:?} with ttl {ttl}",
            w.name(home)
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
        self.text = text;
        self.answer = Some(answer);
        Ok(())
    }

    /// Step 3: Download the first hit by its hash, straight from the holder; then ask for the
    /// hash itself and find every copy, whatever its name.
    fn download_by_hash(&mut self) -> Result<(), String> {
        println!(
            "\n== 3. download by hash: GET /uri-res/N2R?urn:sha1:... straight from the holder"
        );
        let (w, ttl) = (&self.w, self.o.ttl);
        let asker = &w.nodes[0];
        let hit = (self.answer.as_ref())
            .and_then(|a| a.hits.first())
            .ok_or("step 2's query found nothing to download; try another --seed")?;
        let out = w.dir.join("downloads");
        std::fs::create_dir_all(&out).map_err(err)?;
        let path = asker.download(hit, &out).map_err(err)?;
        let got = ids::sha1_file(&path).map_err(err)?;
        if got != hit.sha1 {
            return Err(format!(
                "{} downloaded with SHA-1 {}, expected the leader's {}",
                hit.name,
                ids::to_hex(&got),
                ids::to_hex(&hit.sha1)
            ));
        }
        println!(
            "   {} from {}: SHA-1 {} matches the hash the leader gave",
            hit.name,
            hit.holder,
            ids::to_hex(&got)
        );
        let urn = format!("urn:sha1:{}", ids::to_base32(&hit.sha1));
        let by_hash = asker.query(&urn, ttl).map_err(err)?;
        let mut names: Vec<&str> = by_hash.hits.iter().map(|h| h.name.as_str()).collect();
        names.sort();
        names.dedup();
        println!(
            "   the hash finds {} copies, named {names:?} (分布式命名)",
            by_hash.hits.len()
        );
        Ok(())
    }

    /// Step 4: A workload of queries from random nodes, measured from the leaders' counters.
    fn measure_workload(&mut self) -> Result<(), String> {
        let (o, w) = (&self.o, &self.w);
        println!(
            "\n== 4. a workload: {} queries from random nodes, ttl {}",
            o.queries, o.ttl
        );
        self.work = world::queries(o.queries, w.nodes.len(), &self.songs, &mut self.rng);
        self.stable = workload(w, &self.work, o.ttl)?;
        let m = &self.stable;
        println!(
            "   {:.0} queries/s, {:.1} messages and {:.1} hits per query",
            m.per_second, m.messages, m.hits
        );
        self.stable_leaders = w.live_leaders();
        Ok(())
    }
}
