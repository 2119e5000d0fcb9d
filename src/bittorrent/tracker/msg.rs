//! The client side of the tracker: announce ourselves, get a list of peers back.
//!
//! ```text
//!   GET /announce?info_hash=%12%34..&peer_id=-PL0001-..&port=6881&uploaded=0
//!       &downloaded=0&left=268435456&compact=1&numwant=50&event=started HTTP/1.0
//!   ◄── d8:completei1e10:incompletei0e8:intervali1800e5:peers6:\x7f\x00\x00\x01\x1a\xe1e
//! ```
//! Works against our tracker and against opentracker; reads both peer-list forms.
//! The tracker's own side of the same messages: `msg/query.rs` and `msg/answer.rs`.

pub mod answer;
pub mod query;

use crate::bittorrent::bencode::{self, Value};
use crate::bittorrent::metainfo::InfoHash;
use crate::bittorrent::msg::handshake::PeerId;
use crate::share::url::percent_encode;
use crate::wire::read_head;
use std::fmt;
use std::io::{BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

/// Longest tracker reply read: 50 peers take 300 bytes compact, a few KiB as dicts.
pub const MAX_REPLY: u64 = 1024 * 1024;
/// A tracker must answer within this time.
pub const TRACKER_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Started,
    Completed,
    Stopped,
    /// A periodic announce: no `event` parameter.
    Periodic,
}

impl Event {
    pub fn as_str(self) -> Option<&'static str> {
        match self {
            Event::Started => Some("started"),
            Event::Completed => Some("completed"),
            Event::Stopped => Some("stopped"),
            Event::Periodic => None,
        }
    }
}

/// Everything BEP 3 asks an announce to carry.
#[derive(Debug, Clone)]
pub struct Announce {
    pub info_hash: InfoHash,
    pub peer_id: PeerId,
    pub port: u16,
    pub uploaded: u64,
    pub downloaded: u64,
    pub left: u64,
    pub event: Event,
    pub numwant: u32,
}

/// What the tracker said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub interval: Duration,
    pub complete: Option<u64>,
    pub incomplete: Option<u64>,
    pub peers: Vec<SocketAddr>,
}

#[derive(Debug)]
pub enum TrackerError {
    Io(std::io::Error),
    /// The URL is not `http://host:port/path`.
    Url(String),
    /// Not a 200 answer, or not a well-formed one.
    Http(String),
    /// The tracker said no (`failure reason`).
    Failure(String),
}

impl fmt::Display for TrackerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrackerError::Io(e) => write!(f, "tracker unreachable: {e}"),
            TrackerError::Url(u) => write!(f, "not an http:// tracker URL: {u}"),
            TrackerError::Http(why) => write!(f, "bad tracker answer: {why}"),
            TrackerError::Failure(why) => write!(f, "tracker refused: {why}"),
        }
    }
}

impl std::error::Error for TrackerError {}

impl From<std::io::Error> for TrackerError {
    fn from(e: std::io::Error) -> Self {
        TrackerError::Io(e)
    }
}

/// Announces to `url` and returns the tracker's reply.
pub fn announce(url: &str, a: &Announce) -> Result<Reply, TrackerError> {
    let mut q = format!(
        "info_hash={}&peer_id={}&port={}&uploaded={}&downloaded={}&left={}&compact=1&numwant={}",
        percent_encode(&a.info_hash),
        percent_encode(&a.peer_id),
        a.port,
        a.uploaded,
        a.downloaded,
        a.left,
        a.numwant
    );
    if let Some(e) = a.event.as_str() {
        q.push_str("&event=");
        q.push_str(e);
    }
    let body = http_get(url, &q)?;
    parse_reply(&body)
}

/// Scrape (BEP 48): `(complete, incomplete, downloaded)` for one torrent.
pub fn scrape(announce_url: &str, info_hash: &InfoHash) -> Result<(u64, u64, u64), TrackerError> {
    let (base, tail) = announce_url
        .rsplit_once('/')
        .ok_or_else(|| TrackerError::Url(announce_url.into()))?;
    let Some(rest) = tail.strip_prefix("announce") else {
        return Err(TrackerError::Url(format!(
            "{announce_url} (no /announce to scrape)"
        )));
    };
    let url = format!("{base}/scrape{rest}");
    let body = http_get(&url, &format!("info_hash={}", percent_encode(info_hash)))?;
    let v = bencode::decode(&body).map_err(|e| TrackerError::Http(e.to_string()))?;
    let entry = v
        .get("files")
        .and_then(Value::as_dict)
        .and_then(|d| d.get(info_hash.as_slice()))
        .ok_or_else(|| TrackerError::Http("scrape without this torrent".into()))?;
    let n = |k| entry.get(k).and_then(Value::as_int).unwrap_or(0).max(0) as u64;
    Ok((n("complete"), n("incomplete"), n("downloaded")))
}

/// Splits `http://host:port/path?query` into `host:port` and `/path?query`.
pub(crate) fn split_url(url: &str) -> Result<(&str, &str), TrackerError> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| TrackerError::Url(url.into()))?;
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if host.is_empty() {
        return Err(TrackerError::Url(url.into()));
    }
    Ok((host, if path.is_empty() { "/" } else { path }))
}

fn http_get(url: &str, query: &str) -> Result<Vec<u8>, TrackerError> {
    http_get_limited(url, query, MAX_REPLY)
}

