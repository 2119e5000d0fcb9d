//! What the tracker knows (追踪器记录): per torrent, who announced, from where, how much
//! each still lacks. Owned by the coordinator, so no lock; plain data, so the tests
//! below drive it with their own clock.
//!
//! Every entry here was created by a stranger's GET, so the table is bounded and heals:
//! - a peer unheard for 2 x interval is forgotten, and a torrent with no peer left is
//!   removed ([`Swarms::expire`]);
//! - `event=stopped` only removes; it never creates a torrent, so stopping random
//!   info-hashes costs the tracker nothing;
//! - at most `max_swarms` torrents and `max_peers` per torrent; when full, the one not
//!   heard from longest makes room ([`policy::evict`]) rather than the newcomer being refused;
//! - an announce only touches the entry of its own id AND address ([`PeerKey`]).

use super::msg::answer::ScrapeCounts;
use super::msg::Event;
use super::policy::{self, PeerKey};
use crate::bittorrent::metainfo::InfoHash;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct Peer {
    /// Bytes it still needs; 0 makes it a seed.
    pub left: u64,
    pub heard: Instant,
}

/// One torrent's peers (洪流). Ordered maps: the same announces give the same peer lists.
#[derive(Debug)]
pub struct Swarm {
    pub peers: BTreeMap<PeerKey, Peer>,
    /// Finished downloads (`event=completed` of a known leecher), for scrape.
    pub downloaded: u64,
    pub heard: Instant,
}

impl Swarm {
    /// `(seeds, leechers)`.
    pub fn counts(&self) -> (u64, u64) {
        let seeds = self.peers.values().filter(|p| p.left == 0).count() as u64;
        (seeds, self.peers.len() as u64 - seeds)
    }
}

/// Entries given up, for the lab and the tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Forgotten {
    /// Peers silent for 2 x interval, and torrents left empty by them.
    pub expired_peers: u64,
    /// Torrents and peers that made room for a newcomer in a full table.
    pub evicted_swarms: u64,
    pub evicted_peers: u64,
}

#[derive(Debug)]
pub struct Swarms {
    table: BTreeMap<InfoHash, Swarm>,
    max_swarms: usize,
    max_peers: usize,
    /// Peers of all torrents, kept as the table changes (summing 10,000 torrents per
    /// request would cost more than the request).
    peers: usize,
    pub forgotten: Forgotten,
}

impl Swarms {
    pub fn new(max_swarms: usize, max_peers: usize) -> Swarms {
        Swarms {
            table: BTreeMap::new(),
            max_swarms: max_swarms.max(1),
            max_peers: max_peers.max(1),
            peers: 0,
            forgotten: Forgotten::default(),
        }
    }

    pub fn get(&self, hash: &InfoHash) -> Option<&Swarm> {
        self.table.get(hash)
    }

    /// The info-hashes held, in order.
    pub fn hashes(&self) -> impl Iterator<Item = &InfoHash> {
        self.table.keys()
    }

    /// Torrents and peers held.
    pub fn len(&self) -> (usize, usize) {
        (self.table.len(), self.peers)
    }

    /// Applies one announce of `key` for `hash`.
    pub fn announce(
        &mut self,
        hash: InfoHash,
        key: PeerKey,
        left: u64,
        event: Event,
        now: Instant,
    ) {
        if event == Event::Stopped {
            self.stop(&hash, &key);
            return;
        }
        if !self.table.contains_key(&hash) && self.table.len() >= self.max_swarms {
            let oldest = policy::evict(self.table.iter().map(|(h, s)| (*h, s.heard)));
            if let Some(gone) = oldest.and_then(|h| self.table.remove(&h)) {
                self.peers -= gone.peers.len();
                self.forgotten.evicted_swarms += 1;
            }
        }
        let swarm = self.table.entry(hash).or_insert_with(|| Swarm {
            peers: BTreeMap::new(),
            downloaded: 0,
            heard: now,
        });
        swarm.heard = now;
        let known = swarm.peers.get(&key).map(|p| p.left);
        if known.is_none() && swarm.peers.len() >= self.max_peers {
            let oldest = policy::evict(swarm.peers.iter().map(|(k, p)| (*k, p.heard)));
            if oldest.and_then(|k| swarm.peers.remove(&k)).is_some() {
                self.peers -= 1;
                self.forgotten.evicted_peers += 1;
            }
        }
        if policy::counts_as_download(known, event == Event::Completed) {
            swarm.downloaded += 1;
        }
        if swarm.peers.insert(key, Peer { left, heard: now }).is_none() {
            self.peers += 1;
        }
    }

    /// `event=stopped`: removes exactly this peer, and its torrent if it was the last.
    fn stop(&mut self, hash: &InfoHash, key: &PeerKey) {
        let Some(swarm) = self.table.get_mut(hash) else {
            return; // never create a torrent to record that someone left it
        };
        if swarm.peers.remove(key).is_some() {
            self.peers -= 1;
        }
        if swarm.peers.is_empty() {
            self.table.remove(hash);
        }
    }

    /// Forgets peers silent for `expiry`, then torrents with no peer left.
    pub fn expire(&mut self, now: Instant, expiry: Duration) {
        let mut expired = 0;
        self.table.retain(|_, swarm| {
            let before = swarm.peers.len();
            swarm
                .peers
                .retain(|_, p| !policy::is_stale(p.heard, now, expiry));
            expired += before - swarm.peers.len();
            !swarm.peers.is_empty()
        });
        self.peers -= expired;
        self.forgotten.expired_peers += expired as u64;
    }

