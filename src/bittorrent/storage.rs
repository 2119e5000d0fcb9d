//! Pieces on disk: where each byte of the torrent lives, and checking pieces by SHA-1.
//!
//! ```text
//!   torrent bytes  |-- piece 0 --|-- piece 1 --|-- piece 2 --|- 3 -|
//!   files          |---- a.bin ------|------- b.bin -------------|
//!                                    └ piece 1 straddles two files
//! ```
//! Reads and writes use positioned I/O (`pread`/`pwrite`), so every thread can use the
//! same open files at once without a lock and without seeking.
//!
//! A leecher writes into `.<name>.part` beside each final name and renames the files
//! only when every piece has passed its SHA-1 check ([`Storage::finish`]): a half-downloaded
//! file never carries the name of the real one. A restart resumes from the `.part` files.

use super::metainfo::Info;
use super::pwritev::{slices_in, write_all_vectored_at};
use sha1::{Digest, Sha1};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// One file of the torrent and where it sits in the torrent's byte stream.
struct Stored {
    file: File,
    start: u64,
    len: u64,
    /// Bytes that were on disk before we opened it: only those can hold finished pieces.
    existing: u64,
    /// `(.part path, final path)` while the file is still being downloaded.
    rename: Option<(PathBuf, PathBuf)>,
}

/// Where a file is written until it is complete: `.<name>.part` in the same folder.
pub fn part_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.part"))
}

/// The `.part` names of a torrent's files: [`part_path`], unless that is taken by
/// another file of the torrent (a torrent may list both `a` and `.a.part`, or two
/// names the lossy conversion makes equal), then `.<name>.1.part`, `.2`, …: two files
/// never share a temporary name, and no temporary name is another file's final one.
pub fn part_paths(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut taken: std::collections::HashSet<PathBuf> = paths.iter().cloned().collect();
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        let mut part = part_path(path);
        let mut n = 0u32;
        while taken.contains(&part) {
            n += 1;
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            part = path.with_file_name(format!(".{}.{n}.part", name.unwrap_or_default()));
        }
        taken.insert(part.clone());
        out.push(part);
    }
    out
}

/// The files of one torrent.
pub struct Storage {
    files: Vec<Stored>,
    piece_length: u64,
    total: u64,
    hashes: Vec<[u8; 20]>,
}

