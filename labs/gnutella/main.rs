//! `make lab-gnutella`: flooding with a TTL, Ping/Pong join, a hit's reverse path, a
//! direct download, and a servent leaving (notes 6.3 完全分布式). See README.md here.
//!
//! This file builds the overlay and runs the TTL sweep; `steps.rs` tells steps 3 to 5,
//! `hostile.rs` step 6 (attackers that hold slots, `--no-eviction`).

mod hostile;
mod place;
mod scale;
mod steps;

use crossbeam_channel::{unbounded, Receiver, Sender};
use getopts::Options;
use p2plab::gnutella::overlay::{degrees, distances, random_regular};
use p2plab::gnutella::{observe, policy, Config, HostCache, Servent, Trace};
use p2plab::opts;
use p2plab::rng::Rng;
use p2plab::share::Folder;
use place::Place;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How long any one step may take before the lab gives up.
const WAIT: Duration = Duration::from_secs(20);
const ALBUMS: [&str; 10] = [
    "Let It Be.mp3",
    "Kind of Blue.flac",
    "Blue Train.flac",
    "OK Computer.ogg",
    "Kid A.ogg",
    "Nevermind.mp3",
    "Thriller.mp3",
    "Rumours.mp3",
    "Pet Sounds.ogg",
    "Revolver.mp3",
];
const WANTED: &str = "Abbey Road.mp3";

struct Params {
    n: usize,
    d: usize,
    t_max: u8,
    seed: u64,
    base: u16,
    dedup: bool,
    /// Replace an idle neighbour to admit a newcomer (issue #13's defence).
    eviction: bool,
    netns: bool,
    scale: bool,
}

pub struct Lab {
    p: Params,
    s: Vec<Servent>,
    trace: Receiver<Trace>,
    tx: Sender<Trace>,
    cache: HostCache,
    dir: PathBuf,
    rng: Rng,
    /// (Gnutella address, HTTP address, label): labels stay put when a servent leaves.
    names: Vec<(SocketAddr, SocketAddr, String)>,
    /// (label, value) rows of the final table.
    measured: Vec<(String, String)>,
    /// Last, so that it is dropped (its hosts deleted) after every servent stopped.
    place: Place,
}

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut o = Options::new();
    o.optopt(
        "",
        "peers",
        "servents in the overlay (default 30; with --scale the largest, default 1000)",
        "N",
    );
    o.optflag(
        "",
        "scale",
        "only the growth curve: overlays of 125, 250, 500 and 1000 servents (see scale.rs)",
    );
    o.optopt(
        "",
        "degree",
        "neighbours per servent (default 4, 2..9: a newcomer needs servents below 10)",
        "D",
    );
    o.optopt("", "ttl", "largest TTL of the sweep (default 7)", "T");
    o.optopt("", "seed", "overlay and file placement (default 7)", "S");
    o.optopt(
        "",
        "port-base",
        "servent i listens on P+i (default: free ports)",
        "P",
    );
    o.optflag("", "no-dedup", "the mistake: forward duplicates too");
    o.optflag(
        "",
        "no-eviction",
        "defence off: a full servent never replaces an idle neighbour (step 6)",
    );
    o.optflag(
        "",
        "netns",
        "every servent on its own host (network namespaces; root)",
    );
    let parsed = opts::parse(&mut o, args, "Usage: lab-gnutella [options]").and_then(|m| {
        let Some(m) = m else { return Ok(None) };
        let num = |k: &str, d: u64| opts::value(&m, k, d);
        let scale = m.opt_present("scale");
        let peers = num("peers", if scale { MAX_PEERS } else { 30 })?;
        Ok(Some(Params {
            n: clamped("peers", peers, 3, MAX_PEERS) as usize,
            d: clamped("degree", num("degree", 4)?, 2, 9) as usize,
            t_max: clamped("ttl", num("ttl", 7)?, 1, 7) as u8,
            seed: num("seed", 7)?,
            base: clamped("port-base", num("port-base", 0)?, 0, 65000) as u16,
            dedup: !m.opt_present("no-dedup"),
            eviction: !m.opt_present("no-eviction"),
            netns: m.opt_present("netns"),
            scale,
        }))
    });
    let p = match parsed {
        Ok(Some(p)) => p,
        Ok(None) => return,
        Err(e) => fail(&e),
    };
    if p.scale {
        let svg = Path::new("target/gnutella-scale.svg");
        if let Err(e) = scale::run(p.n, p.d, p.t_max, p.seed, svg) {
            fail(&e);
        }
        return;
    }
    let dir = std::env::temp_dir().join(format!("p2plab-lab-gnutella-{}", std::process::id()));
    let result = run(p, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = result {
        fail(&e);
    }
}

