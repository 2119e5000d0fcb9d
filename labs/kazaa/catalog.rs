//! The lab's music collection: who shares what, and which queries people type.
//! Everything derives from the seed (through the crate's one PRNG, `p2plab::rng::Rng`),
//! so a run with the same `--seed` repeats.
// Shared by lab-kazaa and bench-kazaa; each uses a part.
#![allow(dead_code)]

pub use p2plab::rng::Rng;
use std::fs;
use std::io;
use std::path::Path;

const ARTISTS: [&str; 8] = [
    "abba",
    "beatles",
    "queen",
    "nirvana",
    "adele",
    "coldplay",
    "radiohead",
    "blur",
];
const WORDS: [&str; 10] = [
    "love", "road", "night", "dream", "river", "fire", "heart", "rain", "summer", "light",
];

/// Popular songs are shared (and searched) more: index i of `n` has weight 1/(i+1).
pub fn zipf(rng: &mut Rng, n: usize) -> usize {
    let total: f64 = (1..=n).map(|i| 1.0 / i as f64).sum();
    let mut x = rng.unit() * total;
    for i in 0..n {
        x -= 1.0 / (i + 1) as f64;
        if x <= 0.0 {
            return i;
        }
    }
    n - 1
}

/// One song: its words and the bytes everyone who has it holds.
pub struct Song {
    pub artist: &'static str,
    pub a: &'static str,
    pub b: &'static str,
    pub size: usize,
    pub seed: u64,
}

impl Song {
    pub fn name(&self) -> String {
        format!("{} - {} {}.mp3", self.artist, self.a, self.b)
    }
    /// The same bytes under another name, as a second ripper would call it.
    pub fn other_name(&self) -> String {
        format!("{}_{}_{}_(live).mp3", self.artist, self.a, self.b)
    }
    pub fn bytes(&self) -> Vec<u8> {
        Rng::new(self.seed).bytes(self.size)
    }
}

/// `songs` distinct songs, seeded.
pub fn songs(n: usize, rng: &mut Rng) -> Vec<Song> {
    (0..n)
        .map(|i| Song {
            artist: ARTISTS[i % ARTISTS.len()],
            a: WORDS[rng.below(WORDS.len())],
            b: WORDS[rng.below(WORDS.len())],
            size: 4096 + rng.below(28 * 1024),
            seed: rng.next_u64(),
        })
        .collect()
}

/// Writes `per_node` songs (popular ones more often, a few under their other name)
/// into `dir`.
pub fn fill(dir: &Path, songs: &[Song], per_node: usize, rng: &mut Rng) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    for _ in 0..per_node {
        let s = &songs[zipf(rng, songs.len())];
        let name = if rng.below(4) == 0 {
            s.other_name()
        } else {
            s.name()
        };
        fs::write(dir.join(name), s.bytes())?;
    }
    Ok(())
}

/// A query a user might type: an artist and a word of a title, popular songs more often.
pub fn query(songs: &[Song], rng: &mut Rng) -> String {
    let s = &songs[zipf(rng, songs.len())];
    if rng.below(2) == 0 {
        format!("{} {}", s.artist, s.a)
    } else {
        format!("{} {}", s.a, s.b)
    }
}

/// Upload capacities in KiB/s: home lines and a few fast ones (the future leaders).
pub fn capacity(rng: &mut Rng) -> u32 {
    [128, 256, 256, 512, 512, 1024, 2048, 8192][rng.below(8)]
}
