//! The HTTP/1.1 GET server of a shared folder.
//!
//! Everything about the request is untrusted. The head is capped ([`MAX_HEAD`],
//! [`MAX_HEADERS`]); the target is decoded into a [`Target`] (an index and a name, or a
//! hash) by a pure function, and a file is served only if the scan listed it. So
//! `/get/0/../../etc/passwd` is just a name that does not match: 404, nothing read.

use super::folder::{Folder, SharedFile};
use super::ids::{sha1_from_base32, Sha1Id};
use super::url::percent_decode;
use crate::net::{self, ConnResult, LimitedWriter, Server, ServerConfig, TokenBucket};
use crate::wire::{read_head, WireError};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

/// Longest request head accepted; browsers send under 2 KiB.
pub const MAX_HEAD: usize = 8 * 1024;
/// Most header lines accepted.
pub const MAX_HEADERS: usize = 32;
/// A client silent for this long is dropped (a per-read timeout: every byte resets it).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The whole request head, however it is paced: a GET of ~100 bytes fits in one
/// segment, so 5 s leaves room for a lossy link's retransmissions and nothing more.
pub const HEAD_DEADLINE: Duration = Duration::from_secs(5);

/// What a request asks for, once decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `/get/<index>/<name>` (a trailing `/` allowed, as Gnutella clients send it).
    Index { index: u32, name: String },
    /// `/uri-res/N2R?urn:sha1:<base32>`.
    Sha1(Sha1Id),
}

/// Decodes a request target. `Err` carries the reason for the 400 answer.
pub fn parse_target(target: &str) -> Result<Target, &'static str> {
    if let Some(rest) = target.strip_prefix("/get/") {
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (index, name) = rest.split_once('/').ok_or("expected /get/<index>/<name>")?;
        let index = index.parse().map_err(|_| "file index is not a number")?;
        let name = percent_decode(name, false).ok_or("broken percent escape")?;
        let name = String::from_utf8(name).map_err(|_| "file name is not UTF-8")?;
        return Ok(Target::Index { index, name });
    }
    if let Some(urn) = target.strip_prefix("/uri-res/N2R?") {
        let b32 = urn
            .strip_prefix("urn:sha1:")
            .ok_or("only urn:sha1 is served")?;
        return sha1_from_base32(b32)
            .map(Target::Sha1)
            .ok_or("bad base32 SHA-1");
    }
    Err("unknown path")
}

/// Options of a share server.
#[derive(Clone)]
pub struct HttpConfig {
    /// Upload cap shared by every download from this folder (`None`: loopback speed).
    pub rate: Option<Arc<TokenBucket>>,
    pub max_conns: usize,
}

impl Default for HttpConfig {
    fn default() -> HttpConfig {
        HttpConfig {
            rate: None,
            max_conns: 256,
        }
    }
}

/// The listener's defences (see the module doc); [`ShareServer::start`] uses the defaults.
#[derive(Clone, Debug)]
pub struct ShareLimits {
    /// The request head must be complete this long after accept.
    pub head_deadline: Duration,
    /// Connections one address may hold at once. Unlimited by default: labs run every
    /// downloader on 127.0.0.1 (the distribution lab, hundreds at once); a server on a
    /// real network would set a few.
    pub max_per_addr: usize,
}

impl Default for ShareLimits {
    fn default() -> ShareLimits {
        ShareLimits {
            head_deadline: HEAD_DEADLINE,
            max_per_addr: usize::MAX,
        }
    }
}

/// A running share server; dropping it stops it.
pub struct ShareServer {
    server: Server,
}

impl ShareServer {
    /// Serves `folder` on `listen` (port 0 picks a free port).
    pub fn start(folder: Arc<Folder>, listen: &str, cfg: HttpConfig) -> io::Result<ShareServer> {
        ShareServer::start_with(folder, listen, cfg, ShareLimits::default())
    }

