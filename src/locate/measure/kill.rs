//! Killing the special node (单点故障): what the directory, a leader or a quarter of the
//! ring takes with it.
//!
//! Three numbers, each a user's experience: of the searches made at once, how many
//! failed; how long until a search for a popular song succeeds again; and of the songs
//! that some live peer still holds, how many can no longer be found at all.

use super::{judged_search, note, Column, MeasureConfig, World};
use crate::locate::{keywords, Design, LocateError};
use std::time::{Duration, Instant};

/// What killing the special node did.
#[derive(Debug, Clone, PartialEq)]
pub struct KillResult {
    /// The notes' words for what was killed, and how many nodes that was.
    pub what: String,
    pub nodes: usize,
    /// Searches made right after, and how many found no live holder.
    pub tried: usize,
    pub failed: usize,
    /// From the kill until a search found a live holder again; `None`: not within the limit.
    pub recovered: Option<Duration>,
    /// Songs still held by a live peer that were looked for, and how many were not found.
    pub checked: usize,
    pub lost: usize,
}

/// One search after the kill from the `turn`-th live peer (users all over the network
/// search at once); a searcher that died with the special node is dropped.
fn try_search(
    d: &mut dyn Design,
    world: &mut World,
    col: &mut Column,
    title: &str,
    turn: usize,
) -> bool {
    while !world.live.is_empty() {
        let from = *world
            .live
            .iter()
            .nth(turn % world.live.len())
            .expect("not empty");
        match judged_search(d, world, col, from, title) {
            Err(LocateError::UnknownPeer(p)) => {
                world.live.remove(&p);
                world.gone.insert(p);
            }
            Ok(found) => return found,
            Err(_) => return false,
        }
    }
    false
}

/// Titles of songs some live peer holds, most popular first.
fn held_titles(world: &World) -> Vec<String> {
    (0..world.w.songs.len())
        .filter(|j| world.live.iter().any(|p| world.w.holds[*p].contains(j)))
        .filter_map(|j| keywords(&world.w.songs[j].name).into_iter().next())
        .collect()
}

pub(crate) fn kill(
    d: &mut dyn Design,
    world: &mut World,
    col: &mut Column,
    cfg: &MeasureConfig,
) -> Option<KillResult> {
    let start = Instant::now();
    let killed = match d.kill_special() {
        Ok(k) => k,
        Err(e) => {
            note(col, format!("no special node to kill: {e}"));
            return None;
        }
    };
    for p in &killed.peers {
        world.live.remove(p);
        world.gone.insert(*p);
    }
    let titles = held_titles(world);
    let mut r = KillResult {
        what: killed.what,
        nodes: killed.nodes,
        tried: 0,
        failed: 0,
        recovered: None,
        checked: 0,
        lost: 0,
    };
    if titles.is_empty() {
        return Some(r);
    }
    // At once: the searches users were making when it died, popular songs first.
    for i in 0..cfg.kill_searches {
        let title = &titles[i % titles.len().min(8)];
        r.tried += 1;
        r.failed += usize::from(!try_search(d, world, col, title, i));
    }
    // Recovery: the most popular song, until someone finds it again.
    loop {
        if try_search(d, world, col, &titles[0], 0) {
            r.recovered = Some(start.elapsed());
            break;
        }
        if start.elapsed() >= cfg.recover_limit {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Loss: the rarest songs are the ones a dead index takes with it.
    for (i, title) in titles.iter().rev().take(cfg.loss_checks).enumerate() {
        r.checked += 1;
        r.lost += usize::from(!try_search(d, world, col, title, i));
    }
    Some(r)
}
