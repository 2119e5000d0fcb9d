//! Making a `.torrent`: read the file(s) once, piece by piece, and hash each piece.
//!
//! Several files are hashed as one stream (they concatenate in list order), so a
//! piece may straddle two files, exactly as the peers will later exchange them.

use super::metainfo::{safe_component, FileEntry, Info, Metainfo};
use sha1::{Digest, Sha1};
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Builds the metainfo of `path` (a file, or a folder: every regular file inside,
/// sorted by path) with pieces of `piece_length` bytes.
pub fn make_torrent(
    path: &Path,
    piece_length: u64,
    announce: Option<String>,
) -> io::Result<Metainfo> {
    let invalid = |why: String| io::Error::new(io::ErrorKind::InvalidInput, why);
    if !piece_length.is_power_of_two()
        || !(super::metainfo::MIN_PIECE_LENGTH..=super::metainfo::MAX_PIECE_LENGTH)
            .contains(&piece_length)
    {
        return Err(invalid(format!(
            "piece length {piece_length} is not a power of two between 1 KiB and 16 MiB"
        )));
    }
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| invalid(format!("{} has no usable name", path.display())))?;
    safe_component(name.as_bytes()).map_err(|e| invalid(e.to_string()))?;
    let multi_file = path.is_dir();
    let mut sources: Vec<(PathBuf, Vec<String>)> = Vec::new();
    if multi_file {
        walk(path, &mut Vec::new(), &mut sources)?;
        sources.sort_by(|a, b| a.1.cmp(&b.1));
    } else {
        sources.push((path.to_path_buf(), vec![]));
    }
    let mut files = Vec::new();
    let mut pieces = Vec::new();
    let mut buf = vec![0u8; piece_length as usize];
    let mut filled = 0;
    for (src, rel) in sources {
        let mut f = File::open(&src)?;
        let mut length = 0u64;
        loop {
            let n = f.read(&mut buf[filled..])?;
            if n == 0 {
                break;
            }
            length += n as u64;
            filled += n;
            if filled == buf.len() {
                pieces.push(Sha1::digest(&buf).into());
                filled = 0;
            }
        }
        files.push(FileEntry { path: rel, length });
    }
    if filled > 0 {
        pieces.push(Sha1::digest(&buf[..filled]).into());
    }
    if pieces.is_empty() {
        return Err(invalid(format!("{} holds no bytes", path.display())));
    }
    let info = Info {
        name: name.to_string(),
        piece_length,
        pieces,
        files,
        multi_file,
    };
    Ok(Metainfo::new(info, announce))
}

fn walk(
    dir: &Path,
    rel: &mut Vec<String>,
    out: &mut Vec<(PathBuf, Vec<String>)>,
) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue; // not UTF-8: a torrent path must be
        };
        let kind = entry.file_type()?;
        rel.push(name);
        if kind.is_dir() {
            walk(&entry.path(), rel, out)?;
        } else if kind.is_file() {
            out.push((entry.path(), rel.clone()));
        }
        rel.pop();
    }
    Ok(())
}