/// `GET url` (a `.torrent` on a website): the body, refused beyond `max` bytes.
pub fn get_file(url: &str, max: u64) -> Result<Vec<u8>, TrackerError> {
    http_get_limited(url, "", max)
}

fn http_get_limited(url: &str, query: &str, max: u64) -> Result<Vec<u8>, TrackerError> {
    let (host, path) = split_url(url)?;
    let sep = match (query.is_empty(), path.contains('?')) {
        (true, _) => "",
        (false, true) => "&",
        (false, false) => "?",
    };
    let mut stream = connect_http(host)?;
    let req = format!(
        "GET {path}{sep}{query} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: p2plab/0.1\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(req.as_bytes())?;
    let mut r = BufReader::new(stream);
    let head = read_head(&mut r, 8 * 1024, 64)
        .map_err(|e| TrackerError::Http(e.to_string()))?
        .ok_or_else(|| TrackerError::Http("closed without an answer".into()))?;
    let status = head.start.split(' ').nth(1).unwrap_or("");
    if status != "200" {
        return Err(TrackerError::Http(format!("'{}'", head.start)));
    }
    let mut body = Vec::new();
    let len = match head.get("Content-Length") {
        Some(l) => l
            .parse::<u64>()
            .map_err(|_| TrackerError::Http("bad Content-Length".into()))?,
        None => max + 1,
    };
    if len > max && head.get("Content-Length").is_some() {
        return Err(TrackerError::Http(format!(
            "reply of {len} bytes exceeds {max}"
        )));
    }
    r.take(len.min(max + 1)).read_to_end(&mut body)?;
    if body.len() as u64 > max {
        return Err(TrackerError::Http(format!("reply longer than {max} bytes")));
    }
    Ok(body)
}

/// Decodes an announce reply: a failure, or interval + peers (compact or dicts).
pub fn parse_reply(body: &[u8]) -> Result<Reply, TrackerError> {
    let v = bencode::decode(body).map_err(|e| TrackerError::Http(e.to_string()))?;
    if let Some(why) = v.get("failure reason") {
        return Err(TrackerError::Failure(
            String::from_utf8_lossy(why.as_bytes().unwrap_or(b"?")).into_owned(),
        ));
    }
    let interval = v
        .get("interval")
        .and_then(Value::as_int)
        .filter(|&i| i > 0)
        .ok_or_else(|| TrackerError::Http("no interval".into()))?;
    let count = |k| v.get(k).and_then(Value::as_int).map(|n| n.max(0) as u64);
    let peers = match v.get("peers") {
        Some(Value::Bytes(b)) => {
            if !b.len().is_multiple_of(6) {
                return Err(TrackerError::Http(
                    "compact peers not a multiple of 6".into(),
                ));
            }
            b.chunks_exact(6)
                .map(|c| {
                    let ip = Ipv4Addr::new(c[0], c[1], c[2], c[3]);
                    SocketAddr::V4(SocketAddrV4::new(ip, u16::from_be_bytes([c[4], c[5]])))
                })
                .collect()
        }
        Some(Value::List(list)) => list
            .iter()
            .filter_map(|p| {
                let ip: std::net::IpAddr = p.get("ip")?.as_str()?.parse().ok()?;
                let port = u16::try_from(p.get("port")?.as_int()?).ok()?;
                Some(SocketAddr::new(ip, port))
            })
            .collect(),
        None => Vec::new(),
        Some(_) => {
            return Err(TrackerError::Http(
                "peers is neither a string nor a list".into(),
            ))
        }
    };
    Ok(Reply {
        interval: Duration::from_secs(interval as u64),
        complete: count("complete"),
        incomplete: count("incomplete"),
        peers,
    })
}

/// A connection to an HTTP `host` (port 80 unless it names one), with the tracker's
/// timeouts: announces, scrapes and the site's uploads all open theirs here.
pub(crate) fn connect_http(host: &str) -> Result<std::net::TcpStream, TrackerError> {
    let addr = if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:80")
    };
    let stream = crate::net::connect(addr.as_str(), Some(TRACKER_TIMEOUT))?;
    stream.set_write_timeout(Some(TRACKER_TIMEOUT))?;
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_and_dict_peers() {
        // peers: 7f 00 00 01 | 1a e1  = 127.0.0.1:6881
        let compact =
            b"d8:completei1e10:incompletei2e8:intervali60e5:peers6:\x7f\x00\x00\x01\x1a\xe1e";
        let r = parse_reply(compact).unwrap();
        assert_eq!(r.peers, ["127.0.0.1:6881".parse().unwrap()]);
        assert_eq!((r.complete, r.incomplete), (Some(1), Some(2)));
        assert_eq!(r.interval, Duration::from_secs(60));
        let dicts =
            b"d8:intervali60e5:peersld2:ip9:127.0.0.27:peer id20:aaaaaaaaaaaaaaaaaaaa4:porti80eeee";
        assert_eq!(
            parse_reply(dicts).unwrap().peers,
            ["127.0.0.2:80".parse().unwrap()]
        );
        let fail = b"d14:failure reason9:not founde";
        assert!(matches!(parse_reply(fail), Err(TrackerError::Failure(w)) if w == "not found"));
    }

    #[test]
    fn urls() {
        assert_eq!(
            split_url("http://127.0.0.1:6969/announce").unwrap(),
            ("127.0.0.1:6969", "/announce")
        );
        assert_eq!(split_url("http://h/a?k=1").unwrap(), ("h", "/a?k=1"));
        assert!(split_url("udp://h:1/announce").is_err());
    }
}