    /// Scrape counts for `asked`, or for the first `cap` torrents when none is asked.
    pub fn scrape(&self, asked: &[InfoHash], cap: usize) -> Vec<(InfoHash, ScrapeCounts)> {
        let counts = |s: &Swarm| {
            let (complete, incomplete) = s.counts();
            ScrapeCounts {
                complete,
                downloaded: s.downloaded,
                incomplete,
            }
        };
        if asked.is_empty() {
            return self
                .table
                .iter()
                .take(cap)
                .map(|(h, s)| (*h, counts(s)))
                .collect();
        }
        asked
            .iter()
            .take(cap)
            .filter_map(|h| Some((*h, counts(self.table.get(h)?))))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    fn key(id: u8, ip: [u8; 4], port: u16) -> PeerKey {
        PeerKey {
            id: [id; 20],
            addr: SocketAddr::from((ip, port)),
        }
    }

    const LOCAL: [u8; 4] = [127, 0, 0, 1];

    #[test]
    fn stopped_never_creates_a_torrent() {
        let mut s = Swarms::new(4, 4);
        let now = Instant::now();
        for i in 0..100u8 {
            s.announce([i; 20], key(1, LOCAL, 7001), 0, Event::Stopped, now);
        }
        assert_eq!(s.len(), (0, 0));
    }

    #[test]
    fn silent_peers_expire_after_two_intervals_and_empty_torrents_go() {
        let mut s = Swarms::new(8, 8);
        let t0 = Instant::now();
        let sec = Duration::from_secs;
        let expiry = policy::expiry(sec(10));
        s.announce([1; 20], key(1, LOCAL, 7001), 0, Event::Started, t0);
        s.announce([1; 20], key(2, LOCAL, 7002), 9, Event::Started, t0);
        s.announce([2; 20], key(3, LOCAL, 7003), 9, Event::Started, t0);
        s.announce(
            [1; 20],
            key(2, LOCAL, 7002),
            9,
            Event::Periodic,
            t0 + sec(15),
        );
        s.expire(t0 + sec(19), expiry);
        assert_eq!(s.len(), (2, 3), "nobody is 2 x interval silent yet");
        s.expire(t0 + sec(20), expiry);
        assert_eq!(
            s.len(),
            (1, 1),
            "peer 2 re-announced; 1 and 3 are gone, so is torrent 2"
        );
        assert_eq!(s.get(&[1; 20]).unwrap().counts(), (0, 1));
        assert_eq!(s.forgotten.expired_peers, 2);
    }

    #[test]
    fn a_full_table_evicts_the_longest_silent() {
        let mut s = Swarms::new(2, 2);
        let t0 = Instant::now();
        let at = |n| t0 + Duration::from_secs(n);
        s.announce([1; 20], key(1, LOCAL, 7001), 0, Event::Started, at(0));
        s.announce([2; 20], key(1, LOCAL, 7001), 0, Event::Started, at(1));
        s.announce([1; 20], key(2, LOCAL, 7002), 0, Event::Started, at(2));
        s.announce([3; 20], key(1, LOCAL, 7001), 0, Event::Started, at(3));
        assert!(
            s.get(&[2; 20]).is_none(),
            "torrent 2 was heard from longest ago"
        );
        assert!(s.get(&[1; 20]).is_some() && s.get(&[3; 20]).is_some());
        s.announce([1; 20], key(3, LOCAL, 7003), 0, Event::Started, at(4));
        let peers: Vec<u16> = s
            .get(&[1; 20])
            .unwrap()
            .peers
            .keys()
            .map(|k| k.addr.port())
            .collect();
        assert_eq!(peers, [7002, 7003], "peer 1 of torrent 1 made room");
        assert_eq!(s.len(), (2, 3));
        let f = s.forgotten;
        assert_eq!((f.evicted_swarms, f.evicted_peers), (1, 1));
    }

    #[test]
    fn another_address_cannot_stop_or_move_a_peer() {
        let mut s = Swarms::new(4, 4);
        let now = Instant::now();
        let victim = key(1, LOCAL, 7001);
        s.announce([1; 20], victim, 9, Event::Started, now);
        s.announce(
            [1; 20],
            key(1, [127, 0, 0, 9], 7001),
            0,
            Event::Stopped,
            now,
        );
        s.announce([1; 20], key(1, LOCAL, 9999), 0, Event::Stopped, now);
        assert_eq!(s.get(&[1; 20]).unwrap().peers[&victim].left, 9);
        s.announce([1; 20], key(1, LOCAL, 9999), 0, Event::Periodic, now);
        assert_eq!(
            s.get(&[1; 20]).unwrap().peers[&victim].left,
            9,
            "not overwritten"
        );
        s.announce([1; 20], victim, 9, Event::Stopped, now);
        assert_eq!(s.len(), (1, 1), "only the impostor's own entry is left");
    }

    #[test]
    fn downloads_count_known_leechers_once() {
        let mut s = Swarms::new(4, 4);
        let now = Instant::now();
        s.announce([1; 20], key(1, LOCAL, 7001), 0, Event::Completed, now);
        s.announce([1; 20], key(2, LOCAL, 7002), 500, Event::Started, now);
        s.announce([1; 20], key(2, LOCAL, 7002), 0, Event::Completed, now);
        s.announce([1; 20], key(2, LOCAL, 7002), 0, Event::Completed, now);
        assert_eq!(s.scrape(&[], 64)[0].1.downloaded, 1);
        assert_eq!(s.scrape(&[[1; 20], [9; 20]], 64).len(), 1);
    }
}
