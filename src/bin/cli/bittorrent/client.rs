//! `p2plab bt seed`, and the options every node takes (`bt seed`, `bt get`).

use super::super::common::{parse, run_until_stopped, shown};
use super::load;
use getopts::Options;
use p2plab::bittorrent::mse::Policy;
use p2plab::bittorrent::node::{seed_paths, Client, ClientConfig};
use p2plab::share::ids::to_hex;
use std::path::Path;

pub(super) fn client_opts(opts: &mut Options) {
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
        "most block requests in flight per peer (default 64; 1 = stop-and-wait)",
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
    opts.optopt(
        "",
        "encryption",
        "MSE: prefer (default: encrypted first, plaintext if the peer refuses) | require | off",
        "E",
    );
}

pub(super) fn client_config(m: &getopts::Matches) -> Result<ClientConfig, String> {
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
    cfg.encryption = match m.opt_str("encryption") {
        Some(e) => e.parse()?,
        None => Policy::Prefer, // as real clients: MSE first, plaintext if refused
    };
    Ok(cfg)
}

pub(super) fn connect_peers(client: &Client, m: &getopts::Matches) -> Result<(), String> {
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
    let (name, hash) = (shown(&meta.info.name), to_hex(&meta.info_hash));
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
