//! One workload for every design: songs of skewed popularity, searches, and churn.
//!
//! Real file-sharing networks were lopsided: a few songs were on thousands of machines,
//! most on one. The catalog copies that with a Zipf-like rule — song `j` is held by about
//! N/(j+1) peers, so song 0 by everyone, song 1 by half, and every song past N by one
//! peer — and searches ask for popular songs more often, with the same weights.
//!
//! Every song has a one-word title that no other song shares (`river3`), so a search's
//! right answer is known exactly: the peers holding that song, and no one else.
//! Everything is drawn from one seeded [`Rng`]: `--seed 7` is the same workload twice.

use super::{keywords, PeerId, SharedFile};
use crate::rng::Rng;

/// Title words; a song's title is a word and a number (`river3`).
const WORDS: [&str; 16] = [
    "river", "yellow", "moon", "harbour", "summer", "paper", "violet", "thunder", "garden",
    "silver", "winter", "ocean", "lantern", "echo", "meadow", "comet",
];

/// Bytes of every song's content: the file is real and hashed, yet small, so that
/// hundreds of peers' folders cost nothing.
pub const SONG_BYTES: usize = 1024;

/// What to generate.
#[derive(Debug, Clone)]
pub struct WorkloadConfig {
    /// Peers in the network at most.
    pub peers: usize,
    /// Songs in the catalog (default 4 × peers).
    pub songs: usize,
    /// Keyword searches, each from a random live peer.
    pub searches: usize,
    /// Churn events (joins, polite leaves, crashes) spread among the searches.
    pub churn: usize,
    pub seed: u64,
}

impl WorkloadConfig {
    pub fn new(peers: usize, seed: u64) -> WorkloadConfig {
        WorkloadConfig {
            peers,
            songs: 4 * peers,
            searches: 8 * peers,
            churn: peers / 4,
            seed,
        }
    }
}

/// One step after the initial joins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Search { from: PeerId, keyword: String },
    Join(PeerId),
    Leave(PeerId),
    Crash(PeerId),
}

/// The catalog, who holds what, who starts in the network, and what happens next.
#[derive(Debug, Clone)]
pub struct Workload {
    pub songs: Vec<SharedFile>,
    /// `holds[p]`: indices into `songs` that peer `p` shares.
    pub holds: Vec<Vec<usize>>,
    /// Peers in the network before the first step (three quarters of them).
    pub initial: Vec<PeerId>,
    pub steps: Vec<Step>,
}

/// The content of a song: its title repeated, so its SHA-1 is fixed by its name.
pub fn song_bytes(name: &str) -> Vec<u8> {
    name.bytes().cycle().take(SONG_BYTES).collect()
}

fn song(j: usize) -> SharedFile {
    SharedFile::new(&format!(
        "{}{}.mp3",
        WORDS[j % WORDS.len()],
        j / WORDS.len()
    ))
}

/// Index of a weight drawn in proportion to 1/(j+1), the Zipf-like popularity.
fn zipf(rng: &mut Rng, n: usize) -> usize {
    let total: f64 = (1..=n).map(|j| 1.0 / j as f64).sum();
    let mut x = rng.unit() * total;
    for j in 0..n {
        x -= 1.0 / (j + 1) as f64;
        if x < 0.0 {
            return j;
        }
    }
    n - 1
}

impl Workload {
    pub fn generate(cfg: &WorkloadConfig) -> Workload {
        let n = cfg.peers.max(2);
        let mut rng = Rng::new(cfg.seed);
        let songs: Vec<SharedFile> = (0..cfg.songs.max(1)).map(song).collect();
        let mut holds = vec![Vec::new(); n];
        for j in 0..songs.len() {
            let copies = (n / (j + 1)).max(1);
            for p in rng.sample(n, copies) {
                holds[p].push(j);
            }
        }
        let mut live: Vec<PeerId> = rng.sample(n, n * 3 / 4);
        let initial = live.clone();
        let mut out: Vec<PeerId> = (0..n).filter(|p| !live.contains(p)).collect();
        let mut steps = Vec::new();
        let total = cfg.searches + cfg.churn;
        for i in 0..total {
            // Churn events fall at evenly spaced points among the searches.
            let churn_here = cfg.churn > 0 && i % (total / cfg.churn).max(1) == 0;
            if churn_here && live.len() > 2 {
                match rng.below(3) {
                    0 if !out.is_empty() => {
                        let p = out.swap_remove(rng.below(out.len()));
                        live.push(p);
                        steps.push(Step::Join(p));
                    }
                    1 => {
                        let p = live.swap_remove(rng.below(live.len()));
                        out.push(p);
                        steps.push(Step::Leave(p));
                    }
                    _ => {
                        let p = live.swap_remove(rng.below(live.len()));
                        out.push(p);
                        steps.push(Step::Crash(p));
                    }
                }
            } else {
                let from = live[rng.below(live.len())];
                let j = zipf(&mut rng, songs.len());
                steps.push(Step::Search {
                    from,
                    keyword: keywords(&songs[j].name)[0].clone(),
                });
            }
        }
        Workload {
            songs,
            holds,
            initial,
            steps,
        }
    }

    /// The files peer `p` shares.
    pub fn files_of(&self, p: PeerId) -> Vec<SharedFile> {
        self.holds[p]
            .iter()
            .map(|&j| self.songs[j].clone())
            .collect()
    }

    /// Whether `p` shares a file with this SHA-1: the truth a search answer is held to.
    pub fn holds(&self, p: PeerId, sha1: &[u8; 20]) -> bool {
        self.holds
            .get(p)
            .is_some_and(|h| h.iter().any(|&j| &self.songs[j].sha1 == sha1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn popularity_is_skewed() {
        let w = Workload::generate(&WorkloadConfig::new(64, 7));
        let copies = |j: usize| w.holds.iter().filter(|h| h.contains(&j)).count();
        assert_eq!(copies(0), 64, "the top song is on every peer");
        assert_eq!(copies(1), 32);
        assert_eq!(copies(200), 1, "a song past N is on one peer");
        let single = (0..w.songs.len()).filter(|&j| copies(j) == 1).count();
        assert!(
            single > w.songs.len() / 2,
            "most songs are held by one peer"
        );
    }

    #[test]
    fn titles_are_unique_keywords() {
        let w = Workload::generate(&WorkloadConfig::new(64, 7));
        let mut titles: Vec<String> = w
            .songs
            .iter()
            .map(|s| keywords(&s.name)[0].clone())
            .collect();
        titles.sort();
        titles.dedup();
        assert_eq!(titles.len(), w.songs.len());
    }

    #[test]
    fn the_same_seed_is_the_same_workload() {
        let a = Workload::generate(&WorkloadConfig::new(32, 7));
        let b = Workload::generate(&WorkloadConfig::new(32, 7));
        let c = Workload::generate(&WorkloadConfig::new(32, 8));
        assert_eq!(a.steps, b.steps);
        assert_ne!(a.steps, c.steps);
    }

    #[test]
    fn searches_come_only_from_live_peers() {
        let w = Workload::generate(&WorkloadConfig::new(64, 3));
        let mut live: Vec<PeerId> = w.initial.clone();
        let mut churn = 0;
        for s in &w.steps {
            match s {
                Step::Search { from, .. } => assert!(live.contains(from)),
                Step::Join(p) => {
                    assert!(!live.contains(p));
                    live.push(*p);
                    churn += 1;
                }
                Step::Leave(p) | Step::Crash(p) => {
                    live.retain(|q| q != p);
                    churn += 1;
                }
            }
        }
        assert!(churn > 0, "the schedule has churn");
    }
}
