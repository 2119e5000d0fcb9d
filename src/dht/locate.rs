//! The Chord ring as a [`Design`] of notes 6.4 (DHT, 分布式散列表): every workload peer
//! is a ring node, and the ring stores keyword → provider entries.
//!
//! - **join**: the peer's node joins the ring through any live node, waits until its
//!   successor has taken it as predecessor (its own first stabilize round, at once),
//!   then publishes: for each of its files,
//!   for each keyword of the file's title (the name without its extension, so `mp3`,
//!   which every file has, is no key: its owner would hold every entry of the network,
//!   the hot-keyword problem of Kad), a PUT of one entry under that keyword.
//!   - key: the keyword's UTF-8 bytes, lower case (`b"solo2"`); its ring id is their SHA-1.
//!   - value: UTF-8 text, four fields separated by one space:
//!     `<peer index, decimal> <provider's ip:port> <file SHA-1, 40 lower-case hex> <file name>`,
//!     e.g. `2 127.0.0.1:40123 5f3c…e1 solo2.mp3`. The name is last, so it may hold
//!     spaces. The address is the provider's ring node, its one listening socket.
//! - **search**: a GET of the keyword's key from the searching peer's node (a lookup,
//!   ½·log2 N hops on average, then one call to the owner or a replica), each value
//!   decoded into a [`Provider`]; then every distinct provider is **checked alive** with
//!   one PING (0x01) from a fresh UDP socket, answered by a PONG naming that very address.
//! - **leave**: `Node::leave` (keys handed to the successor, both neighbours told). The
//!   ring has no delete (values are only ever added, see `mod.rs`), so the entries stay
//!   in the store, and searches stop returning them because the provider no longer
//!   answers the PING: BitTorrent's DHT does the same (its get_peers answers are
//!   contacted, and dead ones dropped). An entry costs nothing to whoever never asks.
//! - **crash**: `Node::stop`, no goodbye; the ring routes around the hole (successor
//!   lists) and keeps the dead node's keys (r replicas). Its entries go exactly as a
//!   leaver's do: the PING fails, at once on loopback (port unreachable), after
//!   [`PING_TIMEOUT`] for a host that vanished silently. Kademlia instead lets entries
//!   expire unless republished every hour; that needs a store with ages, which ours
//!   has not (an exercise).
//! - **kill_special**: a quarter of the live nodes (a fixed-seed choice) stopped at once.
//!   Keys survive if fewer than r = `Config::r_for(N)` consecutive nodes died.
//!
//! **What a search costs**, in messages (each question and its answer, one datagram each):
//! the lookup of the keyword's id, ½·log2 N hops on average (Chord's path length; the
//! searcher's own first step is its routing table, no message), each a FIND_STEP and
//! its NEXT or DONE: 2·½·log2 N; the GET to the owner and its VALUES: 2 (more when a
//! popular keyword's entries fill more than one datagram: one GET_AFTER and one MORE
//! per page); and a PING and PONG per distinct provider: 2 for a song one peer holds,
//! none when that peer is not in the network (the GET finds no entry). So
//! 2·½·log2 N + 2 + 2·¾ in the lab's scaling runs, where a quarter of the peers never
//! joined: 7.5 messages at N = 16, 11.5 at N = 256.
//!
//! Traffic: each node counts on its own sockets (`rpc/serve.rs`, `rpc/call.rs`), one
//! datagram one message; the liveness PINGs are counted here, on the searcher's counters.
//! The maintenance rounds (stabilize, notify, fix-fingers, check-predecessor,
//! replicate) are the ring's **upkeep**: their datagrams carry the upkeep flag
//! (`msg/mod.rs`), and both ends count them apart (`locate::Traffic`), so the lab can
//! take them off a search's count and show them as their own figure. A join's lookup,
//! its PUTs and their replicas, and the hand-overs of a join or leave are not upkeep.

use super::{Config, DhtError, Node, Reply, Request};
use crate::dht::msg::{datagram, decode_reply, encode_request, split_head, Head, MAX_DATAGRAM};
use crate::locate::{
    keywords, Design, Killed, LocateError, NodeTraffic, PeerId, Provider, SharedFile, Traffic,
};
use crate::rng::Rng;
use crate::share::ids::{sha1_from_hex, to_hex};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

/// Longest wait for a provider's PONG: a node that does not answer in this time is
/// taken for gone, and its entries are not returned.
pub const PING_TIMEOUT: Duration = Duration::from_secs(1);
/// The transaction id of a liveness PING (each goes from its own fresh socket).
const PING_TXID: u32 = 1;
/// Longest wait for a newcomer's successor to take it as predecessor before it publishes.
const JOIN_SETTLE: Duration = Duration::from_secs(5);

/// A Chord ring of workload peers.
pub struct Ring {
    cfg: Config,
    seed: u64,
    nodes: BTreeMap<PeerId, Node>,
    /// Counts of each peer's nodes that are gone (a peer that rejoins gets a new node).
    past: BTreeMap<PeerId, NodeTraffic>,
}

