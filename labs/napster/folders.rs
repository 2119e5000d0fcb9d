//! The lab's options and the peers' share folders it fills (songs, and one big file
//! for the download the directory's death interrupts).

use p2plab::napster::load::song_name;
use p2plab::rng::Rng;
use std::path::{Path, PathBuf};

/// The lab's options.
pub struct Args {
    pub peers: usize,
    pub files: usize,
    pub file_kb: usize,
    pub big_mb: usize,
    pub seed: u64,
    pub catalogue: usize,
    pub levels: Vec<usize>,
    /// Only the growth curve (`scale.rs`); `peers` is then its largest directory.
    pub scale: bool,
}

/// The peer whose big file is in flight when the directory dies.
pub const UPLOADER: usize = 3;

/// One share folder per peer under `root`, with `files` songs each; [`UPLOADER`]'s
/// also holds the big file.
pub fn make_folders(a: &Args, root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut rng = Rng::new(a.seed);
    let mut dirs = Vec::new();
    for p in 0..a.peers {
        let d = root.join(format!("peer{p}"));
        std::fs::create_dir_all(&d)?;
        for _ in 0..a.files {
            let name = song_name(&mut rng, p * a.files + dirs.len());
            std::fs::write(d.join(name), rng.bytes(a.file_kb * 1024))?;
        }
        if p == UPLOADER {
            std::fs::write(
                d.join("live at wembley - full concert.flac"),
                rng.bytes(a.big_mb << 20),
            )?;
        }
        dirs.push(d);
    }
    Ok(dirs)
}
