//! The tracker (追踪服务器): who is in each torrent. An HTTP server answering GET.
//!
//! ```text
//!   peer ──GET /announce?info_hash=..&peer_id=..&port=..&left=..&event=started──► tracker
//!        ◄── d 8:complete i1e 10:incomplete i3e 8:interval i300e 5:peers <6 bytes each> e
//! ```
//! It stores, per info-hash, each peer's address and how much it still needs (`left`
//! = 0 makes it a seed). It never touches the file: the swarm moves the data.

use crate::bittorrent::bencode::{encode, Value};
use crate::net::{ConnResult, Server, ServerConfig};
use crate::share::url::percent_decode;
use crate::wire::read_head;
use log::debug;
use std::collections::{BTreeMap, HashMap};
use std::io::{self, BufReader, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Peers returned when the client does not say `numwant`, and the most we ever return.
pub const DEFAULT_NUMWANT: usize = 50;
pub const MAX_NUMWANT: usize = 200;
/// Limits on what announces can make the tracker remember.
pub const MAX_TORRENTS: usize = 10_000;
pub const MAX_PEERS_PER_TORRENT: usize = 5_000;
/// Info-hashes one scrape may ask for.
pub const MAX_SCRAPE: usize = 64;
/// Request heads are short: a GET line with a query of ~250 bytes.
const MAX_HEAD: usize = 8 * 1024;

#[derive(Debug, Clone)]
pub struct TrackerConfig {
    /// `interval` told to clients: how often to re-announce. Peers silent for twice
    /// this long are forgotten.
    pub interval: Duration,
}

impl Default for TrackerConfig {
    fn default() -> TrackerConfig {
        TrackerConfig {
            interval: Duration::from_secs(300),
        }
    }
}

struct PeerInfo {
    addr: SocketAddr,
    left: u64,
    seen: Instant,
}

#[derive(Default)]
struct Swarm {
    peers: HashMap<Vec<u8>, PeerInfo>,
    /// Completed downloads (`event=completed`), for scrape.
    downloaded: u64,
}

impl Swarm {
    fn counts(&self) -> (i64, i64) {
        let seeds = self.peers.values().filter(|p| p.left == 0).count() as i64;
        (seeds, self.peers.len() as i64 - seeds)
    }
}

type Swarms = Arc<Mutex<HashMap<Vec<u8>, Swarm>>>;

/// A running tracker; dropping it stops it.
pub struct Tracker {
    server: Server,
    swarms: Swarms,
}

impl Tracker {
    pub fn start(listen: &str, cfg: TrackerConfig) -> io::Result<Tracker> {
        let swarms: Swarms = Arc::default();
        let mut sc = ServerConfig::new("bt-tracker");
        sc.read_timeout = Some(Duration::from_secs(10));
        sc.write_timeout = Some(Duration::from_secs(10));
        let s = swarms.clone();
        let server = Server::bind(listen, sc, move |stream| serve(stream, &s, &cfg))?;
        Ok(Tracker { server, swarms })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// The announce URL of this tracker.
    pub fn announce_url(&self) -> String {
        format!("http://{}/announce", self.local_addr())
    }

    /// `(seeds, leechers)` known for an info-hash.
    pub fn counts(&self, info_hash: &[u8]) -> (usize, usize) {
        let swarms = self.swarms.lock().unwrap_or_else(|p| p.into_inner());
        swarms
            .get(info_hash)
            .map(|s| {
                let (c, i) = s.counts();
                (c as usize, i as usize)
            })
            .unwrap_or((0, 0))
    }

    pub fn stop(&mut self) {
        self.server.stop();
    }
}

/// Query parameters as raw bytes (an info_hash is binary), repeated keys kept.
pub fn parse_query(query: &str) -> Option<Vec<(String, Vec<u8>)>> {
    query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            Some((k.to_string(), percent_decode(v, true)?))
        })
        .collect()
}

fn serve(stream: TcpStream, swarms: &Swarms, cfg: &TrackerConfig) -> ConnResult {
    let ip = stream.peer_addr()?.ip();
    let mut r = BufReader::new(stream.try_clone()?);
    let Some(head) = read_head(&mut r, MAX_HEAD, 32)? else {
        return Ok(());
    };
    let target = head.start.split(' ').nth(1).unwrap_or("");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let reply = match parse_query(query) {
        None => failure("broken percent escape in the query"),
        Some(q) if path.ends_with("/announce") => announce(ip, &q, swarms, cfg),
        Some(q) if path.ends_with("/scrape") => scrape(&q, swarms),
        Some(_) => {
            let msg = "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            (&stream).write_all(msg.as_bytes())?;
            return Ok(());
        }
    };
    let body = encode(&reply);
    let head = format!(
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut out = head.into_bytes();
    out.extend_from_slice(&body);
    (&stream).write_all(&out)?;
    Ok(())
}

fn failure(why: &str) -> Value {
    dict(vec![("failure reason", Value::str(why))])
}

fn dict(items: Vec<(&str, Value)>) -> Value {
    Value::Dict(
        items
            .into_iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v))
            .collect(),
    )
}

fn param<'a>(q: &'a [(String, Vec<u8>)], key: &str) -> Option<&'a [u8]> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_slice())
}

