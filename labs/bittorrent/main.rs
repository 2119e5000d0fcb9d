//! lab-bittorrent: a whole swarm of notes 6.5 on one machine — tracker, seed, 20 capped
//! peers — with each peer's bitmap (位图) drawn live, every rechoke (tit-for-tat 一报还一报,
//! optimistic unchoke 优化疏通) and the first random / later rarest picks (稀缺优先) logged,
//! and at the end the distribution time beside the notes' lower bound (6.2).
//! The swarm itself is `p2plab::bittorrent::swarm::run_swarm`. Handout: README.md here.
//!
//! `main` parses the options and calls the steps of [`Lab`] in the handout's order:
//! `setup` (the swarm of the options), `website::website` (step 0: publish, take the
//! torrent from the site, `website.rs`), `banner`, `swarm` (steps 1-3 of the handout:
//! join, rarest first, tit-for-tat, narrated live by `view.rs`) and `the_end` (step 4:
//! the table and the distribution time beside the bound).

use getopts::Options;
use p2plab::bittorrent::policy::choke::{ChokePolicy, OPTIMISTIC_PERIOD, RECHOKE_PERIOD};
use p2plab::bittorrent::policy::pick::PickPolicy;
use p2plab::bittorrent::swarm::{
    run_swarm, Kill, Leave, PeerSpec, Role, Snapshot, SwarmConfig, SwarmReport,
};
use p2plab::distribution::Bound;
use p2plab::rng::Rng;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

