//! The tracker's side of a request: the GET target a client sent, checked and typed.
//!
//! ```text
//!   GET /announce?info_hash=%12%34..&peer_id=-PL0001-..&port=6881&uploaded=0
//!       &downloaded=0&left=262144&compact=1&numwant=50&event=started HTTP/1.0
//!   GET /scrape?info_hash=%12%34..&info_hash=%56%78..
//! ```
//! [`decode`] never panics and allocates at most what the (already length-capped) request
//! head holds. A request it cannot use is an [`Unusable`]: a 404 for a path that is
//! neither announce nor scrape, a bencoded `failure reason` for anything else.

use super::Event;
use crate::bittorrent::metainfo::InfoHash;
use crate::bittorrent::msg::handshake::PeerId;
use crate::share::url::percent_decode;

/// Peers returned when the client does not say `numwant`, and the most we ever return.
pub const DEFAULT_NUMWANT: usize = 50;
pub const MAX_NUMWANT: usize = 200;
/// Info-hashes one scrape may ask for.
pub const MAX_SCRAPE: usize = 64;

/// One announce, as BEP 3 asks for it. The client's address is not here: the tracker
/// takes the IP from the connection, never from an `ip` parameter a client could forge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnounceQuery {
    pub info_hash: InfoHash,
    pub peer_id: PeerId,
    pub port: u16,
    /// Bytes the client still needs; 0 makes it a seed.
    pub left: u64,
    pub event: Event,
    /// BEP 23: peers as 6 bytes each (the default) rather than a list of dicts.
    pub compact: bool,
    /// In the dict form, leave out each peer's id.
    pub no_peer_id: bool,
    pub numwant: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    Announce(AnnounceQuery),
    /// BEP 48: the torrents asked for; none means "every torrent" (capped).
    Scrape(Vec<InfoHash>),
}

/// Why a request gets no announce or scrape answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    /// Neither `/announce` nor `/scrape`: HTTP 404.
    NotFound,
    /// Told to the client as a bencoded `failure reason`.
    Failure(&'static str),
}

/// Reads the request target (`/announce?…`) of a GET line.
pub fn decode(target: &str) -> Result<Query, Unusable> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let q = parse_query(query).ok_or(Unusable::Failure("broken percent escape in the query"))?;
    if path.ends_with("/announce") {
        announce(&q).map(Query::Announce).map_err(Unusable::Failure)
    } else if path.ends_with("/scrape") {
        let hashes = q
            .iter()
            .filter(|(k, _)| k == "info_hash")
            .filter_map(|(_, v)| InfoHash::try_from(v.as_slice()).ok())
            .take(MAX_SCRAPE)
            .collect();
        Ok(Query::Scrape(hashes))
    } else {
        Err(Unusable::NotFound)
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

fn param<'a>(q: &'a [(String, Vec<u8>)], key: &str) -> Option<&'a [u8]> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_slice())
}

fn number(q: &[(String, Vec<u8>)], key: &str) -> Option<u64> {
    std::str::from_utf8(param(q, key)?).ok()?.parse().ok()
}

/// Checks every BEP 3 parameter of an announce.
fn announce(q: &[(String, Vec<u8>)]) -> Result<AnnounceQuery, &'static str> {
    let (Some(hash), Some(id)) = (param(q, "info_hash"), param(q, "peer_id")) else {
        return Err("info_hash and peer_id are required");
    };
    let (Ok(info_hash), Ok(peer_id)) = (InfoHash::try_from(hash), PeerId::try_from(id)) else {
        return Err("info_hash and peer_id must be 20 bytes");
    };
    let port = match number(q, "port") {
        Some(p @ 1..=65535) => p as u16,
        _ => return Err("port must be 1-65535"),
    };
    let (Some(_up), Some(_down), Some(left)) = (
        number(q, "uploaded"),
        number(q, "downloaded"),
        number(q, "left"),
    ) else {
        return Err("uploaded, downloaded and left are required numbers");
    };
    // BEP 3 names "empty" for a periodic announce; an unknown event is treated the same.
    let event = match param(q, "event").unwrap_or(b"") {
        b"started" => Event::Started,
        b"completed" => Event::Completed,
        b"stopped" => Event::Stopped,
        _ => Event::Periodic,
    };
    Ok(AnnounceQuery {
        info_hash,
        peer_id,
        port,
        left,
        event,
        compact: param(q, "compact") != Some(b"0"),
        no_peer_id: param(q, "no_peer_id") == Some(b"1"),
        numwant: number(q, "numwant").map_or(DEFAULT_NUMWANT, |n| {
            usize::try_from(n).unwrap_or(MAX_NUMWANT).min(MAX_NUMWANT)
        }),
    })
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

    #[test]
    fn an_announce_with_every_parameter() {
        let target = format!(
            "/announce?info_hash={}&peer_id=-PL0001-aaaaaaaaaaaa&port=6881&uploaded=0\
             &downloaded=0&left=9&compact=0&no_peer_id=1&numwant=999&event=stopped",
            "%11".repeat(20)
        );
        let Ok(Query::Announce(a)) = decode(&target) else {
            panic!("not an announce: {:?}", decode(&target));
        };
        assert_eq!(a.info_hash, [0x11; 20]);
        assert_eq!(&a.peer_id, b"-PL0001-aaaaaaaaaaaa");
        assert_eq!((a.port, a.left, a.event), (6881, 9, Event::Stopped));
        assert!(!a.compact && a.no_peer_id);
        assert_eq!(a.numwant, MAX_NUMWANT, "numwant is capped");
    }

    #[test]
    fn bad_requests_say_why() {
        let fail = |t: &str| match decode(t) {
            Err(Unusable::Failure(why)) => why,
            other => panic!("{t}: {other:?}"),
        };
        assert_eq!(
            fail("/announce?a=%zz"),
            "broken percent escape in the query"
        );
        assert_eq!(
            fail("/announce?port=1"),
            "info_hash and peer_id are required"
        );
        assert_eq!(
            fail("/announce?info_hash=abc&peer_id=abc&port=1"),
            "info_hash and peer_id must be 20 bytes"
        );
        let ids = format!("info_hash={0}&peer_id={0}", "%22".repeat(20));
        assert_eq!(
            fail(&format!(
                "/announce?{ids}&port=0&uploaded=0&downloaded=0&left=0"
            )),
            "port must be 1-65535"
        );
        assert_eq!(
            fail(&format!("/announce?{ids}&port=1&left=-1")),
            "uploaded, downloaded and left are required numbers"
        );
        assert_eq!(decode("/index.html"), Err(Unusable::NotFound));
    }

    #[test]
    fn a_scrape_keeps_20_byte_hashes_only() {
        let target = format!("/scrape?info_hash={}&info_hash=short", "%AB".repeat(20));
        assert_eq!(decode(&target), Ok(Query::Scrape(vec![[0xab; 20]])));
        assert_eq!(decode("/scrape"), Ok(Query::Scrape(vec![])));
    }
}
