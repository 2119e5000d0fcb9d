//! Downloading a file from another peer's share server.
//!
//! The bytes go to `.<name>.part` beside the final name. Only when the size and the
//! SHA-1 match what the directory/flood/leader announced is the file renamed: a
//! half-written or corrupted download never takes the final name. An existing
//! `.part` is resumed with a `Range` request. A file already at the final name is
//! never overwritten unless the download says so ([`Download::overwrite`]): a name from
//! the network must not be able to replace a file the user has.

use super::folder::safe_name;
use super::ids::{sha1_file, to_hex, Sha1Id};
use super::url::percent_encode;
use crate::net;
use crate::wire::{read_head, WireError};
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A silent server is given up on after this long.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(20);

/// What to fetch and what it must turn out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    pub from: SocketAddr,
    /// Request target, e.g. `/get/3/song.mp3`.
    pub target: String,
    /// Name to save under (checked with [`safe_name`]).
    pub name: String,
    pub size: u64,
    pub sha1: Sha1Id,
    /// Replace a file already at the final name (false: refuse with
    /// [`FetchError::Exists`]).
    pub overwrite: bool,
}

impl Download {
    /// By index and name, as Napster and Gnutella results give them.
    pub fn by_index(from: SocketAddr, index: u32, name: &str, size: u64, sha1: Sha1Id) -> Download {
        Download {
            from,
            target: format!("/get/{index}/{}", percent_encode(name.as_bytes())),
            name: name.to_string(),
            size,
            sha1,
            overwrite: false,
        }
    }

    /// By content hash, as KaZaA asks for it.
    pub fn by_sha1(from: SocketAddr, name: &str, size: u64, sha1: Sha1Id) -> Download {
        Download {
            from,
            target: format!("/uri-res/N2R?urn:sha1:{}", super::ids::to_base32(&sha1)),
            name: name.to_string(),
            size,
            sha1,
            overwrite: false,
        }
    }
}

/// Why a download failed.
#[derive(Debug)]
pub enum FetchError {
    Io(io::Error),
    Wire(WireError),
    /// The server answered with an error status.
    Status(u16, String),
    /// The name would leave the download folder.
    BadName(String),
    /// A file is already at the final name, and the download may not overwrite it.
    Exists(PathBuf),
    /// The server sent a different number of bytes than announced.
    Size {
        expected: u64,
        got: u64,
    },
    /// The bytes are not the file that was announced.
    Mismatch {
        expected: Sha1Id,
        got: Sha1Id,
    },
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Io(e) => write!(f, "i/o error: {e}"),
            FetchError::Wire(e) => write!(f, "bad HTTP answer: {e}"),
            FetchError::Status(c, line) => write!(f, "server answered {c}: {line}"),
            FetchError::BadName(n) => write!(f, "refusing to save under {n:?}"),
            // {:?}: a name from the network is printed escaped (no terminal escapes).
            FetchError::Exists(p) => write!(f, "{p:?} exists; not overwriting it"),
            FetchError::Size { expected, got } => {
                write!(f, "expected {expected} bytes, got {got}")
            }
            FetchError::Mismatch { expected, got } => write!(
                f,
                "SHA-1 mismatch: expected {}, got {}",
                to_hex(expected),
                to_hex(got)
            ),
        }
    }
}

impl std::error::Error for FetchError {}

impl From<io::Error> for FetchError {
    fn from(e: io::Error) -> Self {
        FetchError::Io(e)
    }
}

impl From<WireError> for FetchError {
    fn from(e: WireError) -> Self {
        FetchError::Wire(e)
    }
}

/// Downloads `d` into `out_dir`, calling `progress(bytes_so_far)` as data arrives.
/// Returns the final path, which exists only if the SHA-1 matched.
pub fn fetch(
    d: &Download,
    out_dir: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<PathBuf, FetchError> {
    let name = safe_name(&d.name).ok_or_else(|| FetchError::BadName(d.name.clone()))?;
    let part = out_dir.join(format!(".{name}.part"));
    let done = out_dir.join(name);
    if !d.overwrite && done.exists() {
        return Err(FetchError::Exists(done));
    }
    let have = fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    let resume = have > 0 && have < d.size;

    let stream = net::connect(d.from, Some(FETCH_TIMEOUT))?;
    let mut request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: p2plab/0.1\r\nConnection: close\r\n",
        d.target, d.from
    );
    if resume {
        request.push_str(&format!("Range: bytes={have}-\r\n"));
    }
    request.push_str("\r\n");
    (&stream).write_all(request.as_bytes())?;

    let mut r = BufReader::new(stream);
    let head = read_head(&mut r, super::http::MAX_HEAD, super::http::MAX_HEADERS)?
        .ok_or(WireError::Malformed("server closed without answering"))?;
    let code: u16 = head
        .start
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or(WireError::Malformed("status line has no code"))?;
    let appending = match code {
        200 => false,
        206 if resume => true,
        _ => return Err(FetchError::Status(code, head.start)),
    };
    let from = if appending { have } else { 0 };
    let len: u64 = head
        .get("Content-Length")
        .and_then(|v| v.parse().ok())
        .ok_or(WireError::Malformed("no Content-Length"))?;
    // The announced size caps what we accept: a server cannot fill our disk.
    if from + len != d.size {
        return Err(FetchError::Size {
            expected: d.size,
            got: from + len,
        });
    }

    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .append(appending)
        .truncate(!appending)
        .open(&part)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0u64;
    let mut body = r.take(len);
    loop {
        let n = body.read(&mut buf)?;
        if n == 0 {
            break;
        }
        file.write_all(&buf[..n])?;
        got += n as u64;
        progress(from + got);
    }
    file.sync_all()?;
    drop(file);
    if got != len {
        // Keep the .part: the next attempt resumes from here.
        return Err(FetchError::Size {
            expected: d.size,
            got: from + got,
        });
    }
    let sum = sha1_file(&part)?;
    if sum != d.sha1 {
        let _ = fs::remove_file(&part);
        return Err(FetchError::Mismatch {
            expected: d.sha1,
            got: sum,
        });
    }
    // Checked again: the file may have appeared while we downloaded.
    if !d.overwrite && done.exists() {
        return Err(FetchError::Exists(done));
    }
    fs::rename(&part, &done)?;
    Ok(done)
}