impl Ring {
    /// An empty ring tuned for about `peers` nodes in one process: r = log2 N (at
    /// least 3) and the lab's maintenance time scale; `seed` picks whom kill_special hits.
    pub fn new(peers: usize, seed: u64) -> Ring {
        let mut cfg = Config::new(160);
        cfg.r = Config::r_for(peers);
        cfg.time_scale = Config::lab_time_scale(peers);
        Ring {
            cfg,
            seed,
            nodes: BTreeMap::new(),
            past: BTreeMap::new(),
        }
    }

    fn node(&self, peer: PeerId) -> Result<&Node, LocateError> {
        self.nodes.get(&peer).ok_or(LocateError::UnknownPeer(peer))
    }

    /// Takes `peer`'s node out, keeping its counts.
    fn take(&mut self, peer: PeerId) -> Result<(Node, Traffic), LocateError> {
        let node = self
            .nodes
            .remove(&peer)
            .ok_or(LocateError::UnknownPeer(peer))?;
        let t = node.traffic();
        Ok((node, t))
    }

    fn bury(&mut self, peer: PeerId, t: &Traffic) {
        let now = t.snapshot("");
        let past = self.past.entry(peer).or_default();
        *past = past.plus(&now);
    }
}

fn failed(e: DhtError) -> LocateError {
    LocateError::Failed(e.to_string())
}

/// The keywords a file is published under: those of its title, without the extension.
pub fn title_keywords(name: &str) -> Vec<String> {
    let title = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 4 => stem,
        _ => name,
    };
    let mut kws = keywords(title);
    kws.dedup();
    kws
}

/// One entry's value, as the module doc lays it out.
pub fn encode_entry(peer: PeerId, addr: SocketAddr, f: &SharedFile) -> Vec<u8> {
    format!("{peer} {addr} {} {}", to_hex(&f.sha1), f.name).into_bytes()
}

/// The provider an entry names; `None` for bytes that are not an entry.
pub fn decode_entry(value: &[u8]) -> Option<Provider> {
    let text = std::str::from_utf8(value).ok()?;
    let mut it = text.splitn(4, ' ');
    let peer = it.next()?.parse().ok()?;
    let addr = it.next()?.parse().ok()?;
    let sha1 = sha1_from_hex(it.next()?)?;
    let name = it.next().filter(|n| !n.is_empty())?.to_string();
    Some(Provider {
        peer,
        addr,
        sha1,
        name,
    })
}

/// One PING from a fresh socket; true if a PONG naming `addr` comes back in time.
/// Counted on the asker's counters, as its node's own calls are. One try only: a PING
/// lost on a real network would hide a live provider, which a search may afford.
fn alive(addr: SocketAddr, bits: u32, t: &Traffic) -> bool {
    let probe = || -> std::io::Result<bool> {
        let s = UdpSocket::bind(SocketAddr::new(addr.ip(), 0))?;
        s.connect(addr)?;
        s.set_read_timeout(Some(PING_TIMEOUT))?;
        let d = datagram(Head::call(PING_TXID), &encode_request(bits, &Request::Ping));
        s.send(&d)?;
        t.sent(d.len());
        let mut buf = vec![0u8; MAX_DATAGRAM + 1];
        let n = s.recv(&mut buf)?; // connected: only `addr` can answer
        t.received(n);
        Ok(match split_head(&buf[..n]) {
            Ok((
                Head {
                    txid: PING_TXID, ..
                },
                body,
            )) => {
                matches!(decode_reply(body), Ok(Reply::Pong(n)) if n.addr == addr)
            }
            _ => false,
        })
    };
    probe().unwrap_or(false)
}

impl Design for Ring {
    fn name(&self) -> String {
        "DHT (Chord ring)".into()
    }

    fn join(&mut self, peer: PeerId, files: &[SharedFile]) -> Result<(), LocateError> {
        if self.nodes.contains_key(&peer) {
            return Err(LocateError::Failed(format!("peer {peer} is already in")));
        }
        let known = self.nodes.values().next().map(Node::addr);
        let node = Node::start_joining("127.0.0.1:0", self.cfg.clone(), known).map_err(failed)?;
        if known.is_some() {
            // Our successor must take us as its predecessor before we publish: it then
            // passes a key we now own back to us (a PUT's forwards), or, had the PUT come
            // first, hands it over with the rest of our range. That takes our own first
            // stabilize round, started at once by the join. Waiting for our predecessor
            // to learn of us instead took its next round, a quarter of a second at N =
            // 256 (its rounds are quiet): most of the time a ring of 256 took to build.
            let me = node.me();
            crate::wait::until(JOIN_SETTLE, || {
                let succ = node.snapshot().succs.first().map(|s| s.addr);
                let succ = self.nodes.values().find(|n| Some(n.addr()) == succ);
                succ.is_some_and(|s| s.snapshot().pred == Some(me))
            });
        }
        for f in files {
            let value = encode_entry(peer, node.addr(), f);
            for kw in title_keywords(&f.name) {
                match node.put(kw.as_bytes(), &value) {
                    Ok(_) => {}
                    // A full key (MAX_VALUES entries) refuses: the entry is not published.
                    Err(DhtError::Remote(why)) => log::info!("put '{kw}': {why}"),
                    Err(e) => return Err(failed(e)),
                }
            }
        }
        self.nodes.insert(peer, node);
        Ok(())
    }