impl Storage {
    /// Opens the torrent's files at `paths` (one per file of `info`). `writable`: create
    /// missing files and folders, at their full length (a leecher); otherwise every file
    /// must exist with its exact length (a seeder's data is used as it is).
    pub fn open(info: &Info, paths: &[PathBuf], writable: bool) -> io::Result<Storage> {
        let mut files = Vec::with_capacity(paths.len());
        let mut start = 0;
        let parts = part_paths(paths);
        for ((entry, path), part) in info.files.iter().zip(paths).zip(parts) {
            // A leecher uses the final name only if a complete-sized file is already
            // there (it will be checked piece by piece); otherwise the `.part` file.
            let done = fs::metadata(path)
                .map(|m| m.len() == entry.length)
                .unwrap_or(false);
            let rename = (writable && !done).then(|| (part, path.clone()));
            let path = rename.as_ref().map_or(path, |(part, _)| part);
            let existing = fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            let file = if writable {
                if let Some(dir) = path.parent() {
                    fs::create_dir_all(dir)?;
                }
                let f = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(path)?;
                f.set_len(entry.length)?;
                f
            } else {
                let f = File::open(path)
                    .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
                if existing != entry.length {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "{} holds {existing} bytes, the torrent says {}",
                            path.display(),
                            entry.length
                        ),
                    ));
                }
                f
            };
            files.push(Stored {
                file,
                start,
                len: entry.length,
                existing: existing.min(entry.length),
                rename,
            });
            start += entry.length;
        }
        Ok(Storage {
            files,
            piece_length: info.piece_length,
            total: start,
            hashes: info.pieces.clone(),
        })
    }

    /// Every piece is verified: flush the `.part` files and give them their final names.
    /// The open handles stay valid across the rename, so seeding goes on from them.
    pub fn finish(&self) -> io::Result<()> {
        for f in &self.files {
            if let Some((part, done)) = &f.rename {
                f.file.sync_all()?;
                if part.exists() {
                    fs::rename(part, done)?;
                }
            }
        }
        Ok(())
    }

    pub fn num_pieces(&self) -> usize {
        self.hashes.len()
    }

    /// Bytes per piece (the last one may be shorter, see [`Storage::piece_size`]).
    pub fn piece_length(&self) -> u64 {
        self.piece_length
    }

    pub fn piece_size(&self, index: usize) -> usize {
        (self.total - index as u64 * self.piece_length).min(self.piece_length) as usize
    }

    /// Calls `op(file, offset in file, range of buf)` for every file the span touches.
    fn each_span(
        &self,
        offset: u64,
        len: usize,
        mut op: impl FnMut(&File, u64, std::ops::Range<usize>) -> io::Result<()>,
    ) -> io::Result<()> {
        if offset + len as u64 > self.total {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "past the end"));
        }
        let mut done = 0;
        for f in &self.files {
            let pos = offset + done as u64;
            if done == len {
                break;
            }
            if pos >= f.start + f.len || f.len == 0 {
                continue;
            }
            let n = ((f.start + f.len - pos) as usize).min(len - done);
            op(&f.file, pos - f.start, done..done + n)?;
            done += n;
        }
        Ok(())
    }

    /// Reads `buf.len()` torrent bytes from `offset`.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.each_span(offset, buf.len(), |f, at, r| {
            f.read_exact_at(&mut buf[r], at)
        })
    }

    pub fn write_at(&self, offset: u64, buf: &[u8]) -> io::Result<()> {
        self.each_span(offset, buf.len(), |f, at, r| f.write_all_at(&buf[r], at))
    }

    /// Does `data` hash to piece `index`'s SHA-1 in the torrent?
    pub fn verify(&self, index: usize, data: &[u8]) -> bool {
        <[u8; 20]>::from(Sha1::digest(data)) == self.hashes[index]
    }

    /// Like [`Storage::verify`], for a piece held as its blocks in order: hashed
    /// block by block, never joined into one buffer.
    pub fn verify_blocks(&self, index: usize, blocks: &[Vec<u8>]) -> bool {
        let mut h = Sha1::new();
        blocks.iter().for_each(|b| h.update(b));
        <[u8; 20]>::from(h.finalize()) == self.hashes[index]
    }

    /// Writes a verified piece, held as its blocks in order, to its place: one
    /// `pwritev` per file it touches, not one `pwrite` per block (16 per 256 KiB
    /// piece, a measurable part of the verifier's time in `bench-bittorrent`).
    pub fn write_blocks(&self, index: usize, blocks: &[Vec<u8>]) -> io::Result<()> {
        let len = blocks.iter().map(Vec::len).sum();
        self.each_span(index as u64 * self.piece_length, len, |f, at, r| {
            write_all_vectored_at(f, &slices_in(blocks, r), at)
        })
    }

    /// Writes a verified piece to its place.
    pub fn write_piece(&self, index: usize, data: &[u8]) -> io::Result<()> {
        self.write_at(index as u64 * self.piece_length, data)
    }

    /// Resume: which pieces already on disk are right. Only pieces lying wholly in
    /// bytes that existed before we opened the files are read and hashed.
    pub fn check_existing(&self) -> io::Result<Vec<bool>> {
        let mut buf = vec![0u8; self.piece_length as usize];
        let mut have = vec![false; self.num_pieces()];
        for (i, h) in have.iter_mut().enumerate() {
            let start = i as u64 * self.piece_length;
            let size = self.piece_size(i);
            let on_disk = self.files.iter().all(|f| {
                let (a, b) = (
                    start.max(f.start),
                    (start + size as u64).min(f.start + f.len),
                );
                a >= b || b <= f.start + f.existing
            });
            if on_disk {
                self.read_at(start, &mut buf[..size])?;
                *h = self.verify(i, &buf[..size]);
            }
        }
        Ok(have)
    }
}

#[cfg(test)]
mod part_tests {
    use super::*;