/// Servents the lab is tested with (`--scale`): 1,000 take about 13 threads and
/// MEASURED KiB of resident memory each.
const MAX_PEERS: u64 = 1000;

/// `v` within `lo..=hi`, saying so when it had to change it.
fn clamped(option: &str, v: u64, lo: u64, hi: u64) -> u64 {
    opts::clamp("lab-gnutella", option, v, lo, hi)
}

fn fail(e: &str) -> ! {
    eprintln!("lab-gnutella: {e}");
    std::process::exit(1)
}

fn run(p: Params, dir: &Path) -> Result<(), String> {
    let (tx, trace) = unbounded();
    // Servents 0..n, the newcomer, the host cache: one host each.
    let place = if p.netns {
        Place::hosts(p.n + 2)?
    } else {
        Place::loopback()
    };
    let cache_ip = place.ip(p.n + 1);
    let cache = place
        .run(p.n + 1, move || HostCache::start(&format!("{cache_ip}:0")))?
        .map_err(|e| e.to_string())?;
    let mut lab = Lab {
        rng: Rng::new(p.seed),
        p,
        s: Vec::new(),
        trace,
        tx,
        cache,
        dir: dir.to_path_buf(),
        measured: Vec::new(),
        names: Vec::new(),
        place,
    };
    let dist = lab.build()?;
    lab.sweep(&dist)?;
    lab.join()?;
    let path = lab.ask_and_download()?;
    lab.leave(&path)?;
    lab.idle_attack()?;
    println!("\n== measured");
    for (k, v) in &lab.measured {
        println!("   {k:<50} {v}");
    }
    Ok(())
}

impl Lab {
    fn name(&self, a: SocketAddr) -> String {
        match self.names.iter().find(|(g, h, _)| *g == a || *h == a) {
            Some((g, _, label)) => format!("{label}({g})"),
            None => a.to_string(),
        }
    }

    fn row(&mut self, label: &str, value: String) {
        self.measured.push((label.to_string(), value));
    }

    fn listen(&self, i: usize) -> String {
        let port = if self.p.base == 0 {
            0
        } else {
            self.p.base + i as u16
        };
        format!("{}:{port}", self.place.ip(i))
    }

    /// Servent `i`'s folder: two random albums, plus the wanted one for holders.
    fn share(&mut self, i: usize, wanted: bool) -> Result<Folder, String> {
        let share = self.dir.join(format!("s{i}"));
        std::fs::create_dir_all(&share).map_err(|e| e.to_string())?;
        let mut names = vec![ALBUMS[self.rng.below(10)], ALBUMS[self.rng.below(10)]];
        if wanted {
            names.push(WANTED);
        }
        for name in names {
            // Same name, same bytes: every copy has the same SHA-1, like a real album.
            let len = if name == WANTED {
                256 * 1024
            } else {
                32 * 1024
            };
            let mut r = Rng::new(name.len() as u64 * 31 + name.as_bytes()[0] as u64);
            let bytes: Vec<u8> = (0..len).map(|_| r.next_u64() as u8).collect();
            std::fs::write(share.join(name), bytes).map_err(|e| e.to_string())?;
        }
        Folder::scan(&share).map_err(|e| e.to_string())
    }

    fn start(
        &mut self,
        i: usize,
        folder: Folder,
        f: impl FnOnce(&mut Config),
    ) -> Result<(), String> {
        let mut cfg = Config::new(Arc::new(folder));
        cfg.listen = self.listen(i);
        cfg.dedup = self.p.dedup;
        cfg.idle_grace = hostile::idle_grace(self.p.eviction);
        cfg.cache = Some(self.cache.url());
        cfg.trace = Some(self.tx.clone());
        cfg.seed = self.p.seed + i as u64;
        cfg.http_listen = format!("{}:0", self.place.ip(i));
        f(&mut cfg);
        let s = self
            .place
            .run(i, move || Servent::start(cfg))?
            .map_err(|e| format!("cannot listen on {}: {e}", self.listen(i)))?;
        let label = if i < self.p.n {
            format!("#{i}")
        } else {
            "newcomer".into()
        };
        self.names.push((s.addr(), s.http_addr(), label));
        self.s.push(s);
        Ok(())
    }

