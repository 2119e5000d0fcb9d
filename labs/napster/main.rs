//! lab-napster: the central directory of notes 6.3 (集中化目录) and its problems (6.4).
//!
//! Starts a directory server and N peers on real sockets, then tells the story:
//! announce, search, download straight from a peer, the bottleneck, the single point
//! of failure. Every number printed is measured in this run. Handout: README.md here.

use getopts::Options;
use p2plab::napster::load::{publish_catalogue, queries_from, search_load, song_name};
use p2plab::napster::{DirectoryServer, Peer, PeerConfig, ServerOptions};
use p2plab::opts;
use p2plab::report::Table;
use p2plab::rng::Rng;
use p2plab::share::ids;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

struct Args {
    peers: usize,
    files: usize,
    file_kb: usize,
    big_mb: usize,
    seed: u64,
    catalogue: usize,
    levels: Vec<usize>,
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => return opts::finish("lab-napster", Err(e)),
    };
    let dir = std::env::temp_dir().join(format!("p2plab-lab-napster-{}", std::process::id()));
    let result = run(&args, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    opts::finish("lab-napster", result)
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut o = Options::new();
    o.optopt(
        "",
        "peers",
        "peers sharing files (default 8, at least 4)",
        "N",
    );
    o.optopt("", "files", "files per peer (default 4)", "N");
    o.optopt(
        "",
        "file-kb",
        "size of each file in KiB (default 256)",
        "KB",
    );
    o.optopt(
        "",
        "big-mb",
        "size of the file in flight when the server dies (default 16)",
        "MB",
    );
    o.optopt(
        "",
        "catalogue",
        "extra files in the directory for the bottleneck test (default 10000)",
        "N",
    );
    o.optopt(
        "",
        "clients",
        "searching peers for the bottleneck test (default 1,2,4,8,16,32,64)",
        "LIST",
    );
    o.optopt(
        "",
        "seed",
        "random seed: same seed, same story (default 7)",
        "S",
    );
    let brief = "Usage: lab-napster [options]   (make lab-napster ARGS='--peers 16')";
    let Some(m) = opts::parse(&mut o, std::env::args().skip(1), brief)? else {
        return Ok(None);
    };
    Ok(Some(Args {
        peers: opts::value(&m, "peers", 8usize)?.max(4),
        files: opts::value(&m, "files", 4usize)?.max(1),
        file_kb: opts::value(&m, "file-kb", 256usize)?.max(1),
        big_mb: opts::value(&m, "big-mb", 16usize)?.max(1),
        seed: opts::value(&m, "seed", 7)?,
        catalogue: opts::value(&m, "catalogue", 10_000)?,
        levels: opts::list(&m, "clients", &[1, 2, 4, 8, 16, 32, 64])?,
    }))
}

/// The peer whose big file is in flight when the directory dies.
const UPLOADER: usize = 3;

fn make_folders(a: &Args, root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut rng = Rng::new(a.seed);
    let mut dirs = Vec::new();
    for p in 0..a.peers {
        let d = root.join(format!("peer{p}"));
        std::fs::create_dir_all(&d)?;
        for _ in 0..a.files {
            let name = song_name(&mut rng, p * a.files + dirs.len());
            std::fs::write(d.join(name), rng.bytes(a.file_kb * 1024))?;
        }
        if p == UPLOADER {
            std::fs::write(
                d.join("live at wembley - full concert.flac"),
                rng.bytes(a.big_mb << 20),
            )?;
        }
        dirs.push(d);
    }
    Ok(dirs)
}