    /// [`ShareServer::start`] with the listener's defences set by the caller.
    pub fn start_with(
        folder: Arc<Folder>,
        listen: &str,
        cfg: HttpConfig,
        lim: ShareLimits,
    ) -> io::Result<ShareServer> {
        let mut sc = ServerConfig::new("share");
        sc.max_conns = cfg.max_conns;
        sc.read_timeout = Some(REQUEST_TIMEOUT);
        sc.opening_deadline = Some(lim.head_deadline);
        sc.max_per_addr = lim.max_per_addr;
        sc.evict_when_full = true;
        let rate = cfg.rate.clone();
        let server = Server::bind(listen, sc, move |s| serve(s, &folder, rate.clone()))?;
        Ok(ShareServer { server })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    pub fn stop(&mut self) {
        self.server.stop();
    }
}

fn serve(stream: TcpStream, folder: &Folder, rate: Option<Arc<TokenBucket>>) -> ConnResult {
    let mut reader = BufReader::new(stream.try_clone()?);
    let progress = Progress(LimitedWriter::new(stream.try_clone()?, rate));
    let out = BufWriter::new(progress);
    let result = answer(&mut reader, out, folder);
    if result.is_err() {
        linger(&stream, reader);
    }
    result
}

/// Marks the connection [`net::useful`] each time the client takes more bytes: a
/// download that stalls becomes the first to go when the server is full.
struct Progress<W>(W);

impl<W: Write> Write for Progress<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.0.write(buf)?;
        net::useful();
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// After an error answer, reads (and drops) what the client is still sending, briefly.
/// Closing a socket with unread bytes makes the kernel send a reset, which can destroy
/// our answer before the client reads it.
fn linger(stream: &TcpStream, reader: BufReader<TcpStream>) {
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let _ = io::copy(&mut reader.take(64 * 1024), &mut io::sink());
}

fn answer<W: Write>(reader: &mut BufReader<TcpStream>, mut out: W, folder: &Folder) -> ConnResult {
    let head = match read_head(reader, MAX_HEAD, MAX_HEADERS) {
        Ok(Some(h)) => h,
        Ok(None) => return Ok(()),
        Err(WireError::TooLong { .. }) => return refuse(&mut out, 400, "request head too large"),
        Err(e) => return refuse(&mut out, 400, &e.to_string()),
    };
    net::established();
    let parts: Vec<&str> = head.start.split(' ').collect();
    let [method, target, version] = parts[..] else {
        return refuse(&mut out, 400, "request line is not 'METHOD TARGET VERSION'");
    };
    if !version.starts_with("HTTP/1.") {
        return refuse(&mut out, 400, "not HTTP/1.x");
    }
    if method != "GET" && method != "HEAD" {
        return refuse(&mut out, 405, "only GET and HEAD");
    }
    let file = match parse_target(target) {
        Err(why) => return refuse(&mut out, 400, why),
        Ok(Target::Index { index, name }) => folder.by_index(index).filter(|f| f.name == name),
        Ok(Target::Sha1(id)) => folder.by_sha1(&id),
    };
    let Some(file) = file else {
        return refuse(&mut out, 404, "no such file");
    };
    let start = match head.get("Range").map(|r| parse_range(r, file.size)) {
        None => None,
        Some(Some(start)) => Some(start),
        Some(None) => return refuse(&mut out, 416, "range not satisfiable"),
    };
    send_file(&mut out, folder, file, start, method == "HEAD")
}

/// `bytes=N-` or `bytes=N-M` (only N is used: we always send to the end).
pub fn parse_range(value: &str, size: u64) -> Option<u64> {
    let spec = value.trim().strip_prefix("bytes=")?;
    let (from, _) = spec.split_once('-')?;
    let from: u64 = from.trim().parse().ok()?;
    (from < size || (from == 0 && size == 0)).then_some(from)
}

fn send_file<W: Write>(
    out: &mut W,
    folder: &Folder,
    file: &SharedFile,
    start: Option<u64>,
    head_only: bool,
) -> ConnResult {
    let mut f = File::open(folder.path_of(file))?;
    let from = start.unwrap_or(0);
    let len = file.size - from;
    let mut head = match start {
        Some(_) => format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {from}-{}/{}\r\n",
            file.size.saturating_sub(1),
            file.size
        ),
        None => "HTTP/1.1 200 OK\r\n".to_string(),
    };
    head.push_str(&format!(
        "Server: p2plab/0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: {len}\r\n\
         X-Gnutella-Content-URN: urn:sha1:{}\r\nConnection: close\r\n\r\n",
        super::ids::to_base32(&file.sha1)
    ));
    out.write_all(head.as_bytes())?;
    if !head_only {
        f.seek(SeekFrom::Start(from))?;
        let copied = io::copy(&mut (&mut f).take(len), out)?;
        if copied != len {
            return Err(format!("{} shrank while being sent", file.name).into());
        }
    }
    out.flush()?;
    Ok(())
}

fn refuse<W: Write>(out: &mut W, code: u16, why: &str) -> ConnResult {
    let reason = match code {
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        416 => "Range Not Satisfiable",
        _ => "Error",
    };
    let body = format!("{why}\n");
    let msg = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    out.write_all(msg.as_bytes())?;
    out.flush()?;
    Err(format!("answered {code}: {why}").into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            parse_target("/get/3/Abbey%20Road.mp3/"),
            Ok(Target::Index {
                index: 3,
                name: "Abbey Road.mp3".into()
            })
        );
        assert_eq!(
            parse_target("/uri-res/N2R?urn:sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"),
            Ok(Target::Sha1(super::super::ids::sha1_bytes(b"")))
        );
        assert!(parse_target("/etc/passwd").is_err());
        assert!(parse_target("/get/x/y").is_err());
        assert!(parse_target("/get/1/%zz").is_err());
        // A traversal is only a name; it can never match a scanned file's name.
        assert_eq!(
            parse_target("/get/0/..%2F..%2Fetc%2Fpasswd"),
            Ok(Target::Index {
                index: 0,
                name: "../../etc/passwd".into()
            })
        );
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=100-", 1000), Some(100));
        assert_eq!(parse_range("bytes=0-499", 1000), Some(0));
        assert_eq!(parse_range("bytes=1000-", 1000), None);
        assert_eq!(parse_range("items=1-", 1000), None);
    }
}
