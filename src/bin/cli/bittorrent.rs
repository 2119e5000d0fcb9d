//! `p2plab bt make|show|tracker|seed|get`: BitTorrent by hand, one node per terminal.

use super::common::{parse, run_until_stopped};
use getopts::Options;
use p2plab::bittorrent::make::make_torrent;
use p2plab::bittorrent::metainfo::{Metainfo, DEFAULT_PIECE_LENGTH, MAX_TORRENT_BYTES};
use p2plab::bittorrent::node::{download_paths, seed_paths, Client, ClientConfig, Progress};
use p2plab::bittorrent::tracker::{Tracker, TrackerConfig};
use p2plab::share::ids::to_hex;
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

const MIB: f64 = 1024.0 * 1024.0;

fn load(path: &str) -> Result<Metainfo, String> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_TORRENT_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read {path}: {e}"))?;
    Metainfo::from_bytes(&bytes).map_err(|e| format!("{path}: {e}"))
}

fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let (num, mul) = match t.chars().last()? {
        'k' | 'K' => (&t[..t.len() - 1], 1024),
        'm' | 'M' => (&t[..t.len() - 1], 1024 * 1024),
        _ => (t, 1),
    };
    num.parse::<u64>().ok().map(|n| n * mul)
}

pub fn bt_make(args: &[String]) -> Result<(), String> {
    let mut opts = Options::new();
    opts.optopt(
        "o",
        "output",
        "the .torrent to write (default NAME.torrent)",
        "FILE",
    );
    opts.optopt(
        "a",
        "announce",
        "tracker URL (e.g. http://127.0.0.1:6969/announce)",
        "URL",
    );
    opts.optopt(
        "l",
        "piece-length",
        "bytes per piece, a power of two (default 256K)",
        "N",
    );
    let brief =
        "Usage: p2plab bt make FILE|FOLDER -o X.torrent [--announce URL] [--piece-length N]";
    let Some(m) = parse(&mut opts, args, brief)? else {
        return Ok(());
    };
    let [src] = &m.free[..] else {
        return Err(format!(
            "one FILE or FOLDER expected\n\n{}",
            opts.usage(brief)
        ));
    };
    let piece = match m.opt_str("piece-length") {
        Some(t) => parse_size(&t).ok_or(format!("bad piece length '{t}'"))?,
        None => DEFAULT_PIECE_LENGTH,
    };
    let meta = make_torrent(Path::new(src), piece, m.opt_str("announce"))
        .map_err(|e| format!("{src}: {e}"))?;
    let out = m
        .opt_str("output")
        .unwrap_or_else(|| format!("{}.torrent", meta.info.name));
    std::fs::write(&out, meta.to_bytes()).map_err(|e| format!("cannot write {out}: {e}"))?;
    println!(
        "wrote {out}: {} pieces, info-hash {}",
        meta.info.num_pieces(),
        to_hex(&meta.info_hash)
    );
    Ok(())
}

pub fn bt_show(args: &[String]) -> Result<(), String> {
    let mut opts = Options::new();
    let brief = "Usage: p2plab bt show X.torrent";
    let Some(m) = parse(&mut opts, args, brief)? else {
        return Ok(());
    };
    let [path] = &m.free[..] else {
        return Err(opts.usage(brief));
    };
    let meta = load(path)?;
    let i = &meta.info;
    println!("name:         {}", i.name);
    println!(
        "size:         {} bytes ({:.1} MiB)",
        i.total_length(),
        i.total_length() as f64 / MIB
    );
    println!(
        "pieces:       {} x {} bytes",
        i.num_pieces(),
        i.piece_length
    );
    println!("info-hash:    {}", to_hex(&meta.info_hash));
    println!(
        "announce:     {}",
        meta.announce.as_deref().unwrap_or("(none)")
    );
    if i.multi_file {
        println!("files:        {}", i.files.len());
        for f in &i.files {
            println!("  {:>12}  {}", f.length, f.path.join("/"));
        }
    }
    Ok(())
}

