//! The peers' shared folders, on disk: every design's peer really serves what it
//! publishes (its file server hashes and sends real bytes), so a provider a search
//! returns can be downloaded and checked.
//!
//! Songs are [`super::workload::SONG_BYTES`] each: hundreds of peers' folders cost a
//! few megabytes, written once and removed when the network stops.

use super::{workload, SharedFile};
use crate::share::Folder;
use std::fs;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// A scratch directory holding one folder per peer; removed on drop.
#[derive(Debug)]
pub struct Scratch {
    root: PathBuf,
}

impl Scratch {
    /// A fresh directory under the system temp dir, named after `tag` and this process.
    pub fn new(tag: &str) -> io::Result<Scratch> {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let root = std::env::temp_dir().join(format!("p2plab-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root)?;
        Ok(Scratch { root })
    }

    /// Writes `files` (their workload content) into the folder `name`, emptied first,
    /// and scans it: the SHA-1s the peer will announce are those of the bytes on disk.
    pub fn folder(&self, name: &str, files: &[SharedFile]) -> io::Result<Folder> {
        let dir = self.root.join(name);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir)?;
        for f in files {
            let name = crate::share::safe_name(&f.name).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("bad name {:?}", f.name),
                )
            })?;
            fs::write(dir.join(name), workload::song_bytes(name))?;
        }
        Folder::scan(&dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_holds_the_files_with_their_sha1() {
        let s = Scratch::new("locate-folders").unwrap();
        let files = [SharedFile::new("river0.mp3"), SharedFile::new("moon1.mp3")];
        let folder = s.folder("p0", &files).unwrap();
        assert_eq!(folder.files().len(), 2);
        for f in &files {
            assert!(folder.by_sha1(&f.sha1).is_some(), "{}", f.name);
        }
        let root = s.root.clone();
        drop(s);
        assert!(!root.exists());
    }
}