fn number(q: &[(String, Vec<u8>)], key: &str) -> Option<u64> {
    std::str::from_utf8(param(q, key)?).ok()?.parse().ok()
}

/// One announce: check every BEP 3 parameter, update the swarm, answer with peers.
fn announce(ip: IpAddr, q: &[(String, Vec<u8>)], swarms: &Swarms, cfg: &TrackerConfig) -> Value {
    let (Some(hash), Some(id)) = (param(q, "info_hash"), param(q, "peer_id")) else {
        return failure("info_hash and peer_id are required");
    };
    if hash.len() != 20 || id.len() != 20 {
        return failure("info_hash and peer_id must be 20 bytes");
    }
    let port = match number(q, "port") {
        Some(p @ 1..=65535) => p as u16,
        _ => return failure("port must be 1-65535"),
    };
    let (Some(_up), Some(_down), Some(left)) = (
        number(q, "uploaded"),
        number(q, "downloaded"),
        number(q, "left"),
    ) else {
        return failure("uploaded, downloaded and left are required numbers");
    };
    let compact = param(q, "compact") != Some(b"0");
    let no_peer_id = param(q, "no_peer_id") == Some(b"1");
    let numwant = number(q, "numwant").map_or(DEFAULT_NUMWANT, |n| (n as usize).min(MAX_NUMWANT));
    let event = param(q, "event").unwrap_or(b"");
    let mut all = swarms.lock().unwrap_or_else(|p| p.into_inner());
    if !all.contains_key(hash) && all.len() >= MAX_TORRENTS {
        return failure("tracker is full");
    }
    let swarm = all.entry(hash.to_vec()).or_default();
    let stale = cfg.interval * 2;
    swarm.peers.retain(|_, p| p.seen.elapsed() < stale);
    if event == b"stopped" {
        swarm.peers.remove(id);
    } else {
        if !swarm.peers.contains_key(id) && swarm.peers.len() >= MAX_PEERS_PER_TORRENT {
            return failure("torrent is full");
        }
        if event == b"completed" {
            swarm.downloaded += 1;
        }
        let addr = SocketAddr::new(ip, port);
        swarm.peers.insert(
            id.to_vec(),
            PeerInfo {
                addr,
                left,
                seen: Instant::now(),
            },
        );
    }
    debug!(
        "announce {:?} from {ip}:{port}, left {left}",
        String::from_utf8_lossy(event)
    );
    let (complete, incomplete) = swarm.counts();
    let others = swarm
        .peers
        .iter()
        .filter(|(pid, _)| pid.as_slice() != id)
        .take(numwant);
    let peers = if compact {
        let mut b = Vec::new();
        for (_, p) in others {
            if let SocketAddr::V4(a) = p.addr {
                b.extend_from_slice(&a.ip().octets());
                b.extend_from_slice(&a.port().to_be_bytes());
            }
        }
        Value::Bytes(b)
    } else {
        Value::List(
            others
                .map(|(pid, p)| {
                    let mut d = vec![
                        ("ip", Value::str(&p.addr.ip().to_string())),
                        ("port", Value::Int(p.addr.port() as i64)),
                    ];
                    if !no_peer_id {
                        d.push(("peer id", Value::Bytes(pid.clone())));
                    }
                    dict(d)
                })
                .collect(),
        )
    };
    dict(vec![
        ("complete", Value::Int(complete)),
        ("incomplete", Value::Int(incomplete)),
        ("interval", Value::Int(cfg.interval.as_secs() as i64)),
        (
            "min interval",
            Value::Int((cfg.interval.as_secs() / 2).max(1) as i64),
        ),
        ("peers", peers),
    ])
}

/// Scrape (BEP 48): counts for each asked info-hash (or every torrent, capped).
fn scrape(q: &[(String, Vec<u8>)], swarms: &Swarms) -> Value {
    let all = swarms.lock().unwrap_or_else(|p| p.into_inner());
    let asked: Vec<&[u8]> = q
        .iter()
        .filter(|(k, _)| k == "info_hash")
        .map(|(_, v)| v.as_slice())
        .collect();
    let hashes: Vec<&[u8]> = if asked.is_empty() {
        all.keys().map(Vec::as_slice).take(MAX_SCRAPE).collect()
    } else {
        asked.into_iter().take(MAX_SCRAPE).collect()
    };
    let mut files = BTreeMap::new();
    for h in hashes {
        let Some(s) = all.get(h) else { continue };
        let (complete, incomplete) = s.counts();
        let entry = dict(vec![
            ("complete", Value::Int(complete)),
            ("downloaded", Value::Int(s.downloaded as i64)),
            ("incomplete", Value::Int(incomplete)),
        ]);
        files.insert(h.to_vec(), entry);
    }
    dict(vec![("files", Value::Dict(files))])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_keeps_raw_bytes_and_repeats() {
        let q = parse_query("info_hash=%12%34ab&info_hash=%FF&port=6881&x").unwrap();
        assert_eq!(q[0], ("info_hash".into(), vec![0x12, 0x34, b'a', b'b']));
        assert_eq!(q[1].1, [0xff]);
        assert_eq!(number(&q, "port"), Some(6881));
        assert_eq!(param(&q, "x"), Some(&b""[..]));
        assert!(parse_query("a=%zz").is_none());
    }
}