    #[test]
    fn two_files_never_share_a_temporary_name() {
        let d = Path::new("/dl/t");
        let paths = vec![d.join("a"), d.join(".a.part"), d.join(".a.1.part")];
        let parts = part_paths(&paths);
        assert_eq!(parts[0], d.join(".a.2.part"));
        assert_eq!(parts[1], d.join("..a.part.part"));
        let mut all: Vec<&PathBuf> = paths.iter().chain(&parts).collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 6, "six distinct names");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bittorrent::metainfo::FileEntry;

    fn info(pieces: Vec<[u8; 20]>) -> Info {
        Info {
            name: "t".into(),
            piece_length: 1024,
            pieces,
            // 1500 + 0 + 1000 bytes: piece 1 spans a.bin's end, the empty file, b.bin.
            files: vec![
                FileEntry {
                    path: vec!["a.bin".into()],
                    length: 1500,
                },
                FileEntry {
                    path: vec!["e.bin".into()],
                    length: 0,
                },
                FileEntry {
                    path: vec!["b.bin".into()],
                    length: 1000,
                },
            ],
            multi_file: true,
        }
    }

    #[test]
    fn pieces_straddle_files_and_resume_checks_them() {
        let dir = std::env::temp_dir().join(format!("p2plab-storage-{}", std::process::id()));
        let data: Vec<u8> = (0..2500u32).map(|i| (i * 7 % 251) as u8).collect();
        let hashes = data.chunks(1024).map(|c| Sha1::digest(c).into()).collect();
        let info = info(hashes);
        let paths = info.file_paths(&dir);
        let s = Storage::open(&info, &paths, true).unwrap();
        assert_eq!((s.num_pieces(), s.piece_size(2)), (3, 452));
        assert_eq!(s.check_existing().unwrap(), [false; 3]); // fresh files: nothing read
        for i in 0..3 {
            let piece = &data[i * 1024..(i * 1024 + s.piece_size(i))];
            assert!(s.verify(i, piece));
            s.write_piece(i, piece).unwrap();
        }
        // Nothing has its final name until every piece is in.
        assert!(!paths[0].exists() && part_path(&paths[0]).exists());
        s.finish().unwrap();
        assert!(paths[0].exists() && !part_path(&paths[0]).exists());
        assert_eq!(fs::read(&paths[0]).unwrap(), &data[..1500]);
        assert_eq!(fs::read(&paths[2]).unwrap(), &data[1500..]);
        let mut block = [0u8; 600];
        s.read_at(1200, &mut block).unwrap();
        assert_eq!(block, data[1200..1800]);
        // Damage b.bin's last byte: reopening finds pieces 0 and 1 good, 2 bad.
        let mut b = fs::read(&paths[2]).unwrap();
        b[999] ^= 1;
        fs::write(&paths[2], b).unwrap();
        let s = Storage::open(&info, &paths, true).unwrap();
        assert_eq!(s.check_existing().unwrap(), [true, true, false]);
        assert!(s.read_at(2400, &mut [0u8; 200]).is_err()); // past the end
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_piece_held_as_blocks_is_written_across_files_with_pwritev() {
        let dir = std::env::temp_dir().join(format!("p2plab-blocks-{}", std::process::id()));
        let data: Vec<u8> = (0..2500u32).map(|i| (i * 13 % 251) as u8).collect();
        let hashes = data.chunks(1024).map(|c| Sha1::digest(c).into()).collect();
        let info = info(hashes);
        let paths = info.file_paths(&dir);
        let s = Storage::open(&info, &paths, true).unwrap();
        // Piece 1 (bytes 1024..2048) as blocks of 300, 0, 400 and 324 bytes: the
        // 300-byte block ends inside a.bin, the 400-byte one crosses into b.bin.
        let cuts = [1024, 1324, 1324, 1724, 2048];
        let blocks: Vec<Vec<u8>> = cuts.windows(2).map(|w| data[w[0]..w[1]].to_vec()).collect();
        assert!(s.verify_blocks(1, &blocks));
        s.write_blocks(1, &blocks).unwrap();
        let mut got = vec![0u8; 1024];
        s.read_at(1024, &mut got).unwrap();
        assert_eq!(got, &data[1024..2048]);
        assert_eq!(
            slices_in(&blocks, 200..700),
            [&data[1224..1324], &data[1324..1724]]
        );
        let _ = fs::remove_dir_all(&dir);
    }
}