    /// Starts the servents and joins them as a random overlay of degree d.
    fn build(&mut self) -> Result<Vec<Option<u32>>, String> {
        let (n, d) = (self.p.n, self.p.d);
        // Two servents (never #0, the asker) hold the album everyone wants.
        let holders = [1 + self.rng.below(n - 1), 1 + self.rng.below(n - 1)];
        for i in 0..n {
            let folder = self.share(i, holders.contains(&i))?;
            // Degree 0: the lab draws the overlay itself, so a seed repeats it.
            self.start(i, folder, |c| c.degree = 0)?;
        }
        let edges = random_regular(n, d, self.p.seed);
        for &(a, b) in &edges {
            let (from, to) = (&self.s[a], self.s[b].addr());
            self.place.run(a, || from.connect(to))??;
        }
        let deg = degrees(n, &edges);
        let dist = distances(n, &edges, 0);
        let far = dist.iter().flatten().max().copied().unwrap_or(0);
        let (lo, hi) = (
            deg.iter().min().unwrap_or(&0),
            deg.iter().max().unwrap_or(&0),
        );
        println!(
            "== 1. the overlay (覆盖网络): {n} servents, {} TCP connections, degree {lo}..{hi}",
            edges.len()
        );
        println!(
            "   servents listen on {} .. {}, {}; host cache {}",
            self.s[0].addr(),
            self.s[n - 1].addr(),
            self.place.describe(),
            self.cache.url()
        );
        let hops = |i: usize| dist[i].map_or("unreachable".into(), |h| format!("{h} hops"));
        println!(
            "   '{WANTED}' is at #{} ({} from #0) and #{} ({}); the farthest servent: {far} hops",
            holders[0],
            hops(holders[0]),
            holders[1],
            hops(holders[1])
        );
        println!(
            "   duplicate suppression: {}",
            if self.p.dedup {
                "on"
            } else {
                "OFF (the instructive mistake)"
            }
        );
        self.row(
            "servents / connections / farthest from #0",
            format!("{n} / {} / {far} hops", edges.len()),
        );
        Ok(dist)
    }

    /// #0 floods the same query with TTL 1, 2, ... and counts what each flood cost.
    fn sweep(&mut self, dist: &[Option<u32>]) -> Result<(), String> {
        let (d, t_max) = (self.p.d as u64, self.p.t_max);
        println!("\n== 2. #0 floods the query 'abbey road' with TTL 1..{t_max}");
        println!(
            "   {:>3}  {:>8}  {:>8}  {:>8}  {:>8}  {:>10}  {:>4}",
            "TTL", "in range", "reached", "messages", "bound", "duplicates", "hits"
        );
        let mut rows = Vec::new();
        for t in 1..=t_max {
            let guid = self.s[0].query("abbey road", t);
            let f =
                observe::collect(&self.trace, guid, WAIT).map_err(|_| "a flood did not finish")?;
            let hits = self.s[0].hits().try_iter().count();
            let in_range = dist
                .iter()
                .skip(1)
                .filter(|x| x.is_some_and(|x| x <= t as u32))
                .count();
            let bound = policy::flood_bound(d, t as u32);
            println!(
                "   {t:>3}  {in_range:>8}  {:>8}  {:>8}  {bound:>8}  {:>10}  {hits:>4}",
                f.reached.len(),
                f.messages,
                f.duplicates
            );
            rows.push((t, f.reached.len(), f.messages, f.duplicates, hits));
        }
        println!(
            "   in range: servents within TTL hops of #0; bound: d + d(d-1) + ... + d(d-1)^(TTL-1)"
        );
        let last = rows.last().copied().unwrap_or_default();
        let first_all = rows.iter().find(|r| r.1 == last.1).map_or(0, |r| r.0);
        self.row(
            "smallest TTL that reached as many as TTL max",
            first_all.to_string(),
        );
        self.row(
            &format!("messages at TTL {t_max} (flood bound)"),
            format!("{} ({})", last.2, policy::flood_bound(d, t_max as u32)),
        );
        self.row(
            &format!("duplicate copies at TTL {t_max}"),
            last.3.to_string(),
        );
        self.row(&format!("QueryHits at TTL {t_max}"), last.4.to_string());
        Ok(())
    }
}
