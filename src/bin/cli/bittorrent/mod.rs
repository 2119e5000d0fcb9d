//! `p2plab bt make|show|tracker|seed|get`: BitTorrent by hand, one node per terminal.
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | `bt make`, `bt show`, `bt tracker` |
//! | `client.rs` | `bt seed`, and the options of every node |
//! | `get.rs` | `bt get`: download, print progress |
//! | `source.rs` | what `bt get` is given: a file, a URL, a magnet link (metadata from peers) |

mod client;
mod get;
mod source;

pub use client::bt_seed;
pub use get::bt_get;

use super::common::{parse, run_until_stopped, shown};
use getopts::Options;
use p2plab::bittorrent::make::make_torrent;
use p2plab::bittorrent::metainfo::{Metainfo, DEFAULT_PIECE_LENGTH, MAX_TORRENT_BYTES};
use p2plab::bittorrent::tracker::site::publish::publish;
use p2plab::bittorrent::tracker::{Tracker, TrackerConfig, TrackerLimits};
use p2plab::share::ids::to_hex;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

pub(super) const MIB: f64 = 1024.0 * 1024.0;

pub(super) fn load(path: &str) -> Result<Metainfo, String> {
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
    opts.optopt(
        "p",
        "publish",
        "then upload it to a tracker's website (e.g. http://127.0.0.1:6969/)",
        "URL",
    );
    let brief = "Usage: p2plab bt make FILE|FOLDER -o X.torrent [--announce URL] [--piece-length N] [--publish URL]";
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
    let bytes = meta.to_bytes();
    std::fs::write(&out, &bytes).map_err(|e| format!("cannot write {out}: {e}"))?;
    println!(
        "wrote {out}: {} pieces, info-hash {}",
        meta.info.num_pieces(),
        to_hex(&meta.info_hash)
    );
    if let Some(site) = m.opt_str("publish") {
        let said = publish(&site, &bytes).map_err(|e| format!("publishing to {site}: {e}"))?;
        println!("published to {site}: {said}");
    }
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
    println!("name:         {}", shown(&i.name));
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
        meta.announce.as_deref().map_or("(none)".into(), shown)
    );
    if i.multi_file {
        println!("files:        {}", i.files.len());
        for f in &i.files {
            println!("  {:>12}  {}", f.length, shown(&f.path.join("/")));
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
    opts.optflag(
        "",
        "registered-only",
        "track only the torrents published to its website (others get a failure reason)",
    );
    let brief =
        "Usage: p2plab bt tracker [--listen ADDR] [--interval SECS] [--registered-only]\n\n\
                 It also serves the website (BT网站): GET / lists the torrents, POST /publish\n\
                 takes a .torrent (p2plab bt make FILE --publish http://ADDR/).";
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
    let registered_only = m.opt_present("registered-only");
    let lim = TrackerLimits {
        registered_only,
        ..TrackerLimits::default()
    };
    let tracker = Tracker::start_with(&listen, cfg, lim)
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    println!("tracker on {}", tracker.announce_url());
    println!(
        "website on {}{}",
        tracker.site_url(),
        if registered_only {
            " (registered torrents only)"
        } else {
            ""
        }
    );
    run_until_stopped();
    Ok(())
}
