//! The tracker's decisions as pure functions: who a peer is, when it is forgotten,
//! which peers an announce hands out, and what a full table gives up.
//!
//! State in, decision out: no socket, no clock read (the caller passes `now`), no
//! global randomness (the caller passes the [`Rng`]). Change one and run the tests.

use crate::bittorrent::msg::handshake::PeerId;
use crate::rng::Rng;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Who a peer is: the id it chose AND the address it announced from (the connection's
/// IP, the announced port).
///
/// Why both: a peer_id is 20 bytes the client picks and sends in clear, and a dict peer
/// list hands it to every other peer of the torrent. Keyed by peer_id alone, anyone who
/// learned an id could send `event=stopped` with it and remove that peer, or announce
/// with it and move the peer's entry to an address of their choosing. The source IP is
/// the one thing the tracker saw itself (the TCP handshake reached it), so an announce
/// only ever touches the entry of the address it came from. The price: a client that
/// restarts on a new port appears twice until its old entry expires (2 x interval).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerKey {
    pub id: PeerId,
    pub addr: SocketAddr,
}

/// Peers unheard for this long are forgotten: a client re-announces every interval,
/// so two missed announces mean it is gone (crashed, or left without `stopped`).
pub fn expiry(interval: Duration) -> Duration {
    interval * 2
}

/// How often the coordinator looks for expired peers: a few times per interval is
/// precise enough, and with a 300 s interval the sweep costs nothing.
pub fn sweep_period(interval: Duration) -> Duration {
    (interval / 4).clamp(Duration::from_millis(5), Duration::from_secs(5))
}

pub fn is_stale(heard: Instant, now: Instant, expiry: Duration) -> bool {
    now.saturating_duration_since(heard) >= expiry
}

/// Whom a full table gives up to admit a newcomer: the entry not heard from longest.
/// Refusing instead ("tracker is full") would let anyone who filled the table once keep
/// every new torrent out for good; evicting the oldest lets the table heal, and a real
/// peer that lost its entry is back at its next announce.
pub fn evict<K: Copy>(entries: impl IntoIterator<Item = (K, Instant)>) -> Option<K> {
    entries
        .into_iter()
        .min_by_key(|&(_, heard)| heard)
        .map(|(k, _)| k)
}

/// A peer is never told about itself: not its own entry, nor another entry with its id
/// or its address (a client that restarted on a new port).
pub fn is_self(candidate: &PeerKey, asker: &PeerKey) -> bool {
    candidate.id == asker.id || candidate.addr == asker.addr
}

/// The peers an announce hands out: up to `numwant` of the others, drawn at random so
/// that every peer of a large swarm gets known, not only the first ones in the table.
pub fn pick_peers<'a>(
    peers: impl Iterator<Item = &'a PeerKey>,
    asker: &PeerKey,
    numwant: usize,
    rng: &mut Rng,
) -> Vec<PeerKey> {
    let others: Vec<PeerKey> = peers.filter(|p| !is_self(p, asker)).copied().collect();
    rng.sample(others.len(), numwant)
        .into_iter()
        .map(|i| others[i])
        .collect()
}

/// Whether an announce counts as one more finished download (scrape's `downloaded`):
/// a `completed` from a peer the tracker knew as a leecher. A `completed` out of the
/// blue, or a second one, is a claim nobody can check, so it does not count.
pub fn counts_as_download(known_left: Option<u64>, completed: bool) -> bool {
    completed && matches!(known_left, Some(left) if left > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: u8, port: u16) -> PeerKey {
        PeerKey {
            id: [id; 20],
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }

    #[test]
    fn a_peer_is_stale_after_two_intervals() {
        let t = Instant::now();
        let e = expiry(Duration::from_secs(300));
        assert!(!is_stale(t, t + Duration::from_secs(599), e));
        assert!(is_stale(t, t + Duration::from_secs(600), e));
    }

    #[test]
    fn the_longest_silent_is_evicted() {
        let t = Instant::now();
        let s = Duration::from_secs;
        assert_eq!(
            evict([(1, t + s(5)), (2, t + s(1)), (3, t + s(9))]),
            Some(2)
        );
        assert_eq!(evict(Vec::<(u8, Instant)>::new()), None);
    }

    #[test]
    fn same_id_elsewhere_is_another_peer() {
        assert_ne!(key(1, 7001), key(1, 7002));
        assert!(
            is_self(&key(1, 7002), &key(1, 7001)),
            "not told about its own id"
        );
    }

    #[test]
    fn pick_leaves_out_the_asker_and_caps_at_numwant() {
        let peers: Vec<PeerKey> = (1..=10).map(|i| key(i, 7000 + u16::from(i))).collect();
        let mut rng = Rng::new(7);
        let all = pick_peers(peers.iter(), &peers[0], 50, &mut rng);
        assert_eq!(all.len(), 9);
        assert!(!all.contains(&peers[0]));
        let some = pick_peers(peers.iter(), &peers[0], 3, &mut rng);
        assert_eq!(some.len(), 3);
        let again = pick_peers(peers.iter(), &peers[0], 3, &mut Rng::new(7));
        let first = pick_peers(peers.iter(), &peers[0], 3, &mut Rng::new(7));
        assert_eq!(again, first, "the same seed hands out the same peers");
    }

    #[test]
    fn only_a_known_leecher_completes() {
        assert!(counts_as_download(Some(500), true));
        assert!(!counts_as_download(Some(0), true), "a second completed");
        assert!(!counts_as_download(None, true), "out of the blue");
        assert!(!counts_as_download(Some(500), false));
    }
}
