//! Where a joining servent finds its first neighbour (notes: 对等方加入).
//!
//! 1. Its own host list on disk: peers that were often online ("死党列表"), one
//!    `ip:port` a line. If every one is offline, the list alone gets us nowhere.
//! 2. A host cache (GWebCache-style HTTP service, [`super::cache`]): `?hostfile=1`
//!    returns addresses of servents that recently announced themselves with `?ip=`.
//!
//! [`Hosts`] is the servent's in-memory list: the disk list, X-Try headers and Pongs
//! feed it, bounded to [`MAX_HOSTS`]; it is written back to disk when the servent leaves.

use crate::net;
use crate::wire::{read_body, read_head, WireError};
use std::collections::VecDeque;
use std::fs;
use std::io::{self, BufReader, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// Addresses remembered at most; the oldest are forgotten first.
pub const MAX_HOSTS: usize = 200;
/// Largest host cache answer read.
pub const MAX_CACHE_REPLY: u64 = 16 * 1024;
/// A host cache must answer within this time.
pub const CACHE_TIMEOUT: Duration = Duration::from_secs(5);

/// Known addresses, newest first, without duplicates; each marked verified once we
/// reached its listening socket ourselves. Anyone can put an address in a Pong, an
/// X-Try header or its own `Listen-IP`, so an unverified address is only a rumour:
/// verified ones are offered first (to the dialer, in X-Try) and a full list forgets
/// its oldest rumour before any verified address.
#[derive(Debug, Clone, Default)]
pub struct Hosts {
    list: VecDeque<(SocketAddr, bool)>,
}

impl Hosts {
    /// Remembers `addr` as the newest (moving it up if known, keeping its mark).
    pub fn add(&mut self, addr: SocketAddr) {
        if addr.port() == 0 {
            return;
        }
        let verified = self.take(&addr).unwrap_or(false);
        self.list.push_front((addr, verified));
        self.bound();
    }

    /// Adds at the back: known, but tried after everything newer.
    pub fn add_old(&mut self, addr: SocketAddr) {
        if addr.port() != 0 && !self.contains(&addr) && self.list.len() < MAX_HOSTS {
            self.list.push_back((addr, false));
        }
    }

    /// We reached `addr`'s listening socket and it spoke Gnutella: a verified host.
    pub fn verified(&mut self, addr: SocketAddr) {
        self.add(addr);
        if let Some(e) = self.list.front_mut() {
            e.1 = true;
        }
    }

    pub fn is_verified(&self, addr: &SocketAddr) -> bool {
        self.list.iter().any(|(a, v)| a == addr && *v)
    }

    pub fn remove(&mut self, addr: &SocketAddr) {
        self.take(addr);
    }

    /// Verified hosts first, then the others; newest first within each.
    pub fn to_vec(&self) -> Vec<SocketAddr> {
        let first = self.list.iter().filter(|(_, v)| *v);
        let then = self.list.iter().filter(|(_, v)| !*v);
        first.chain(then).map(|(a, _)| *a).collect()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    fn contains(&self, addr: &SocketAddr) -> bool {
        self.list.iter().any(|(a, _)| a == addr)
    }

    fn take(&mut self, addr: &SocketAddr) -> Option<bool> {
        let i = self.list.iter().position(|(a, _)| a == addr)?;
        self.list.remove(i).map(|(_, v)| v)
    }

    /// Over [`MAX_HOSTS`]: forget the oldest unverified address, else the oldest.
    fn bound(&mut self) {
        while self.list.len() > MAX_HOSTS {
            match self.list.iter().rposition(|(_, v)| !*v) {
                Some(i) => self.list.remove(i),
                None => self.list.pop_back(),
            };
        }
    }
}

/// Reads a host list: `ip:port` lines; blank lines, `#` comments and junk are skipped.
/// A missing file is an empty list.
pub fn load(path: &Path) -> Vec<SocketAddr> {
    let Ok(text) = fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.parse().ok())
        .take(MAX_HOSTS)
        .collect()
}

/// Writes a host list, newest first.
pub fn save(path: &Path, hosts: &[SocketAddr]) -> io::Result<()> {
    let mut text =
        String::from("# p2plab gnutella host list: often-online servents, newest first\n");
    for h in hosts.iter().take(MAX_HOSTS) {
        text.push_str(&format!("{h}\n"));
    }
    fs::write(path, text)
}

/// `http://host:port/path` into (`host:port`, `/path`).
pub fn split_url(url: &str) -> io::Result<(SocketAddr, String)> {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    Ok((net::parse_addr(host)?, path.to_string()))
}

/// One GET to a host cache; returns the body.
fn cache_get(url: &str, query: &str) -> io::Result<String> {
    let (addr, path) = split_url(url)?;
    let stream = net::connect(addr, Some(CACHE_TIMEOUT))?;
    let sep = if path.contains('?') { '&' } else { '?' };
    let req = format!(
        "GET {path}{sep}{query} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: {}\r\nConnection: close\r\n\r\n",
        super::msg::handshake::USER_AGENT
    );
    (&stream).write_all(req.as_bytes())?;
    let mut r = BufReader::new(stream);
    let bad = |e: WireError| io::Error::new(io::ErrorKind::InvalidData, e.to_string());
    let head = read_head(&mut r, 4096, 32)
        .map_err(bad)?
        .ok_or_else(|| bad(WireError::Malformed("host cache closed without answering")))?;
    if head.start.split(' ').nth(1) != Some("200") {
        return Err(io::Error::other(format!(
            "host cache answered {}",
            head.start
        )));
    }
    let len: u64 = head
        .get("Content-Length")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| bad(WireError::Malformed("no Content-Length")))?;
    let body = read_body(&mut r, len, MAX_CACHE_REPLY).map_err(bad)?;
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// `?hostfile=1`: addresses of recently announced servents.
pub fn cache_hostfile(url: &str) -> io::Result<Vec<SocketAddr>> {
    Ok(cache_get(url, "hostfile=1")?
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .take(MAX_HOSTS)
        .collect())
}

/// `?ip=ip:port`: announces our listening address.
pub fn cache_update(url: &str, me: SocketAddr) -> io::Result<()> {
    let body = cache_get(url, &format!("ip={me}"))?;
    if body.starts_with("OK") {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "host cache refused: {}",
            body.trim()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_bounded_and_newest_first() {
        let mut h = Hosts::default();
        for p in 1..=(MAX_HOSTS as u16 + 50) {
            h.add(SocketAddr::from(([127, 0, 0, 1], p)));
        }
        assert_eq!(h.len(), MAX_HOSTS);
        assert_eq!(h.to_vec()[0].port(), MAX_HOSTS as u16 + 50);
        h.add(SocketAddr::from(([127, 0, 0, 1], 0)));
        assert_eq!(h.len(), MAX_HOSTS, "port 0 is no address");
    }

    #[test]
    fn verified_hosts_come_first_and_outlive_rumours() {
        let mut h = Hosts::default();
        let a = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
        h.verified(a(1));
        for p in 2..=(MAX_HOSTS as u16 + 10) {
            h.add(a(p)); // rumours: Pongs, X-Try, Listen-IP claims
        }
        assert_eq!(h.len(), MAX_HOSTS);
        assert_eq!(
            h.to_vec()[0],
            a(1),
            "the only verified host is offered first"
        );
        assert!(h.is_verified(&a(1)));
        h.add(a(1)); // heard of again: still verified
        assert!(h.is_verified(&a(1)));
        assert!(!h.is_verified(&a(5)));
    }

    #[test]
    fn list_file_round_trip() {
        let p = std::env::temp_dir().join(format!("p2plab-hosts-{}", std::process::id()));
        let hosts = vec![
            "127.0.0.1:5".parse().unwrap(),
            "10.1.2.3:6346".parse().unwrap(),
        ];
        save(&p, &hosts).unwrap();
        let mut text = fs::read_to_string(&p).unwrap();
        text.push_str("junk\n\n");
        fs::write(&p, text).unwrap();
        assert_eq!(load(&p), hosts);
        fs::remove_file(&p).unwrap();
        assert!(load(&p).is_empty());
    }

    #[test]
    fn urls() {
        let (a, p) = split_url("http://127.0.0.1:8080/gwc").unwrap();
        assert_eq!((a.port(), p.as_str()), (8080, "/gwc"));
        assert_eq!(split_url("127.0.0.1:9").unwrap().1, "/");
    }
}
