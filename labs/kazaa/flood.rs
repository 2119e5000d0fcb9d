//! The other side of the comparison: the same peers, the same files and the same
//! queries on a Gnutella overlay (notes 6.3 完全分布式), through the gnutella module's
//! public API only. Architectures never import each other; a lab may use both.

// Shared by lab-kazaa and bench-kazaa; each uses a part.
#![allow(dead_code)]

use super::world::Measure;
use crossbeam_channel::{unbounded, Receiver};
use p2plab::gnutella::observe::collect;
use p2plab::gnutella::overlay::random_regular;
use p2plab::gnutella::{Config, Servent, Trace};
use p2plab::share::Folder;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Neighbours per servent (Gnutella's usual few, "少于10个").
pub const DEGREE: usize = 4;
/// The TTL Gnutella servents gave their queries.
pub const TTL: u8 = p2plab::gnutella::DEFAULT_TTL;

pub struct Overlay {
    pub servents: Vec<Servent>,
    trace: Receiver<Trace>,
}

/// One servent per share folder (node i of the KaZaA world becomes servent i) plus
/// `bare` servents that share nothing (the KaZaA leaders' machines), on a random
/// overlay of degree [`DEGREE`].
pub fn build(shares: &[PathBuf], bare: usize, seed: u64) -> Result<Overlay, String> {
    let (tx, trace) = unbounded();
    let empty = std::env::temp_dir();
    let mut servents = Vec::new();
    for i in 0..shares.len() + bare {
        let folder = match shares.get(i) {
            Some(dir) => Folder::scan(dir).map_err(|e| e.to_string())?,
            None => Folder::empty(&empty),
        };
        let mut cfg = Config::new(Arc::new(folder));
        cfg.degree = 0; // the overlay below, not the connector, decides the edges
        cfg.trace = Some(tx.clone());
        cfg.seed = seed + i as u64;
        servents.push(Servent::start(cfg).map_err(|e| e.to_string())?);
    }
    for (a, b) in random_regular(servents.len(), DEGREE, seed) {
        servents[a].connect(servents[b].addr())?;
    }
    // Connection events are not part of any flood: drop them.
    while trace.try_recv().is_ok() {}
    Ok(Overlay { servents, trace })
}

/// Floods each query from the servent standing for the asking node and waits until its
/// flood is over (every copy sent has arrived), then counts what it cost.
pub fn workload(o: &Overlay, work: &[(usize, String)], ttl: u8) -> Result<Measure, String> {
    let (mut messages, mut touched, mut dups, mut hits, mut found) =
        (0u64, 0usize, 0u64, 0usize, 0usize);
    let t = Instant::now();
    for (n, text) in work {
        let s = &o.servents[*n];
        let guid = s.query(text, ttl);
        let flood = collect(&o.trace, guid, Duration::from_secs(30))
            .map_err(|_| format!("the flood of {text:?} did not end"))?;
        messages += flood.messages + flood.reply_messages;
        touched += flood.reached.len();
        dups += flood.duplicates;
        // Hits are delivered before the flood's last event is traced.
        let got: usize = s
            .hits()
            .try_iter()
            .filter(|h| h.guid == guid)
            .map(|h| h.results.len())
            .sum();
        hits += got;
        found += usize::from(got > 0);
    }
    let secs = t.elapsed().as_secs_f64();
    let q = work.len().max(1) as f64;
    Ok(Measure {
        messages: messages as f64 / q,
        touched: touched as f64 / q,
        duplicates: dups as f64 / q,
        hits: hits as f64 / q,
        found: found as f64 * 100.0 / q,
        per_second: q / secs,
    })
}
