//! lab-bittorrent: a whole swarm of notes 6.5 on one machine — tracker, seed, 20 capped
//! peers — with each peer's bitmap (位图) drawn live, every rechoke (tit-for-tat 一报还一报,
//! optimistic unchoke 优化疏通) and the first random / later rarest picks (稀缺优先) logged,
//! and at the end the distribution time beside the notes' lower bound (6.2).
//! The swarm itself is `p2plab::bittorrent::swarm::run_swarm`. Handout: README.md here.

use getopts::Options;
use p2plab::bittorrent::choker::ChokePolicy;
use p2plab::bittorrent::picker::{PickPolicy, PickReason};
use p2plab::bittorrent::swarm::{
    name_of, run_swarm, Kill, Leave, PeerSpec, Role, Snapshot, Status, SwarmConfig, SwarmReport,
};
use p2plab::bittorrent::NodeEvent;
use p2plab::report::Table;
use p2plab::rng::Rng;
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

const MIB: f64 = (1 << 20) as f64;
/// Rarest picks logged per peer (the rest are counted).
const RAREST_LOGGED: usize = 2;

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let mut o = Options::new();
    o.optopt("", "peers", "leechers (default 20)", "N");
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
    o.optflag("h", "help", "print this help");
    let usage = "Usage: lab-bittorrent [options]   (make lab-bittorrent ARGS='...')";
    let m = match o.parse(std::env::args().skip(1)) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}\n{}", o.usage(usage));
            return ExitCode::FAILURE;
        }
    };
    if m.opt_present("help") {
        println!("{}", o.usage(usage));
        return ExitCode::SUCCESS;
    }
    let num = |k: &str, d: f64| m.opt_str(k).and_then(|v| v.parse().ok()).unwrap_or(d);
    let n = num("peers", 20.0) as usize;
    let seed = num("seed", 7.0) as u64;
    let work = std::env::temp_dir().join(format!("p2plab-lab-bt-{}", std::process::id()));
    let kib = |k: &str, d: f64| Some((num(k, d) * 1024.0) as u64);
    let mut cfg = SwarmConfig::uniform(
        n,
        (num("file-mb", 32.0) * MIB) as u64,
        kib("seed-up", 4096.0),
        kib("peer-up", 1024.0),
        work.clone(),
    );
    if m.opt_present("peer-down") {
        let d = kib("peer-down", 0.0);
        cfg.peers.iter_mut().for_each(|p| p.download = d);
    }
    cfg.seed = seed;
    cfg.time_scale = num("time-scale", 0.1);
    cfg.timeout = Duration::from_secs(600);
    cfg.picker = match m.opt_str("picker").as_deref() {
        Some("random") => PickPolicy::Random,
        Some("sequential") => PickPolicy::Sequential,
        _ => PickPolicy::RarestFirst,
    };
    if m.opt_str("choker").as_deref() == Some("all") {
        cfg.choker = ChokePolicy::UnchokeAll;
    }
    let leave = match m.opt_str("leave").as_deref() {
        Some("selfish") => Leave::Selfish,
        _ => Leave::Altruistic,
    };
    cfg.peers.iter_mut().for_each(|p| p.leave = leave);
    let riders = num("free-riders", 0.0) as usize;
    for (i, p) in cfg.peers.iter_mut().rev().take(riders).enumerate() {
        p.role = Role::FreeRider;
        p.name = format!("free{}", i + 1);
    }
    let bound = cfg.bound();
    if m.opt_present("churn") {
        // Crashes and arrivals spread over the first 70% of the bound.
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
    println!(
        "BitTorrent swarm: tracker, 1 seed (u_s = {:.1} MiB/s), {} peers (u_i = {:.1} MiB/s), \
         one {:.0} MiB file in 256 KiB pieces; picker {:?}, choker {:?}, peers {:?}, seed {seed}",
        cfg.seed_upload.unwrap_or(0) as f64 / MIB,
        cfg.peers.len(),
        cfg.peers[0].upload.unwrap_or(0) as f64 / MIB,
        cfg.file_size as f64 / MIB,
        cfg.picker,
        cfg.choker,
        leave,
    );
    println!(
        "rechoke every {:.1} s, optimistic unchoke every {:.1} s (the notes' 10 s and 30 s × {}); \
         the lower bound is {:.1} s ({})\n",
        10.0 * cfg.time_scale,
        30.0 * cfg.time_scale,
        cfg.time_scale,
        bound.seconds,
        bound.binding
    );
    let live = std::io::stdout().is_terminal() && !m.opt_present("plain");
    let mut view = View::new(live);
    let result = run_swarm(&cfg, Some(&mut |s: &Snapshot| view.show(s)));
    let _ = std::fs::remove_dir_all(&work);
    match result {
        Ok(r) => {
            summary(&r, &view);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("lab-bittorrent: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The live view: log lines scroll above, the bitmap block is redrawn below them.
struct View {
    live: bool,
    drawn: usize,
    last_plain: f64,
    last_rechoke: HashMap<String, String>,
    random_logged: HashMap<String, usize>,
    rarest_logged: HashMap<String, usize>,
    pick_counts: HashMap<&'static str, usize>,
}

impl View {
    fn new(live: bool) -> View {
        View {
            live,
            drawn: 0,
            last_plain: -10.0,
            last_rechoke: HashMap::new(),
            random_logged: HashMap::new(),
            rarest_logged: HashMap::new(),
            pick_counts: HashMap::new(),
        }
    }

    fn show(&mut self, s: &Snapshot) {
        let t = s.elapsed.as_secs_f64();
        let mut out = String::new();
        if self.live && self.drawn > 0 {
            out.push_str(&format!("\x1b[{}A\x1b[J", self.drawn)); // back up over the bitmaps
        }
        for (who, e) in &s.events {
            if let Some(line) = self.log_line(t, who, e) {
                out.push_str(&line);
                out.push('\n');
            }
        }
        let rows: Vec<String> = s.rows.iter().map(bitmap_row).collect();
        if self.live {
            self.drawn = rows.len() + 1;
            out.push_str(&format!("t = {t:5.1} s   bitmaps (█ have, ░ missing):\n"));
            for r in &rows {
                out.push_str(r);
                out.push('\n');
            }
        } else if t - self.last_plain >= 5.0 {
            self.last_plain = t;
            out.push_str(&format!("-- t = {t:.1} s, bitmaps:\n"));
            for r in &rows {
                out.push_str(r);
                out.push('\n');
            }
        }
        print!("{out}");
        let _ = std::io::stdout().flush();
    }

    fn log_line(&mut self, t: f64, who: &str, e: &NodeEvent) -> Option<String> {
        match e {
            NodeEvent::Picked { piece, reason } => {
                *self.pick_counts.entry(kind(reason)).or_default() += 1;
                match reason {
                    PickReason::RandomFirst => {
                        let c = self.random_logged.entry(who.into()).or_default();
                        *c += 1;
                        (*c <= 4)
                            .then(|| format!("{t:5.1}s  {who:>5} random pick #{c}: piece {piece}"))
                    }
                    PickReason::Rarest { availability } => {
                        let c = self.rarest_logged.entry(who.into()).or_default();
                        *c += 1;
                        (*c <= RAREST_LOGGED).then(|| {
                            format!(
                                "{t:5.1}s  {who:>5} rarest pick: piece {piece}, held by {availability} of its neighbours"
                            )
                        })
                    }
                    _ => None,
                }
            }
            NodeEvent::Rechoke {
                seeding,
                regular,
                optimistic,
            } => {
                let names: Vec<String> = regular.iter().map(name_of).collect();
                let opt = optimistic
                    .as_ref()
                    .map(name_of)
                    .unwrap_or_else(|| "-".into());
                let key = format!("top {:?} optimistic {opt}", names);
                // Only changes: a stable top 4 is the point of tit-for-tat.
                if self.last_rechoke.get(who) == Some(&key) {
                    return None;
                }
                self.last_rechoke.insert(who.into(), key);
                let by = if *seeding {
                    "upload rate"
                } else {
                    "download rate"
                };
                Some(format!(
                    "{t:5.1}s  {who:>5} rechoke ({by}): top [{}]  optimistic {opt}",
                    names.join(" ")
                ))
            }
            NodeEvent::Completed => Some(format!("{t:5.1}s  {who:>5} has every piece")),
        }
    }
}

fn kind(r: &PickReason) -> &'static str {
    match r {
        PickReason::RandomFirst => "random first",
        PickReason::Rarest { .. } => "rarest",
        PickReason::Random => "random",
        PickReason::Sequential => "sequential",
    }
}

/// One peer's bitmap: 0/1 for up to 64 pieces, shaded blocks beyond.
fn bitmap_row(r: &p2plab::bittorrent::swarm::PeerRow) -> String {
    let n = r.bitfield.len();
    let cells = n.min(64);
    let per = n.div_ceil(cells);
    let mut line = String::with_capacity(cells * 3);
    for c in 0..cells {
        let range = c * per..((c + 1) * per).min(n);
        let have = range.clone().filter(|&i| r.bitfield.has(i)).count();
        let frac = have as f64 / range.len().max(1) as f64;
        line.push(if n <= 64 {
            if have > 0 {
                '1'
            } else {
                '0'
            }
        } else {
            [' ', '░', '▒', '▓', '█'][(frac * 4.0).round() as usize]
        });
    }
    let status = match r.status {
        Status::NotYet => "not yet",
        Status::Running => "",
        Status::Done => "done",
        Status::Left => "left",
        Status::Killed => "KILLED",
    };
    format!(
        "{:>5} |{line}| {:3.0}% {status}",
        r.name,
        100.0 * r.bitfield.count() as f64 / n.max(1) as f64
    )
}

fn summary(r: &SwarmReport, view: &View) {
    println!("\nPieces picked, by reason: {:?}", view.pick_counts);
    let mut t = Table::new(&[
        "peer",
        "role",
        "joined s",
        "done s",
        "up MiB",
        "down MiB",
        "share ratio",
        "SHA-1",
    ]);
    t.row(&[
        &"seed",
        &"seed",
        &"0.0",
        &"-",
        &format!("{:.1}", r.seed_uploaded as f64 / MIB),
        &"0.0",
        &"-",
        &"-",
    ]);
    for p in &r.peers {
        let done = match (p.completed, p.killed) {
            (_, true) => "killed".to_string(),
            (Some(d), _) => format!("{:.1}", d.as_secs_f64()),
            (None, _) => "never".into(),
        };
        let ratio = if p.downloaded > 0 {
            format!("{:.2}", p.uploaded as f64 / p.downloaded as f64)
        } else {
            "-".into()
        };
        let role = match p.role {
            Role::Leecher => "peer",
            Role::FreeRider => "free-rider",
            Role::Corrupt => "corrupt",
        };
        let sha = match p.sha1_ok {
            Some(true) => "ok",
            Some(false) => "WRONG",
            None => "-",
        };
        t.row(&[
            &p.name,
            &role,
            &format!("{:.1}", p.joined.as_secs_f64()),
            &done,
            &format!("{:.1}", p.uploaded as f64 / MIB),
            &format!("{:.1}", p.downloaded as f64 / MIB),
            &ratio,
            &sha,
        ]);
    }
    t.print();
    let d = r.distribution_time.map(|d| d.as_secs_f64());
    println!();
    let mut s = Table::new(&["figure", "seconds"]);
    s.row(&[
        &"distribution time (last surviving peer done)",
        &d.map_or("never".into(), |d| format!("{d:.1}")),
    ]);
    s.row(&[
        &format!(
            "P2P lower bound max{{F/us, F/dmin, NF/(us+Σui)}} ({})",
            r.bound.binding
        ),
        &format!("{:.1}", r.bound.seconds),
    ]);
    s.row(&[
        &"measured / bound",
        &d.map_or("-".into(), |d| format!("{:.2}", d / r.bound.seconds)),
    ]);
    s.print();
    println!(
        "every completed copy has the seed's SHA-1: {}",
        if r.all_verified { "yes" } else { "NO" }
    );
}
