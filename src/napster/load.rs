//! Load on the directory: many peers searching at once (6.4, 性能瓶颈).
//!
//! Used by `make lab-napster` and `make bench`: a catalogue of synthetic shares, and
//! `clients` peers that each log in and search as fast as the directory answers.
//! Every search is a real message on a real socket; only the shared files are made up
//! (the directory never sees file bytes, so it cannot tell).

use super::msg::FileMeta;
use super::peer::{NapsterError, Session};
use crate::rng::Rng;
use crate::share::ids;
use std::net::SocketAddr;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

const ARTISTS: &[&str] = &[
    "beatles",
    "queen",
    "nirvana",
    "abba",
    "bowie",
    "madonna",
    "prince",
    "oasis",
    "blur",
    "radiohead",
    "coldplay",
    "metallica",
    "adele",
    "eminem",
    "shakira",
    "santana",
    "sting",
    "u2",
    "muse",
    "doors",
];
const WORDS: &[&str] = &[
    "love", "road", "night", "river", "dream", "fire", "heart", "rain", "blue", "gold", "star",
    "home", "song", "light", "city", "summer", "wild", "dance", "ocean", "moon", "time", "sky",
    "storm", "rose",
];

/// A made-up but plausible file name, e.g. `queen - wild river 0412.mp3`.
pub fn song_name(rng: &mut Rng, n: usize) -> String {
    let artist = rng.pick(ARTISTS).copied().unwrap_or("anon");
    let a = rng.pick(WORDS).copied().unwrap_or("song");
    let b = rng.pick(WORDS).copied().unwrap_or("song");
    format!("{artist} - {a} {b} {n:04}.mp3")
}

/// Logs in `peers` sessions sharing `files_per_peer` made-up files each. Returns the
/// sessions (the files stay in the directory while they are open) and every name.
pub fn publish_catalogue(
    server: SocketAddr,
    peers: usize,
    files_per_peer: usize,
    seed: u64,
) -> Result<(Vec<Session>, Vec<String>), NapsterError> {
    let mut rng = Rng::new(seed);
    let mut sessions = Vec::with_capacity(peers);
    let mut names = Vec::new();
    for p in 0..peers {
        let mut s = Session::login(server, &format!("library{p}"), 6699)?;
        for _ in 0..files_per_peer {
            let name = song_name(&mut rng, names.len());
            let meta = FileMeta {
                md5: ids::to_hex(&ids::sha1_bytes(name.as_bytes())),
                size: 3_000_000 + rng.below(5_000_000) as u64,
                bitrate: 128,
                freq: 44100,
                seconds: 180 + rng.below(120) as u32,
                name,
            };
            s.share(&meta)?;
            names.push(meta.name);
        }
        sessions.push(s);
    }
    Ok((sessions, names))
}

/// Queries a user would type: the artist and the two title words of an existing name
/// ("queen wild river"), so a search finds a handful of files, as real searches did.
pub fn queries_from(names: &[String], count: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng::new(seed);
    (0..count)
        .filter_map(|_| {
            let name = rng.pick(names)?;
            let words = crate::share::keywords(name);
            Some(format!(
                "{} {} {}",
                words.first()?,
                words.get(1)?,
                words.get(2)?
            ))
        })
        .collect()
}

/// What a load run measured.
#[derive(Debug, Clone)]
pub struct LoadResult {
    pub clients: usize,
    pub searches: usize,
    pub results: usize,
    pub wall: Duration,
    /// Per-search round-trip times, sorted.
    pub latencies: Vec<Duration>,
}

impl LoadResult {
    pub fn per_second(&self) -> f64 {
        self.searches as f64 / self.wall.as_secs_f64()
    }

    pub fn mean(&self) -> Duration {
        let total: Duration = self.latencies.iter().sum();
        total / self.latencies.len().max(1) as u32
    }

    /// The latency that `q` of searches beat (q in 0..=1).
    pub fn quantile(&self, q: f64) -> Duration {
        let i = ((self.latencies.len() as f64 - 1.0) * q).round() as usize;
        self.latencies.get(i).copied().unwrap_or_default()
    }
}

/// `clients` peers log in, wait for each other, then each runs `per_client` searches
/// back to back. Wall time runs from the common start to the last answer.
pub fn search_load(
    server: SocketAddr,
    clients: usize,
    per_client: usize,
    queries: &[String],
) -> Result<LoadResult, NapsterError> {
    let start = Arc::new(Barrier::new(clients + 1));
    let mut handles = Vec::with_capacity(clients);
    for c in 0..clients {
        let mut session = Session::login(server, &format!("searcher{c}"), 0)?;
        let start = start.clone();
        let qs: Vec<String> = queries
            .iter()
            .cycle()
            .skip(c * 7)
            .take(per_client)
            .cloned()
            .collect();
        let h = thread::Builder::new()
            .name(format!("napster-load-{c}"))
            .spawn(move || {
                start.wait();
                let mut lat = Vec::with_capacity(qs.len());
                let mut results = 0;
                for q in &qs {
                    let t = Instant::now();
                    results += session.search(q, 100)?.len();
                    lat.push(t.elapsed());
                }
                session.close();
                Ok::<_, NapsterError>((lat, results))
            })?;
        handles.push(h);
    }
    start.wait();
    let t0 = Instant::now();
    let mut latencies = Vec::with_capacity(clients * per_client);
    let mut results = 0;
    for h in handles {
        let (lat, r) = h
            .join()
            .map_err(|_| NapsterError::Refused("a load thread panicked".into()))??;
        latencies.extend(lat);
        results += r;
    }
    let wall = t0.elapsed();
    latencies.sort();
    Ok(LoadResult {
        clients,
        searches: latencies.len(),
        results,
        wall,
        latencies,
    })
}
