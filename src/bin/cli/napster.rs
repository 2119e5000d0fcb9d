//! `p2plab napster server` and `p2plab napster peer`.

use super::common::{parse, shown, shown_path, wait_for_quit};
use getopts::Options;
use p2plab::napster::{DirectoryServer, Peer, PeerConfig, SearchHit, ServerOptions, DEFAULT_PORT};
use p2plab::net::parse_addr;
use p2plab::share::ids;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub fn server(args: &[String]) -> Result<(), String> {
    let mut opts = Options::new();
    opts.optopt(
        "l",
        "listen",
        &format!("address to listen on (default 127.0.0.1:{DEFAULT_PORT})"),
        "ADDR",
    );
    opts.optopt("", "max-conns", "peers served at once (default 4096)", "N");
    opts.optopt(
        "",
        "login-timeout",
        "seconds a new connection has to log in (default 10)",
        "S",
    );
    let Some(m) = parse(&mut opts, args, "Usage: p2plab napster server [options]")? else {
        return Ok(());
    };
    let listen = m
        .opt_str("listen")
        .unwrap_or_else(|| format!("127.0.0.1:{DEFAULT_PORT}"));
    let mut o = ServerOptions::default();
    if let Some(n) = m.opt_str("max-conns") {
        o.max_conns = n
            .parse()
            .map_err(|_| format!("--max-conns: '{n}' is not a number"))?;
    }
    if let Some(s) = m.opt_str("login-timeout") {
        let s: f64 = s
            .parse()
            .map_err(|_| format!("--login-timeout: '{s}' is not a number"))?;
        o.login_timeout = Duration::from_secs_f64(s);
    }
    let server = DirectoryServer::start(&listen, o)
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    println!(
        "napster directory on {} (type 'quit' or Ctrl-D to stop)",
        server.local_addr()
    );
    wait_for_quit();
    let (peers, files) = server.counts();
    println!("stopping with {peers} peers and {files} files in the directory");
    Ok(())
}

pub fn peer(args: &[String]) -> Result<(), String> {
    let mut opts = Options::new();
    opts.optopt(
        "s",
        "server",
        &format!("directory server (default 127.0.0.1:{DEFAULT_PORT})"),
        "ADDR",
    );
    opts.optopt("d", "share", "folder to share (default .)", "DIR");
    opts.optopt(
        "l",
        "listen",
        "address of our file server (default 127.0.0.1:0)",
        "ADDR",
    );
    opts.optopt("n", "nick", "nick name (default peer-<pid>)", "NICK");
    opts.optopt(
        "o",
        "out",
        "where downloads go (default: the share folder)",
        "DIR",
    );
    opts.optopt(
        "",
        "upload-kbps",
        "upload cap of our file server in KiB/s",
        "N",
    );
    opts.optopt(
        "",
        "search",
        "search once, print the results and exit",
        "WORDS",
    );
    opts.optflag("", "get-first", "with --search: download the first result");
    let Some(m) = parse(&mut opts, args, "Usage: p2plab napster peer [options]\n\nWithout --search, a prompt reads: search WORDS | get N | files | quit")? else {
        return Ok(());
    };
    let server = parse_addr(
        &m.opt_str("server")
            .unwrap_or_else(|| format!("127.0.0.1:{DEFAULT_PORT}")),
    )
    .map_err(|e| format!("--server: {e}"))?;
    let share = PathBuf::from(m.opt_str("share").unwrap_or_else(|| ".".into()));
    let out = m
        .opt_str("out")
        .map(PathBuf::from)
        .unwrap_or_else(|| share.clone());
    let upload_rate = match m.opt_str("upload-kbps") {
        Some(k) => Some(
            k.parse::<u64>()
                .map_err(|_| format!("--upload-kbps: '{k}' is not a number"))?
                * 1024,
        ),
        None => None,
    };
    let cfg = PeerConfig {
        server,
        nick: m
            .opt_str("nick")
            .unwrap_or_else(|| format!("peer-{}", std::process::id())),
        share_dir: share.clone(),
        listen: m.opt_str("listen").unwrap_or_else(|| "127.0.0.1:0".into()),
        upload_rate,
    };
    let mut peer = Peer::start(cfg).map_err(|e| e.to_string())?;
    println!(
        "logged in to {server} as {}, sharing {} files from {}, serving them on {}",
        peer.nick(),
        peer.folder().files().len(),
        share.display(),
        peer.data_addr()
    );
    if let Some(words) = m.opt_str("search") {
        let hits = search(&mut peer, &words)?;
        if m.opt_present("get-first") {
            let first = hits
                .first()
                .ok_or_else(|| format!("no results for '{words}'"))?;
            get(&mut peer, first, &out)?;
        }
        return Ok(());
    }
    prompt(&mut peer, &out)
}