    fn search(&mut self, from: PeerId, keyword: &str) -> Result<Vec<Provider>, LocateError> {
        let node = self.node(from)?;
        let kw = keyword.to_lowercase();
        let values = node.get(kw.as_bytes()).map_err(failed)?;
        let found: Vec<Provider> = (values.iter())
            .filter_map(|v| decode_entry(v))
            .filter(|p| title_keywords(&p.name).contains(&kw))
            .collect();
        let (bits, t) = (self.cfg.bits, node.traffic());
        let addrs: BTreeSet<SocketAddr> = found.iter().map(|p| p.addr).collect();
        let live: BTreeSet<SocketAddr> = (addrs.into_iter())
            .filter(|a| *a == node.addr() || alive(*a, bits, &t))
            .collect();
        Ok(found
            .into_iter()
            .filter(|p| live.contains(&p.addr))
            .collect())
    }

    fn leave(&mut self, peer: PeerId) -> Result<(), LocateError> {
        let (node, t) = self.take(peer)?;
        node.leave();
        self.bury(peer, &t);
        Ok(())
    }

    fn crash(&mut self, peer: PeerId) -> Result<(), LocateError> {
        let (mut node, t) = self.take(peer)?;
        node.stop();
        self.bury(peer, &t);
        Ok(())
    }

    /// A PING's timeout, plus a second for the ring to route around the dead node.
    fn crash_timeout(&self) -> Duration {
        PING_TIMEOUT + Duration::from_secs(1)
    }

    fn kill_special(&mut self) -> Result<Killed, LocateError> {
        let live: Vec<PeerId> = self.nodes.keys().copied().collect();
        if live.len() < 2 {
            return Err(LocateError::NoService(
                "a ring of fewer than 2 nodes".into(),
            ));
        }
        let k = (live.len() / 4).max(1);
        let mut peers: Vec<PeerId> = (Rng::new(self.seed).sample(live.len(), k).into_iter())
            .map(|i| live[i])
            .collect();
        peers.sort_unstable();
        let mut dying = Vec::new();
        for &p in &peers {
            dying.push((p, self.take(p)?));
        }
        // Stopped one after another, but no survivor runs a maintenance round in
        // between that matters: all are gone within milliseconds.
        for (p, (mut node, t)) in dying {
            node.stop();
            self.bury(p, &t);
        }
        Ok(Killed {
            what: "25 % of the ring".into(),
            nodes: peers.len(),
            peers,
        })
    }

    fn traffic(&self) -> Vec<NodeTraffic> {
        let peers: BTreeSet<PeerId> = self.nodes.keys().chain(self.past.keys()).copied().collect();
        (peers.into_iter())
            .map(|p| {
                let name = format!("peer {p}");
                let now = (self.nodes.get(&p))
                    .map(|n| n.traffic().snapshot(&name))
                    .unwrap_or_default();
                let mut sum = now.plus(self.past.get(&p).unwrap_or(&NodeTraffic::default()));
                sum.node = name;
                sum
            })
            .collect()
    }

    fn stop(&mut self) {
        for (p, mut node) in std::mem::take(&mut self.nodes) {
            let t = node.traffic();
            node.stop();
            self.bury(p, &t);
        }
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_reads_back_and_bad_bytes_are_no_entry() {
        let f = SharedFile::new("Yellow Submarine.mp3");
        let addr: SocketAddr = "127.0.0.1:40123".parse().unwrap();
        let v = encode_entry(7, addr, &f);
        assert!(v.starts_with(b"7 127.0.0.1:40123 "));
        let p = decode_entry(&v).unwrap();
        assert_eq!(
            (p.peer, p.addr, p.sha1, p.name.as_str()),
            (7, addr, f.sha1, f.name.as_str())
        );
        for bad in [
            &b""[..],
            b"7",
            b"x 127.0.0.1:1 00 a",
            b"7 nowhere 00 a",
            b"\xff\xfe",
        ] {
            assert_eq!(decode_entry(bad), None);
        }
    }

    #[test]
    fn the_extension_is_no_keyword() {
        assert_eq!(title_keywords("solo2.mp3"), ["solo2"]);
        assert_eq!(
            title_keywords("Yellow Submarine.mp3"),
            ["yellow", "submarine"]
        );
        assert_eq!(title_keywords("readme"), ["readme"]);
    }
}
