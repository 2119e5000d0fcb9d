//! `p2plab gnutella node` (a servent with a prompt) and `p2plab gnutella cache`.

use super::common::{parse, shown, shown_path, wait_for_quit};
use getopts::Options;
use p2plab::gnutella::{Config, Hit, HostCache, Servent, DEFAULT_DEGREE, DEFAULT_TTL};
use p2plab::net::parse_addr;
use p2plab::share::{fetch, ids, Folder};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const NODE_USAGE: &str = "\
Usage: p2plab gnutella node [--listen ADDR] [--share DIR] [--peer ADDR]... [--cache URL]
                            [--hosts FILE] [--degree D] [--run CMD]... [--batch]

Prompt commands:
  query WORDS [ttl]   flood a Query (default TTL 7); hits print as they arrive, numbered
  ping [ttl]          flood a Ping; Pongs fill the host list
  neighbours          the open connections
  hosts               known servent addresses
  get N               download result N straight from its servent (HTTP)
  stats               counters: received, sent, duplicates, ...
  wait SECONDS        pause (for scripts: let hits arrive)
  leave               Bye to every neighbour, save the host list, exit
  quit                exit without Bye";

type Results = Arc<Mutex<Vec<(Hit, usize)>>>;

pub fn gnutella_node(args: &[String]) -> Result<(), String> {
    let mut o = Options::new();
    o.optopt(
        "l",
        "listen",
        "Gnutella address (default 127.0.0.1:0)",
        "ADDR",
    );
    o.optopt(
        "",
        "http",
        "HTTP address for downloads (default 127.0.0.1:0)",
        "ADDR",
    );
    o.optopt("s", "share", "folder to share (default .)", "DIR");
    o.optmulti(
        "p",
        "peer",
        "servent to connect to first (repeatable)",
        "ADDR",
    );
    o.optopt(
        "c",
        "cache",
        "host cache URL, e.g. http://127.0.0.1:8080/",
        "URL",
    );
    o.optopt(
        "",
        "hosts",
        "host list file, read at start and written on leave",
        "FILE",
    );
    o.optopt(
        "d",
        "degree",
        "neighbours to keep (default 4, at most 10)",
        "D",
    );
    o.optopt(
        "o",
        "downloads",
        "where `get` saves files (default .)",
        "DIR",
    );
    o.optmulti(
        "r",
        "run",
        "run a prompt command at start (repeatable)",
        "CMD",
    );
    o.optflag(
        "b",
        "batch",
        "exit after the --run commands instead of prompting",
    );
    let Some(m) = parse(&mut o, args, NODE_USAGE)? else {
        return Ok(());
    };
    let share = m.opt_str("share").unwrap_or_else(|| ".".into());
    let folder =
        Folder::scan(Path::new(&share)).map_err(|e| format!("cannot scan {share}: {e}"))?;
    let mut cfg = Config::new(Arc::new(folder));
    cfg.listen = m.opt_str("listen").unwrap_or(cfg.listen);
    cfg.http_listen = m.opt_str("http").unwrap_or(cfg.http_listen);
    cfg.cache = m.opt_str("cache");
    cfg.host_list = m.opt_str("hosts").map(PathBuf::from);
    cfg.degree = m
        .opt_get_default("degree", DEFAULT_DEGREE)
        .map_err(|e| format!("--degree: {e}"))?;
    for p in m.opt_strs("peer") {
        cfg.peers
            .push(parse_addr(&p).map_err(|e| format!("--peer {p}: {e}"))?);
    }
    let out = PathBuf::from(m.opt_str("downloads").unwrap_or_else(|| ".".into()));
    let files = cfg.share.files().len();
    let servent = Servent::start(cfg).map_err(|e| format!("cannot start: {e}"))?;
    println!(
        "servent {} sharing {files} files from {share} (downloads on http://{}); type 'help'",
        servent.addr(),
        servent.http_addr()
    );

    let results: Results = Arc::new(Mutex::new(Vec::new()));
    let printer = {
        let (hits, results) = (servent.hits().clone(), results.clone());
        std::thread::Builder::new()
            .name("gnutella-hits".into())
            .spawn(move || print_hits(hits, results))
            .map_err(|e| e.to_string())?
    };
    let mut servent = Some(servent);
    for cmd in m.opt_strs("run") {
        println!("> {cmd}");
        if !command(&mut servent, &cmd, &results, &out) {
            break;
        }
    }
    if !m.opt_present("batch") && servent.is_some() {
        let stdin = std::io::stdin();
        print_prompt();
        for line in stdin.lock().lines() {
            let Ok(line) = line else { break };
            if !command(&mut servent, &line, &results, &out) {
                break;
            }
            print_prompt();
        }
    }
    if let Some(mut s) = servent.take() {
        s.stop();
    }
    let _ = printer.join();
    Ok(())
}

