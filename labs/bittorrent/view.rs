//! The live view of lab-bittorrent: log lines (picks, rechokes, completions) scroll,
//! and below them every peer's bitmap is redrawn in place on a terminal.

use p2plab::bittorrent::policy::pick::PickReason;
use p2plab::bittorrent::swarm::{name_of, PeerRow, Snapshot, Status};
use p2plab::bittorrent::NodeEvent;
use std::collections::HashMap;
use std::io::Write;

/// Rarest picks logged per peer (the rest are counted).
const RAREST_LOGGED: usize = 2;

/// The live view: log lines scroll above, the bitmap block is redrawn below them.
pub struct View {
    live: bool,
    drawn: usize,
    last_plain: f64,
    last_rechoke: HashMap<String, String>,
    random_logged: HashMap<String, usize>,
    rarest_logged: HashMap<String, usize>,
    pub pick_counts: HashMap<&'static str, usize>,
}

impl View {
    pub fn new(live: bool) -> View {
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

    pub fn show(&mut self, s: &Snapshot) {
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
fn bitmap_row(r: &PeerRow) -> String {
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