fn search(peer: &mut Peer, words: &str) -> Result<Vec<SearchHit>, String> {
    let t = Instant::now();
    let hits = peer.search(words, 100).map_err(|e| shown(&e.to_string()))?;
    println!(
        "{} results in {:.1} ms",
        hits.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    for (i, h) in hits.iter().enumerate() {
        println!(
            "  [{i}] {:<40} {:>10} bytes  {} at {}",
            shown(&h.file.name),
            h.file.size,
            shown(&h.nick),
            h.ip
        );
    }
    Ok(hits)
}

fn get(peer: &mut Peer, hit: &SearchHit, out: &Path) -> Result<(), String> {
    let t = Instant::now();
    let size = hit.file.size.max(1);
    let mut last = Instant::now();
    let path = peer
        .download(hit, out, &mut |n| {
            if last.elapsed() > Duration::from_millis(200) {
                last = Instant::now();
                eprint!(
                    "\r  {:>5.1}%  {n} / {size} bytes",
                    n as f64 * 100.0 / size as f64
                );
            }
        })
        .map_err(|e| shown(&e.to_string()))?;
    let secs = t.elapsed().as_secs_f64();
    let sha1 = ids::sha1_file(&path).map_err(|e| e.to_string())?;
    eprint!("\r");
    println!(
        "got {} from {} in {secs:.2} s ({:.1} MiB/s), SHA-1 {} verified",
        shown_path(&path),
        shown(&hit.nick),
        hit.file.size as f64 / secs / 1048576.0,
        ids::to_hex(&sha1)
    );
    Ok(())
}

fn prompt(peer: &mut Peer, out: &Path) -> Result<(), String> {
    println!("commands: search WORDS | get N | files | quit");
    let mut last: Vec<SearchHit> = Vec::new();
    let stdin = io::stdin();
    loop {
        print!("napster> ");
        let _ = io::stdout().flush();
        let mut line = String::new();
        if stdin.lock().read_line(&mut line).unwrap_or(0) == 0 {
            return Ok(());
        }
        let line = line.trim();
        let (cmd, arg) = line.split_once(' ').unwrap_or((line, ""));
        let result = match cmd {
            "" => Ok(()),
            "search" => search(peer, arg).map(|h| last = h),
            "get" => match arg.trim().parse::<usize>().ok().and_then(|i| last.get(i)) {
                Some(hit) => get(peer, hit, out),
                None => Err(format!(
                    "'get N' takes a number from the last search (0..{})",
                    last.len()
                )),
            },
            "files" => {
                for f in peer.folder().files() {
                    println!(
                        "  {:<40} {:>10} bytes  sha1 {}",
                        f.name,
                        f.size,
                        ids::to_hex(&f.sha1)
                    );
                }
                Ok(())
            }
            "quit" | "exit" => return Ok(()),
            other => Err(format!(
                "unknown command '{other}'; try search, get, files, quit"
            )),
        };
        if let Err(e) = result {
            println!("error: {e}");
        }
    }
}