fn print_prompt() {
    print!("gnutella> ");
    let _ = std::io::stdout().flush();
}

fn print_hits(hits: crossbeam_channel::Receiver<Hit>, results: Results) {
    for hit in hits.iter() {
        let mut all = results.lock().unwrap_or_else(|p| p.into_inner());
        for i in 0..hit.results.len() {
            let r = &hit.results[i];
            println!(
                "  [{}] {} ({} bytes) at http://{} ({} hops)",
                all.len(),
                shown(&r.name),
                r.size,
                hit.http,
                hit.hops
            );
            all.push((hit.clone(), i));
        }
    }
}

/// Runs one prompt command; false means exit.
fn command(servent: &mut Option<Servent>, line: &str, results: &Results, out: &Path) -> bool {
    let Some(s) = servent.as_ref() else {
        return false;
    };
    let words: Vec<&str> = line.split_whitespace().collect();
    let ttl_last = |w: &[&str]| -> (String, u8) {
        match w.last().and_then(|t| t.parse::<u8>().ok()) {
            Some(t) if w.len() > 1 => (w[..w.len() - 1].join(" "), t),
            _ => (w.join(" "), DEFAULT_TTL),
        }
    };
    match words.split_first() {
        None => {}
        Some((&"query", rest)) if !rest.is_empty() => {
            let (text, ttl) = ttl_last(rest);
            s.query(&text, ttl);
            println!("query '{text}' flooded with TTL {ttl}");
        }
        Some((&"ping", rest)) => {
            let ttl = rest
                .first()
                .and_then(|t| t.parse().ok())
                .unwrap_or(DEFAULT_TTL);
            s.ping(ttl);
            println!("ping flooded with TTL {ttl}");
        }
        Some((&"neighbours", _)) | Some((&"neighbors", _)) => {
            for n in s.neighbours() {
                println!("  {n}");
            }
        }
        Some((&"hosts", _)) => {
            for h in s.known_hosts() {
                println!("  {h}");
            }
        }
        Some((&"stats", _)) => println!("  {:?}", s.stats()),
        Some((&"wait", rest)) => {
            let secs: f64 = rest.first().and_then(|t| t.parse().ok()).unwrap_or(1.0);
            std::thread::sleep(Duration::from_secs_f64(secs.clamp(0.0, 600.0)));
        }
        Some((&"get", [n])) => get(n, results, out),
        Some((&"leave", _)) => {
            if let Some(s) = servent.take() {
                s.leave();
            }
            println!("left");
            return false;
        }
        Some((&"quit", _)) | Some((&"exit", _)) => return false,
        _ => println!("{NODE_USAGE}"),
    }
    true
}

fn get(n: &str, results: &Results, out: &Path) {
    let entry = n.parse::<usize>().ok().and_then(|i| {
        results
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(i)
            .cloned()
    });
    let Some((hit, i)) = entry else {
        return println!("no result {n}");
    };
    let Some(d) = hit.download(i) else {
        return println!("result {n} has no urn:sha1 to check against");
    };
    match fetch(&d, out, &mut |_| {}) {
        Ok(p) => println!(
            "saved {} ({} bytes, SHA-1 {} checked)",
            shown_path(&p),
            d.size,
            ids::to_hex(&d.sha1)
        ),
        Err(e) => println!("download failed: {}", shown(&e.to_string())),
    }
}

pub fn gnutella_cache(args: &[String]) -> Result<(), String> {
    let mut o = Options::new();
    o.optopt(
        "l",
        "listen",
        "address to serve on (default 127.0.0.1:0)",
        "ADDR",
    );
    let Some(m) = parse(&mut o, args, "Usage: p2plab gnutella cache [--listen ADDR]")? else {
        return Ok(());
    };
    let listen = m.opt_str("listen").unwrap_or_else(|| "127.0.0.1:0".into());
    let cache = HostCache::start(&listen).map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    println!(
        "host cache on {} (?hostfile=1, ?ip=ip:port, ?ping=1); give servents --cache {}",
        cache.url(),
        cache.url()
    );
    wait_for_quit();
    Ok(())
}
