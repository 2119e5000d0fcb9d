//! `make lab-gnutella`: flooding with a TTL, Ping/Pong join, a hit's reverse path, a
//! direct download, and a servent leaving (notes 6.3 完全分布式). See README.md here.

use crossbeam_channel::{unbounded, Receiver};
use getopts::Options;
use p2plab::gnutella::overlay::{degrees, distances, random_regular, Rng};
use p2plab::gnutella::{hosts, observe, policy, Config, HostCache, Servent, Trace};
use p2plab::share::{fetch, ids, Folder};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

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

struct Lab {
    s: Vec<Servent>,
    trace: Receiver<Trace>,
    dir: PathBuf,
}

impl Lab {
    fn name(&self, a: SocketAddr) -> String {
        match self
            .s
            .iter()
            .position(|s| s.addr() == a || s.http_addr() == a)
        {
            Some(i) if i + 1 == self.s.len() && i > 0 => format!("newcomer({a})"),
            Some(i) => format!("#{i}({a})"),
            None => a.to_string(),
        }
    }
}

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut o = Options::new();
    o.optopt("", "peers", "servents in the overlay (default 30)", "N");
    o.optopt(
        "",
        "degree",
        "neighbours per servent (default 4, at most 10)",
        "D",
    );
    o.optopt("", "ttl", "largest TTL of the sweep (default 7)", "T");
    o.optopt("", "seed", "overlay and file placement (default 7)", "S");
    o.optopt(
        "",
        "port-base",
        "servent i listens on P+i (default: any free port)",
        "P",
    );
    o.optflag("", "no-dedup", "the mistake: forward duplicates too");
    o.optflag("h", "help", "print this help");
    let m = match o.parse(&args) {
        Ok(m) if !m.opt_present("help") => m,
        Ok(_) => return println!("{}", o.usage("Usage: lab-gnutella [options]")),
        Err(e) => {
            eprintln!("{e}\n{}", o.usage("Usage: lab-gnutella [options]"));
            std::process::exit(2);
        }
    };
    let num = |k: &str, d: u64| {
        m.opt_get_default(k, d)
            .unwrap_or_else(|e| panic!("--{k}: {e}"))
    };
    let n = num("peers", 30).max(3) as usize;
    let d = num("degree", 4).clamp(2, 10) as usize;
    let t_max = num("ttl", 7).clamp(1, 7) as u8;
    let seed = num("seed", 7);
    let base = num("port-base", 0) as u16;
    let dedup = !m.opt_present("no-dedup");
    if let Err(e) = run(n, d, t_max, seed, base, dedup) {
        eprintln!("lab-gnutella: {e}");
        std::process::exit(1);
    }
}

fn listen(base: u16, i: usize) -> String {
    let port = if base == 0 { 0 } else { base + i as u16 };
    format!("127.0.0.1:{port}")
}

fn make_share(dir: &Path, i: usize, rng: &mut Rng, wanted: bool) -> std::io::Result<Folder> {
    let share = dir.join(format!("s{i}"));
    std::fs::create_dir_all(&share)?;
    let mut names = vec![
        ALBUMS[rng.below(ALBUMS.len())],
        ALBUMS[rng.below(ALBUMS.len())],
    ];
    if wanted {
        names.push(WANTED);
    }
    for name in names {
        // Same name, same bytes: every copy has the same SHA-1, as with a real album.
        let len = if name == WANTED {
            256 * 1024
        } else {
            32 * 1024
        };
        let mut r = Rng::new(name.len() as u64 * 31 + name.as_bytes()[0] as u64);
        let bytes: Vec<u8> = (0..len).map(|_| r.next_u64() as u8).collect();
        std::fs::write(share.join(name), bytes)?;
    }
    Folder::scan(&share)
}