pub fn bt_tracker(args: &[String]) -> Result<(), String> {
    let mut opts = Options::new();
    opts.optopt(
        "l",
        "listen",
        "address to serve on (default 127.0.0.1:6969)",
        "ADDR",
    );
    opts.optopt(
        "i",
        "interval",
        "re-announce interval told to clients, seconds (default 300)",
        "SECS",
    );
    let brief = "Usage: p2plab bt tracker [--listen ADDR] [--interval SECS]";
    let Some(m) = parse(&mut opts, args, brief)? else {
        return Ok(());
    };
    let listen = m
        .opt_str("listen")
        .unwrap_or_else(|| "127.0.0.1:6969".into());
    let mut cfg = TrackerConfig::default();
    if let Some(s) = m.opt_str("interval") {
        cfg.interval = Duration::from_secs(s.parse().map_err(|_| format!("bad interval '{s}'"))?);
    }
    let tracker =
        Tracker::start(&listen, cfg).map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    println!("tracker on {}", tracker.announce_url());
    run_until_stopped();
    Ok(())
}

fn client_opts(opts: &mut Options) {
    opts.optopt(
        "l",
        "listen",
        "address peers reach us on (default 127.0.0.1:0)",
        "ADDR",
    );
    opts.optmulti(
        "p",
        "peer",
        "also connect to this peer (repeatable)",
        "ADDR",
    );
    opts.optflag("", "no-tracker", "do not announce (use --peer)");
    opts.optopt(
        "",
        "pipeline",
        "block requests in flight per peer (default 64; 1 = stop-and-wait)",
        "N",
    );
    opts.optopt(
        "",
        "upload-rate",
        "upload cap u_i in KiB/s (default none)",
        "KIB",
    );
    opts.optopt(
        "",
        "download-rate",
        "download cap in KiB/s (default none)",
        "KIB",
    );
    opts.optopt(
        "",
        "time-scale",
        "rechoke/optimistic periods x this (default 1)",
        "X",
    );
    opts.optopt(
        "",
        "picker",
        "rarest | random | sequential (default rarest)",
        "P",
    );
    opts.optopt("", "choker", "tft | all (all: unchoke everyone)", "C");
    opts.optopt("", "rng-seed", "seed of this node's random choices", "N");
}

fn client_config(m: &getopts::Matches) -> Result<ClientConfig, String> {
    let mut cfg = ClientConfig::default();
    if let Some(l) = m.opt_str("listen") {
        cfg.listen = l;
    }
    cfg.use_tracker = !m.opt_present("no-tracker");
    if let Some(p) = m.opt_str("pipeline") {
        cfg.pipeline = p.parse().map_err(|_| format!("bad pipeline '{p}'"))?;
    }
    let kib = |k: &str| -> Result<Option<u64>, String> {
        m.opt_str(k)
            .map(|v| v.parse::<u64>().map(|n| n * 1024))
            .transpose()
            .map_err(|_| format!("bad --{k}"))
    };
    cfg.upload_rate = kib("upload-rate")?;
    cfg.download_rate = kib("download-rate")?;
    if let Some(x) = m.opt_str("time-scale") {
        cfg.time_scale = x.parse().map_err(|_| format!("bad time scale '{x}'"))?;
    }
    if let Some(x) = m.opt_str("rng-seed") {
        cfg.rng_seed = Some(x.parse().map_err(|_| format!("bad seed '{x}'"))?);
    }
    cfg.picker = match m.opt_str("picker").as_deref() {
        None | Some("rarest") => p2plab::bittorrent::policy::pick::PickPolicy::RarestFirst,
        Some("random") => p2plab::bittorrent::policy::pick::PickPolicy::Random,
        Some("sequential") => p2plab::bittorrent::policy::pick::PickPolicy::Sequential,
        Some(x) => return Err(format!("unknown picker '{x}'")),
    };
    cfg.choker = match m.opt_str("choker").as_deref() {
        None | Some("tft") => p2plab::bittorrent::policy::choke::ChokePolicy::TitForTat,
        Some("all") => p2plab::bittorrent::policy::choke::ChokePolicy::UnchokeAll,
        Some(x) => return Err(format!("unknown choker '{x}'")),
    };
    Ok(cfg)
}

fn connect_peers(client: &Client, m: &getopts::Matches) -> Result<(), String> {
    for p in m.opt_strs("peer") {
        let addr = p2plab::net::parse_addr(&p).map_err(|e| e.to_string())?;
        client
            .connect(addr)
            .map_err(|e| format!("cannot connect to {p}: {e}"))?;
    }
    Ok(())
}

