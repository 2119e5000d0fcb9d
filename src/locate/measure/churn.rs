//! Joining and leaving, measured (对等方的加入和离开): the messages one join or leave
//! costs, and how long until the network's answers agree with it.
//!
//! "Findable" is checked the way a user would: another peer searches for the newcomer's
//! rarest song until the newcomer is named. "Gone" is the opposite: searches until the
//! leaver is no longer named. These probe searches are not counted as the join's cost,
//! nor is upkeep (a ring's stabilize rounds, keep-alives) that ran while it joined.

use super::{note, used, Column, MeasureConfig, World};
use crate::locate::{keywords, total_msgs, Design, PeerId};
use std::time::{Duration, Instant};

/// Pause between probe searches: short beside every design's timers, long enough not to
/// flood the network with probes.
const PROBE_EVERY: Duration = Duration::from_millis(20);

/// The one-word title of `p`'s rarest song (held by the fewest peers), if it has any.
fn rarest_title(world: &World, p: PeerId) -> Option<String> {
    let holders = |j: usize| world.w.holds.iter().filter(|h| h.contains(&j)).count();
    let j = *world.w.holds[p].iter().min_by_key(|&&j| holders(j))?;
    keywords(&world.w.songs[j].name).into_iter().next()
}

/// Searches for `title` from another live peer until `p` is named (`want`) or not
/// named (`!want`); the time from `start`, or `None` after the limit.
fn probe(
    d: &mut dyn Design,
    world: &World,
    p: PeerId,
    title: &str,
    want: bool,
    start: Instant,
    limit: Duration,
) -> Option<Duration> {
    let from = world.searcher(p)?;
    loop {
        let named = d
            .search(from, title)
            .map(|got| got.iter().any(|prov| prov.peer == p))
            // A failed search names no one: fine for "gone", not yet for "findable".
            .unwrap_or(false);
        if named == want {
            return Some(start.elapsed());
        }
        if start.elapsed() >= limit {
            return None;
        }
        std::thread::sleep(PROBE_EVERY);
    }
}

pub(crate) fn join(
    d: &mut dyn Design,
    world: &mut World,
    col: &mut Column,
    p: PeerId,
    cfg: &MeasureConfig,
) {
    let before = d.traffic();
    let start = Instant::now();
    if let Err(e) = d.join(p, &world.w.files_of(p)) {
        note(col, format!("peer {p} could not join: {e}"));
        return;
    }
    col.join_msgs
        .add(total_msgs(&used(&d.traffic(), &before)) as f64);
    world.live.insert(p);
    world.gone.remove(&p);
    let Some(title) = rarest_title(world, p) else {
        return;
    };
    match probe(d, world, p, &title, true, start, cfg.settle_limit) {
        Some(t) => col.join_secs.add(t.as_secs_f64()),
        None => note(
            col,
            format!(
                "peer {p} joined, but '{title}' did not find it within {:?}",
                cfg.settle_limit
            ),
        ),
    }
}

pub(crate) fn leave(
    d: &mut dyn Design,
    world: &mut World,
    col: &mut Column,
    p: PeerId,
    cfg: &MeasureConfig,
) {
    let before = d.traffic();
    let start = Instant::now();
    if let Err(e) = d.leave(p) {
        note(col, format!("peer {p} could not leave: {e}"));
    }
    col.leave_msgs
        .add(total_msgs(&used(&d.traffic(), &before)) as f64);
    world.live.remove(&p);
    world.gone.insert(p);
    if let Some(title) = rarest_title(world, p) {
        match probe(d, world, p, &title, false, start, cfg.settle_limit) {
            Some(t) => col.leave_secs.add(t.as_secs_f64()),
            None => note(
                col,
                format!(
                    "peer {p} left, but '{title}' still named it after {:?}",
                    cfg.settle_limit
                ),
            ),
        }
    }
}

pub(crate) fn crash(
    d: &mut dyn Design,
    world: &mut World,
    col: &mut Column,
    p: PeerId,
    cfg: &MeasureConfig,
) {
    let start = Instant::now();
    if let Err(e) = d.crash(p) {
        note(col, format!("peer {p} could not crash: {e}"));
    }
    world.live.remove(&p);
    world.gone.insert(p);
    let limit = d.crash_timeout() + cfg.settle_limit;
    if let Some(title) = rarest_title(world, p) {
        match probe(d, world, p, &title, false, start, limit) {
            Some(t) => col.crash_secs.add(t.as_secs_f64()),
            None => note(
                col,
                format!("peer {p} crashed, but '{title}' still named it after {limit:?}"),
            ),
        }
    }
}