fn run(n: usize, d: usize, t_max: u8, seed: u64, base: u16, dedup: bool) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("p2plab-lab-gnutella-{}", std::process::id()));
    let result = story(&dir, n, d, t_max, seed, base, dedup);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn start(lab_dir: &Path, folder: Folder, f: impl FnOnce(&mut Config)) -> Result<Servent, String> {
    let mut cfg = Config::new(Arc::new(folder));
    f(&mut cfg);
    let _ = lab_dir;
    Servent::start(cfg.clone())
        .map_err(|e| format!("cannot start a servent on {}: {e}", cfg.listen))
}

#[allow(clippy::too_many_arguments)]
fn story(
    dir: &Path,
    n: usize,
    d: usize,
    t_max: u8,
    seed: u64,
    base: u16,
    dedup: bool,
) -> Result<(), String> {
    let mut rng = Rng::new(seed);
    let (tx, trace) = unbounded();
    let cache = HostCache::start("127.0.0.1:0").map_err(|e| e.to_string())?;
    // Two servents (never servent 0, the asker) hold the album everyone wants.
    let holders = [1 + rng.below(n - 1), 1 + rng.below(n - 1)];
    let mut s = Vec::new();
    for i in 0..n {
        let folder =
            make_share(dir, i, &mut rng, holders.contains(&i)).map_err(|e| e.to_string())?;
        s.push(start(dir, folder, |c| {
            c.listen = listen(base, i);
            c.degree = 0; // the lab builds the overlay itself, to repeat it per seed
            c.dedup = dedup;
            c.cache = Some(cache.url());
            c.trace = Some(tx.clone());
            c.seed = seed + i as u64;
        })?);
    }
    let mut lab = Lab {
        s,
        trace,
        dir: dir.to_path_buf(),
    };
    let edges = random_regular(n, d, seed);
    for &(a, b) in &edges {
        lab.s[a].connect(lab.s[b].addr())?;
    }
    let deg = degrees(n, &edges);
    let dist = distances(n, &edges, 0);
    let far = dist.iter().flatten().max().copied().unwrap_or(0);
    println!("== 1. the overlay (覆盖网络): {n} servents, {} TCP connections, degree {}..{} (target {d})",
        edges.len(), deg.iter().min().unwrap_or(&0), deg.iter().max().unwrap_or(&0));
    println!(
        "   servents listen on {} .. {}; host cache at {}",
        lab.s[0].addr(),
        lab.s[n - 1].addr(),
        cache.url()
    );
    println!("   '{WANTED}' is shared by #{} ({} hops from #0) and #{} ({} hops); the farthest servent is {far} hops away",
        holders[0], dist[holders[0]].unwrap_or(99), holders[1], dist[holders[1]].unwrap_or(99));
    println!(
        "   duplicate suppression: {}",
        if dedup {
            "on"
        } else {
            "OFF (the instructive mistake)"
        }
    );

    println!("\n== 2. #0 floods the query 'abbey road' with TTL 1..{t_max}");
    println!(
        "   {:>3}  {:>8}  {:>8}  {:>8}  {:>10}  {:>10}  {:>4}",
        "TTL", "in range", "reached", "messages", "bound", "duplicates", "hits"
    );
    let mut sweep = Vec::new();
    for t in 1..=t_max {
        let guid = lab.s[0].query("abbey road", t);
        let f = observe::collect(&lab.trace, guid, WAIT)
            .map_err(|_| "a flood did not finish".to_string())?;
        let hits = lab.s[0].hits().try_iter().count();
        let in_range = dist
            .iter()
            .skip(1)
            .filter(|x| x.is_some_and(|x| x <= t as u32))
            .count();
        let bound = policy::flood_bound(d as u64, t as u32);
        println!(
            "   {t:>3}  {in_range:>8}  {:>8}  {:>8}  {bound:>10}  {:>10}  {hits:>4}",
            f.reached.len(),
            f.messages,
            f.duplicates
        );
        sweep.push((t, f.reached.len(), f.messages, f.duplicates, hits));
    }
    println!(
        "   in range = servents within TTL hops; bound = d + d(d-1) + ... + d(d-1)^(t-1) copies"
    );

    // 3. A newcomer: its host list is dead, the cache answers, Pongs bring the rest.
    for x in &lab.s {
        x.set_degree(d);
    }
    let dead = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?;
    let list = dir.join("newcomer-hosts.txt");
    hosts::save(&list, &[dead]).map_err(|e| e.to_string())?;
    let folder = make_share(dir, n, &mut rng, false).map_err(|e| e.to_string())?;
    let joined_at = Instant::now();
    let newcomer = start(dir, folder, |c| {
        c.listen = listen(base, n);
        c.host_list = Some(list.clone());
        c.cache = Some(cache.url());
        c.degree = d;
        c.trace = Some(tx.clone());
        c.seed = seed + n as u64;
    })?;
    let me = newcomer.addr();
    lab.s.push(newcomer);
    println!(
        "\n== 3. newcomer {me} joins (对等方加入), its host list (死党列表) holds only {dead}"
    );
    let mut pongs = Vec::new();
    let end = Instant::now() + WAIT;
    while lab.s[n].neighbours().len() < d && Instant::now() < end {
        let Ok(ev) = lab.trace.recv_timeout(Duration::from_millis(50)) else {
            continue;
        };
        match ev {
            Trace::DialFailed { at, peer, why } if at == me => println!("   dial {peer}: {why}"),
            Trace::CacheAsked { at, got } if at == me => {
                println!("   host cache {}: {got} addresses", cache.url())
            }
            Trace::Connected {
                at,
                peer,
                outgoing: true,
            } if at == me => {
                println!(
                    "   connected to {} ({} Pongs so far)",
                    lab.name(peer),
                    pongs.len()
                )
            }
            Trace::PongArrived {
                at,
                host,
                files,
                kbytes,
            } if at == me => pongs.push((host, files, kbytes)),
            _ => {}
        }
    }
    let join_ms = joined_at.elapsed().as_millis();
    // Pongs still on their way count too.
    while let Ok(ev) = lab.trace.recv_timeout(Duration::from_millis(200)) {
        if let Trace::PongArrived {
            at,
            host,
            files,
            kbytes,
        } = ev
        {
            if at == me {
                pongs.push((host, files, kbytes));
            }
        }
    }
    for (host, files, kb) in pongs.iter().take(3) {
        println!("   Pong: {} shares {files} files, {kb} KB", lab.name(*host));
    }
    let nb: Vec<String> = lab.s[n]
        .neighbours()
        .into_iter()
        .map(|a| lab.name(a))
        .collect();
    println!(
        "   {} Pongs in all; neighbours after {join_ms} ms: {}",
        pongs.len(),
        nb.join(", ")
    );

    // 4. The newcomer asks; one hit's reverse path; the download goes direct.
    println!("\n== 4. newcomer floods 'abbey road' with TTL {t_max}");
    let guid = lab.s[n].query("abbey road", t_max);
    let f = observe::collect(&lab.trace, guid, WAIT)
        .map_err(|_| "the newcomer's flood did not finish".to_string())?;
    let hits: Vec<_> = lab.s[n].hits().try_iter().collect();
    println!(
        "   reached {} servents with {} messages ({} duplicates dropped); {} QueryHits came back",
        f.reached.len(),
        f.messages,
        f.duplicates,
        hits.len()
    );
    let Some(hit) = hits.first() else {
        return Err("no hit: raise --ttl or --degree".into());
    };
    let holder = lab
        .s
        .iter()
        .find(|x| x.http_addr() == hit.http)
        .map(|x| x.addr())
        .unwrap_or(hit.http);
    let path = f.reverse_path(holder, me);
    println!(
        "   the QueryHit from {} retraced the Query's path ({} hops, TTL {} = the query's hops):",
        lab.name(holder),
        path.len() - 1,
        hit.hops
    );
    for (k, w) in path.windows(2).enumerate() {
        println!(
            "     hop {}: {} -> {}",
            k + 1,
            lab.name(w[0]),
            lab.name(w[1])
        );
    }
    let dl = hit.download(0).ok_or("hit without urn:sha1")?;
    let out = lab.dir.join("downloads");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    let file = fetch(&dl, &out, &mut |_| {}).map_err(|e| e.to_string())?;
    let dl_ms = t0.elapsed().as_secs_f64() * 1000.0;
    println!(
        "   GET http://{}{} straight from the holder: {} bytes in {dl_ms:.1} ms, SHA-1 {} checked",
        dl.from,
        dl.target,
        dl.size,
        &ids::to_hex(&dl.sha1)[..12]
    );
    drop(file);

    // 5. A servent on that path leaves; its neighbours refill from their host lists.
    let victim_addr = if path.len() > 2 {
        path[1]
    } else {
        lab.s[1].addr()
    };
    let v = lab
        .s
        .iter()
        .position(|x| x.addr() == victim_addr)
        .unwrap_or(1)
        .min(n - 1);
    let victim = lab.s.remove(v);
    let orphans = victim.neighbours();
    println!(
        "\n== 5. {} leaves (对等方离开): Bye to {} neighbours",
        lab_name_gone(v, victim_addr),
        orphans.len()
    );
    cache.forget(&victim_addr);
    let before: Vec<usize> = orphans
        .iter()
        .map(|o| {
            lab.s
                .iter()
                .find(|x| x.addr() == *o)
                .map_or(0, |x| x.neighbours().len())
        })
        .collect();
    let t0 = Instant::now();
    victim.leave();
    let find = |a: &SocketAddr| lab.s.iter().find(|x| x.addr() == *a);
    let end = Instant::now() + WAIT;
    let repaired = loop {
        let ok = orphans.iter().all(|o| {
            find(o).is_none_or(|x| {
                let nb = x.neighbours();
                nb.len() >= d && !nb.contains(&victim_addr)
            })
        });
        if ok || Instant::now() > end {
            break ok;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let repair_ms = t0.elapsed().as_millis();
    for (o, b) in orphans.iter().zip(&before) {
        let now = find(o).map_or(0, |x| x.neighbours().len());
        println!("   {}: {b} neighbours before, {now} after", lab.name(*o));
    }
    println!(
        "   {} in {repair_ms} ms",
        if repaired {
            "degree restored"
        } else {
            "NOT all restored"
        }
    );

    let reach_stops = sweep
        .iter()
        .find(|r| r.1 == sweep.last().map_or(0, |l| l.1))
        .map_or(0, |r| r.0);
    let last = sweep.last().copied().unwrap_or_default();
    println!("\n== measured");
    println!(
        "   {:<52} {}",
        "servents / connections",
        format!("{n} / {}", edges.len())
    );
    println!(
        "   {:<52} {}",
        "smallest TTL reaching everyone the sweep reached", reach_stops
    );
    println!(
        "   {:<52} {}",
        format!("messages for one query at TTL {t_max} (bound)"),
        format!(
            "{} ({})",
            last.2,
            policy::flood_bound(d as u64, t_max as u32)
        )
    );
    println!(
        "   {:<52} {}",
        format!("duplicate copies at TTL {t_max} (dropped if dedup on)"),
        last.3
    );
    println!("   {:<52} {}", format!("QueryHits at TTL {t_max}"), last.4);
    println!(
        "   {:<52} {}",
        "newcomer: Pongs / ms to reach its degree",
        format!("{} / {join_ms}", pongs.len())
    );
    println!(
        "   {:<52} {}",
        "QueryHit hops back to the newcomer",
        path.len() - 1
    );
    println!(
        "   {:<52} {}",
        "download KiB / ms",
        format!("{} / {dl_ms:.1}", dl.size / 1024)
    );
    println!(
        "   {:<52} {}",
        "leave: orphans / ms until all back to degree",
        format!(
            "{} / {repair_ms}{}",
            orphans.len(),
            if repaired { "" } else { " (not all)" }
        )
    );
    Ok(())
}

fn lab_name_gone(i: usize, a: SocketAddr) -> String {
    format!("#{i}({a})")
}