fn run(a: &Args, root: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut table = Table::new(&["measured", "value"]);
    println!("== Napster: a central directory (notes 6.3 集中化目录, 6.4 问题)\n");
    let folders = make_folders(a, root)?;
    let mut server = DirectoryServer::start("127.0.0.1:0", ServerOptions::default())?;
    let center = server.local_addr();
    println!("1. The directory server listens on {center}.");

    println!("\n2. {} peers connect and tell it their IP address and content (告知中心服务器：IP地址，内容):", a.peers);
    let mut peers = Vec::new();
    for (p, folder) in folders.iter().enumerate() {
        // The uploader's link is capped so that its big file takes about two seconds.
        let upload_rate = (p == UPLOADER).then_some((a.big_mb as u64) << 19);
        let peer = Peer::start(PeerConfig {
            server: center,
            nick: format!("peer{p}"),
            share_dir: folder.clone(),
            listen: "127.0.0.1:0".into(),
            upload_rate,
        })?;
        let names: Vec<&str> = peer
            .folder()
            .files()
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        println!(
            "   {} at {}  shares {} files, e.g. \"{}\"",
            peer.nick(),
            peer.data_addr(),
            names.len(),
            names[0]
        );
        peers.push(peer);
    }
    let shared: usize = peers.iter().map(|p| p.folder().files().len()).sum();
    while server.counts().1 < shared {
        thread::yield_now(); // shares are not acknowledged; wait until all are indexed
    }
    let (np, nf) = server.counts();
    println!("   The directory now knows {np} peers and {nf} files.");
    table.row(&[&"peers / files in the directory", &format!("{np} / {nf}")]);

    // A file of peer 5's (or the last peer's), searched for by peer 1.
    let target = peers[5.min(a.peers - 1)].folder().files()[0].clone();
    let words: Vec<String> = p2plab::share::keywords(&target.name)
        .into_iter()
        .take(3)
        .collect();
    let query = words.join(" ");
    println!("\n3. peer1 searches \"{query}\" and gets a directory back (用户查询 → 获得目录):");
    let t = Instant::now();
    let hits = peers[1].search(&query, 100)?;
    let search_ms = t.elapsed().as_secs_f64() * 1e3;
    for (i, h) in hits.iter().enumerate() {
        println!(
            "   [{i}] \"{}\"  {} bytes  held by {} at {}",
            h.file.name, h.file.size, h.nick, h.ip
        );
    }
    table.row(&[
        &"one search, request to last result",
        &format!("{search_ms:.2} ms"),
    ]);
    let hit = hits
        .iter()
        .find(|h| h.file.name == target.name)
        .ok_or("the directory did not find the file")?;

    println!("\n4. peer1 asks where {} serves it, then fetches it straight from that peer (从XX用户处请求文件):", hit.nick);
    let out = root.join("downloads");
    std::fs::create_dir_all(&out)?;
    let before = server.stats().bytes_in.load(Ordering::Relaxed)
        + server.stats().bytes_out.load(Ordering::Relaxed);
    let t = Instant::now();
    let path = peers[1].download(hit, &out, &mut |_| {})?;
    let ms = t.elapsed().as_secs_f64() * 1e3;
    let after = server.stats().bytes_in.load(Ordering::Relaxed)
        + server.stats().bytes_out.load(Ordering::Relaxed);
    let ok = ids::sha1_file(&path)? == target.sha1;
    println!(
        "   {} bytes in {ms:.1} ms, SHA-1 {}",
        target.size,
        if ok { "matches the source" } else { "DIFFERS" }
    );
    println!(
        "   Bytes through the directory for this download: {}; bytes peer to peer: {}.",
        after - before,
        target.size
    );
    table.row(&[
        &"directory bytes for that download",
        &format!("{} B", after - before),
    ]);
    table.row(&[&"file bytes, peer to peer", &format!("{} B", target.size)]);

    println!("\n5. The bottleneck (性能瓶颈): every search of every peer goes to one server.");
    let (_library, names) = publish_catalogue(center, a.catalogue.div_ceil(100), 100, a.seed)?;
    while server.counts().1 < nf + names.len() {
        thread::yield_now();
    }
    println!(
        "   {} more files are announced by library peers; now {} files. Searching peers:",
        names.len(),
        server.counts().1
    );
    let queries = queries_from(&names, 2000, a.seed);
    let mut load = Table::new(&["peers searching", "searches/s", "mean latency ms", "p99 ms"]);
    for &c in &a.levels {
        let r = search_load(center, c, (4000 / c).max(50), &queries)?;
        let (mean, p99) = (
            r.mean().as_secs_f64() * 1e3,
            r.quantile(0.99).as_secs_f64() * 1e3,
        );
        load.row(&[
            &c,
            &format!("{:.0}", r.per_second()),
            &format!("{mean:.3}"),
            &format!("{p99:.3}"),
        ]);
        table.row(&[
            &format!("searches/s, {c} searching at once"),
            &format!("{:.0} (p99 {p99:.2} ms)", r.per_second()),
        ]);
    }
    for line in load.render().lines() {
        println!("   {line}");
    }
    println!("   Throughput stops growing once the server's cores are busy; after that more peers only wait longer.");

    println!("\n6. The single point of failure (单点故障): the directory dies during a transfer.");
    let big = peers[UPLOADER]
        .folder()
        .files()
        .iter()
        .find(|f| f.name.ends_with(".flac"))
        .cloned()
        .ok_or("no big file")?;
    let hit = peers[2]
        .search("live wembley concert", 10)?
        .into_iter()
        .next()
        .ok_or("big file not found")?;
    let (started_tx, started_rx) = mpsc::channel();
    let downloader = thread::scope(|s| -> Result<_, Box<dyn std::error::Error>> {
        let h = s.spawn(|| {
            let mut signalled = false;
            let t = Instant::now();
            let r = peers[2].download(&hit, &out, &mut |n| {
                if !signalled && n > big.size / 4 {
                    signalled = true;
                    let _ = started_tx.send(());
                }
            });
            (r, t.elapsed())
        });
        started_rx.recv_timeout(Duration::from_secs(30))?;
        println!(
            "   peer2 is downloading \"{}\" ({} MiB) from peer{UPLOADER}, a quarter done...",
            big.name, a.big_mb
        );
        server.stop();
        println!("   ...and the directory server is killed.");
        let after_search = peers[4].search("love", 10);
        let after_login = Peer::start(PeerConfig {
            server: center,
            nick: "latecomer".into(),
            share_dir: folders[0].clone(),
            listen: "127.0.0.1:0".into(),
            upload_rate: None,
        });
        println!(
            "   peer4 searches \"love\": {}",
            after_search
                .as_ref()
                .map(|h| format!("{} results", h.len()))
                .unwrap_or_else(|e| format!("fails: {e}"))
        );
        println!(
            "   a new peer tries to join: {}",
            after_login
                .as_ref()
                .map(|_| "joined".to_string())
                .unwrap_or_else(|e| format!("fails: {e}"))
        );
        let failed = after_search.is_err() as u32 + after_login.is_err() as u32;
        table.row(&[
            &"directory operations after it died",
            &format!("{failed} of 2 failed"),
        ]);
        Ok(h.join().map_err(|_| "download thread panicked")?)
    })?;
    let (result, took) = downloader;
    let path = result?;
    let ok = ids::sha1_file(&path)? == big.sha1;
    println!(
        "   The transfer in flight needs no directory: it completes in {:.2} s, SHA-1 {}.",
        took.as_secs_f64(),
        if ok { "matches" } else { "DIFFERS" }
    );
    table.row(&[
        &"transfer in flight when the server died",
        &format!(
            "completed in {:.2} s, SHA-1 {}",
            took.as_secs_f64(),
            if ok { "ok" } else { "BAD" }
        ),
    ]);

    println!("\n== What was measured\n");
    table.print();
    for p in &mut peers {
        p.stop();
    }
    Ok(())
}
