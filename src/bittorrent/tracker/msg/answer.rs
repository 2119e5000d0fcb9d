//! The tracker's side of a reply: what the coordinator decided, as HTTP and bencode.
//!
//! ```text
//!   HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 55\r\nConnection: close\r\n\r\n
//!   d8:completei1e10:incompletei0e8:intervali300e12:min intervali150e5:peers6:<ip4><port2>e
//! ```
//! A refusal is also a 200 with a bencoded `failure reason` (BEP 3); only a path the
//! tracker does not serve gets a 404.

use crate::bittorrent::bencode::{encode, Value};
use crate::bittorrent::metainfo::InfoHash;
use crate::bittorrent::msg::handshake::PeerId;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

pub const NOT_FOUND: &[u8] =
    b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// The answer to one announce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnounceAnswer {
    /// Seeds and leechers in the swarm, the asker included.
    pub complete: u64,
    pub incomplete: u64,
    pub interval: Duration,
    /// Other peers to try, as the tracker knows them: id and address.
    pub peers: Vec<(PeerId, SocketAddr)>,
}

/// Scrape counts of one torrent (BEP 48).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScrapeCounts {
    pub complete: u64,
    pub downloaded: u64,
    pub incomplete: u64,
}

/// The `interval` on the wire: whole seconds, at least 1 (a test tracker may run on
/// milliseconds; a client must never be told to re-announce in a busy loop).
pub fn wire_secs(d: Duration) -> i64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1) as i64
}

fn int(n: u64) -> Value {
    Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

fn dict(items: Vec<(&str, Value)>) -> Value {
    Value::Dict(
        items
            .into_iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v))
            .collect(),
    )
}

pub fn failure(why: &str) -> Value {
    dict(vec![("failure reason", Value::str(why))])
}

/// An announce answer: peers compact (6 bytes each, IPv4 only, BEP 23) or as dicts.
pub fn announce(a: &AnnounceAnswer, compact: bool, no_peer_id: bool) -> Value {
    let peers = if compact {
        let mut b = Vec::with_capacity(6 * a.peers.len());
        for (_, addr) in &a.peers {
            if let SocketAddr::V4(v4) = addr {
                b.extend_from_slice(&v4.ip().octets());
                b.extend_from_slice(&v4.port().to_be_bytes());
            }
        }
        Value::Bytes(b)
    } else {
        let list = a.peers.iter().map(|(id, addr)| {
            let mut d = vec![
                ("ip", Value::str(&addr.ip().to_string())),
                ("port", Value::Int(i64::from(addr.port()))),
            ];
            if !no_peer_id {
                d.push(("peer id", Value::Bytes(id.to_vec())));
            }
            dict(d)
        });
        Value::List(list.collect())
    };
    let interval = wire_secs(a.interval);
    dict(vec![
        ("complete", int(a.complete)),
        ("incomplete", int(a.incomplete)),
        ("interval", Value::Int(interval)),
        ("min interval", Value::Int((interval / 2).max(1))),
        ("peers", peers),
    ])
}

/// A scrape answer: `files` maps each known info-hash to its counts.
pub fn scrape(files: &[(InfoHash, ScrapeCounts)]) -> Value {
    let files: BTreeMap<Vec<u8>, Value> = files
        .iter()
        .map(|(hash, c)| {
            let entry = dict(vec![
                ("complete", int(c.complete)),
                ("downloaded", int(c.downloaded)),
                ("incomplete", int(c.incomplete)),
            ]);
            (hash.to_vec(), entry)
        })
        .collect();
    dict(vec![("files", Value::Dict(files))])
}

/// A whole `200 OK` response carrying `body` bencoded.
pub fn http_ok(body: &Value) -> Vec<u8> {
    let body = encode(body);
    let mut out = format!(
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(peers: Vec<(PeerId, SocketAddr)>) -> AnnounceAnswer {
        AnnounceAnswer {
            complete: 1,
            incomplete: 0,
            interval: Duration::from_secs(300),
            peers,
        }
    }

    #[test]
    fn compact_peers_are_six_bytes_each_ipv4_only() {
        let peers = vec![
            ([1; 20], "127.0.0.1:6881".parse().unwrap()),
            ([2; 20], "[::1]:6881".parse().unwrap()), // no room for it in 6 bytes
        ];
        let want = b"d8:completei1e10:incompletei0e8:intervali300e12:min intervali150e\
                     5:peers6:\x7f\x00\x00\x01\x1a\xe1e";
        assert_eq!(encode(&announce(&answer(peers), true, false)), want);
    }

    #[test]
    fn dict_peers_with_and_without_ids() {
        let peers = vec![([b'a'; 20], "127.0.0.2:80".parse().unwrap())];
        let with = encode(&announce(&answer(peers.clone()), false, false));
        let tail = b"5:peersld2:ip9:127.0.0.27:peer id20:aaaaaaaaaaaaaaaaaaaa4:porti80eeee";
        assert!(with.ends_with(tail), "{}", String::from_utf8_lossy(&with));
        let without = encode(&announce(&answer(peers), false, true));
        assert!(without.ends_with(b"5:peersld2:ip9:127.0.0.24:porti80eeee"));
    }

    #[test]
    fn intervals_are_whole_seconds_at_least_one() {
        assert_eq!(wire_secs(Duration::from_millis(50)), 1);
        assert_eq!(wire_secs(Duration::from_millis(1500)), 2);
        assert_eq!(wire_secs(Duration::from_secs(300)), 300);
    }

    #[test]
    fn scrape_and_failure_bytes() {
        let c = ScrapeCounts {
            complete: 2,
            downloaded: 1,
            incomplete: 0,
        };
        let want = b"d5:filesd20:hhhhhhhhhhhhhhhhhhhh\
                     d8:completei2e10:downloadedi1e10:incompletei0eeee";
        assert_eq!(encode(&scrape(&[([b'h'; 20], c)])), want);
        assert_eq!(encode(&failure("no")), b"d14:failure reason2:noe");
        assert!(http_ok(&failure("no")).starts_with(b"HTTP/1.0 200 OK\r\n"));
    }
}