pub fn bt_seed(args: &[String]) -> Result<(), String> {
    let mut opts = Options::new();
    client_opts(&mut opts);
    let brief = "Usage: p2plab bt seed X.torrent FILE|FOLDER [--listen ADDR]";
    let Some(m) = parse(&mut opts, args, brief)? else {
        return Ok(());
    };
    let [torrent, data] = &m.free[..] else {
        return Err(opts.usage(brief));
    };
    let meta = load(torrent)?;
    let paths = seed_paths(&meta, Path::new(data));
    let (name, hash) = (meta.info.name.clone(), to_hex(&meta.info_hash));
    let client = Client::start(meta, &paths, false, client_config(&m)?)
        .map_err(|e| format!("cannot seed {data}: {e}"))?;
    connect_peers(&client, &m)?;
    let p = client.progress();
    println!(
        "seeding {name} ({}/{} pieces verified), info-hash {hash}, on {}",
        p.pieces,
        p.total_pieces,
        client.local_addr()
    );
    run_until_stopped();
    Ok(())
}

pub fn bt_get(args: &[String]) -> Result<(), String> {
    let mut opts = Options::new();
    client_opts(&mut opts);
    opts.optopt("o", "output", "download folder (default .)", "DIR");
    opts.optflag("s", "seed", "keep seeding after the download completes");
    opts.optopt(
        "t",
        "timeout",
        "give up after this many seconds (default: never)",
        "SECS",
    );
    let brief = "Usage: p2plab bt get X.torrent [-o DIR] [--peer ADDR] [--seed]";
    let Some(m) = parse(&mut opts, args, brief)? else {
        return Ok(());
    };
    let [torrent] = &m.free[..] else {
        return Err(opts.usage(brief));
    };
    let meta = load(torrent)?;
    let dir = m.opt_str("output").unwrap_or_else(|| ".".into());
    let paths = download_paths(&meta, Path::new(&dir));
    let timeout = match m.opt_str("timeout") {
        Some(t) => Some(Duration::from_secs(
            t.parse().map_err(|_| format!("bad timeout '{t}'"))?,
        )),
        None => None,
    };
    let started = Instant::now();
    let client = Client::start(meta, &paths, true, client_config(&m)?)
        .map_err(|e| format!("cannot start: {e}"))?;
    connect_peers(&client, &m)?;
    let tty = std::io::stdout().is_terminal();
    let first = client.progress();
    let mut last_print = Instant::now();
    let mut last_bytes = 0u64;
    loop {
        let done = client.wait_complete(Duration::from_millis(if tty { 200 } else { 1000 }));
        let p = client.progress();
        let rate = (p.downloaded - last_bytes) as f64 / last_print.elapsed().as_secs_f64() / MIB;
        (last_bytes, last_print) = (p.downloaded, Instant::now());
        print_progress(&p, rate, tty);
        if done {
            break;
        }
        if timeout.is_some_and(|t| started.elapsed() > t) {
            return Err(format!(
                "timed out with {} of {} pieces",
                p.pieces, p.total_pieces
            ));
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let got = client.progress().downloaded;
    println!(
        "done: {:.1} MiB in {secs:.2} s ({:.1} MiB/s), {} of {} pieces were already on disk, peak memory {} KiB (VmHWM)",
        got as f64 / MIB,
        got as f64 / MIB / secs,
        first.pieces,
        first.total_pieces,
        vm_hwm_kib().unwrap_or(0)
    );
    if m.opt_present("seed") {
        println!("seeding on {}", client.local_addr());
        run_until_stopped();
    }
    Ok(())
}

fn print_progress(p: &Progress, rate: f64, tty: bool) {
    let have = (p.total - p.left) as f64;
    let line = format!(
        "{:5.1}%  {:.1}/{:.1} MiB  {:7.1} MiB/s  peers {}  pieces {}/{}",
        100.0 * have / p.total as f64,
        have / MIB,
        p.total as f64 / MIB,
        rate,
        p.peers,
        p.pieces,
        p.total_pieces
    );
    if tty {
        let filled = (24.0 * have / p.total as f64) as usize;
        print!(
            "\r[{}{}] {line}   ",
            "#".repeat(filled),
            "-".repeat(24 - filled)
        );
        if p.complete {
            println!();
        }
        let _ = std::io::stdout().flush();
    } else {
        println!("{line}");
    }
}

/// Peak resident memory of this process (Linux `/proc/self/status`).
fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