mod real_links;
mod scale;
mod summary;
mod view;
mod website;
use summary::{summary, MIB};
use view::View;

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let mut o = Options::new();
    o.optopt(
        "",
        "peers",
        "leechers (default 20, at most 128; with --scale the largest swarm)",
        "N",
    );
    o.optflag(
        "",
        "scale",
        "only the growth curve: swarms of 8..128 peers, F = --file-mb (default 8), time scale 0.05 (scale.rs)",
    );
    o.optopt("", "file-mb", "file size in MiB (default 32)", "MIB");
    o.optopt(
        "",
        "seed",
        "random seed: same seed, same story (default 7)",
        "N",
    );
    o.optopt(
        "",
        "time-scale",
        "protocol periods × this (default 0.1: rechoke every 1 s)",
        "X",
    );
    o.optopt(
        "",
        "seed-up",
        "the seed's upload cap u_s in KiB/s (default 4096)",
        "KIB",
    );
    o.optopt(
        "",
        "peer-up",
        "each peer's upload cap u_i in KiB/s (default 1024)",
        "KIB",
    );
    o.optopt(
        "",
        "peer-down",
        "each peer's download cap d_i in KiB/s (default none)",
        "KIB",
    );
    o.optopt(
        "",
        "picker",
        "rarest | random | sequential (default rarest)",
        "P",
    );
    o.optopt(
        "",
        "choker",
        "tft | all (all: unchoke everyone, the mistake)",
        "C",
    );
    o.optopt(
        "",
        "leave",
        "altruistic | selfish: what peers do when done",
        "L",
    );
    o.optopt(
        "",
        "free-riders",
        "peers that never upload (default 0)",
        "N",
    );
    o.optflag(
        "",
        "churn",
        "a quarter of the peers crash mid-run, as many new ones join",
    );
    o.optflag("", "plain", "plain lines even on a terminal");
    o.optflag(
        "",
        "netns",
        "then run the swarm again with every peer on its own host, rates on the links (network namespaces; root)",
    );
    let usage = "Usage: lab-bittorrent [options]   (make lab-bittorrent ARGS='...')";
    let m = match p2plab::opts::parse(&mut o, std::env::args().skip(1), usage) {
        Ok(Some(m)) => m,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => return p2plab::opts::finish("lab-bittorrent", Err(e)),
    };
    if m.opt_present("scale") {
        return p2plab::opts::finish("lab-bittorrent", run_scale(&m));
    }
    let lab = match Lab::setup(&m) {
        Ok(lab) => lab,
        Err(e) => {
            eprintln!("lab-bittorrent: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = website::website(lab.seed, &lab.work) {
        let _ = std::fs::remove_dir_all(&lab.work);
        return p2plab::opts::finish("lab-bittorrent", Err(e));
    }
    lab.banner();
    let result = lab.swarm().and_then(|(r, view)| {
        lab.the_end(&r, &view);
        if lab.netns {
            real_links::real_links(&lab.cfg, &lab.bound, &r)
        } else {
            Ok(())
        }
    });
    let _ = std::fs::remove_dir_all(&lab.work);
    p2plab::opts::finish("lab-bittorrent", result)
}

/// `--scale`: the growth curve of `scale.rs`, from the same options.
fn run_scale(m: &getopts::Matches) -> Result<(), String> {
    let num = |k: &str, d: f64| p2plab::opts::value(m, k, d);
    let max = scale::clamp_peers(num("peers", scale::MAX_PEERS as f64)? as usize);
    let file = (num("file-mb", 8.0)?.max(1.0) * MIB) as u64;
    let svg = std::path::Path::new("target/bittorrent-scale.svg");
    scale::run(
        max,
        file,
        num("time-scale", 0.05)?,
        num("seed", 7.0)? as u64,
        svg,
    )
}

/// The lab: one swarm, built from the options, run and measured.
struct Lab {
    cfg: SwarmConfig,
    /// The bound of the swarm as it starts (before churn adds peers).
    bound: Bound,
    seed: u64,
    leave: Leave,
    live: bool,
    /// Step 5: the same swarm again on real links (`--netns`).
    netns: bool,
    work: PathBuf,
}

impl Lab {
    /// The swarm of the options: N capped leechers, free-riders, churn.
    fn setup(m: &getopts::Matches) -> Result<Lab, String> {
        let num = |k: &str, d: f64| p2plab::opts::value(m, k, d);
        let n = scale::clamp_peers(num("peers", 20.0)? as usize);
        if n == 0 {
            return Err("--peers: expected at least 1 leecher".into());
        }
        let seed = num("seed", 7.0)? as u64;
        let work = std::env::temp_dir().join(format!("p2plab-lab-bt-{}", std::process::id()));
        let kib = |k: &str, d: f64| num(k, d).map(|v| Some((v * 1024.0) as u64));
        let mut cfg = SwarmConfig::uniform(
            n,
            (num("file-mb", 32.0)? * MIB) as u64,
            kib("seed-up", 4096.0)?,
            kib("peer-up", 1024.0)?,
            work.clone(),
        );
        if m.opt_present("peer-down") {
            let d = kib("peer-down", 0.0)?;
            cfg.peers.iter_mut().for_each(|p| p.download = d);
        }
        cfg.seed = seed;
        cfg.time_scale = num("time-scale", 0.1)?;
        cfg.timeout = Duration::from_secs(600);
        cfg.picker = match m.opt_str("picker").as_deref() {
            None | Some("rarest") => PickPolicy::RarestFirst,
            Some("random") => PickPolicy::Random,
            Some("sequential") => PickPolicy::Sequential,
            Some(other) => {
                return Err(format!(
                    "--picker: '{other}' is not rarest, random or sequential"
                ))
            }
        };
        match m.opt_str("choker").as_deref() {
            None | Some("tft") => {}
            Some("all") => cfg.choker = ChokePolicy::UnchokeAll,
            Some(other) => return Err(format!("--choker: '{other}' is not tft or all")),
        }
        let leave = match m.opt_str("leave").as_deref() {
            None | Some("altruistic") => Leave::Altruistic,
            Some("selfish") => Leave::Selfish,
            Some(other) => return Err(format!("--leave: '{other}' is not altruistic or selfish")),
        };
        cfg.peers.iter_mut().for_each(|p| p.leave = leave);
        let riders = num("free-riders", 0.0)? as usize;
        for (i, p) in cfg.peers.iter_mut().rev().take(riders).enumerate() {
            p.role = Role::FreeRider;
            p.name = format!("free{}", i + 1);
        }
        let bound = cfg.bound();
        if m.opt_present("churn") {
            churn(&mut cfg, n, seed, leave);
        }
        let live = std::io::stdout().is_terminal() && !m.opt_present("plain");
        Ok(Lab {
            cfg,
            bound,
            seed,
            leave,
            live,
            netns: m.opt_present("netns"),
            work,
        })
    }

    /// What runs, with the periods the constants of `policy/choke.rs` give.
    fn banner(&self) {
        let (cfg, bound) = (&self.cfg, &self.bound);
        println!(
            "BitTorrent swarm: tracker, 1 seed (u_s = {:.1} MiB/s), {} peers (u_i = {:.1} MiB/s), \
             one {:.0} MiB file in 256 KiB pieces; picker {:?}, choker {:?}, peers {:?}, seed {}",
            cfg.seed_upload.unwrap_or(0) as f64 / MIB,
            cfg.peers.len(),
            cfg.peers[0].upload.unwrap_or(0) as f64 / MIB,
            cfg.file_size as f64 / MIB,
            cfg.picker,
            cfg.choker,
            self.leave,
            self.seed,
        );
        println!(
            "rechoke every {:.1} s, optimistic unchoke every {:.1} s (the notes' {} s and {} s × {}); \
             the lower bound is {:.1} s ({})\n",
            RECHOKE_PERIOD.as_secs_f64() * cfg.time_scale,
            OPTIMISTIC_PERIOD.as_secs_f64() * cfg.time_scale,
            RECHOKE_PERIOD.as_secs(),
            OPTIMISTIC_PERIOD.as_secs(),
            cfg.time_scale,
            bound.seconds,
            bound.binding
        );
    }

    /// Steps 1-3 of the handout: join, rarest first, tit-for-tat, drawn live.
    fn swarm(&self) -> Result<(SwarmReport, View), String> {
        let mut view = View::new(self.live);
        let r = run_swarm(&self.cfg, Some(&mut |s: &Snapshot| view.show(s)))
            .map_err(|e| format!("the swarm could not run: {e}"))?;
        Ok((r, view))
    }

    /// Step 4 of the handout: who finished when, and the bound.
    fn the_end(&self, r: &SwarmReport, view: &View) {
        summary(r, view);
    }
}

/// A quarter of the peers crash, as many join: spread over the first 70 % of the bound.
fn churn(cfg: &mut SwarmConfig, n: usize, seed: u64, leave: Leave) {
    let bound = cfg.bound();
    let mut rng = Rng::new(seed);
    let k = (n / 4).max(1);
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    for &i in &order[..k] {
        let at = bound.seconds * (0.2 + 0.5 * rng.unit());
        cfg.peers[i].kill = Some(Kill::At(Duration::from_secs_f64(at)));
    }
    for j in 0..k {
        let mut p = PeerSpec::leecher(&format!("N{:02}", j + 1), cfg.peers[0].upload);
        p.leave = leave;
        p.join_after = Duration::from_secs_f64(bound.seconds * (0.2 + 0.5 * rng.unit()));
        cfg.peers.push(p);
    }
}
