//! Whom we upload to: the choke decision (阻塞 choke / 疏通 unchoke) as a pure function.
//!
//! The policy here is the simplest fair one: the first `slots` interested peers, in
//! the order they connected, are unchoked; the rest wait for a slot. Tit-for-tat
//! (一报还一报: the 4 peers that upload to us fastest, re-evaluated every 10 s, plus an
//! optimistic unchoke every 30 s) replaces it without changing the callers.

/// What the choker knows of one connected peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerView {
    /// Connection order: a smaller key connected earlier.
    pub key: u64,
    pub interested: bool,
}

/// Upload slots, as in BEP 3's mainline client.
pub const UPLOAD_SLOTS: usize = 4;

/// The peers to unchoke: interested ones, earliest first, at most `slots`.
pub fn choose_unchoked(peers: &[PeerView], slots: usize) -> Vec<u64> {
    let mut interested: Vec<u64> = peers
        .iter()
        .filter(|p| p.interested)
        .map(|p| p.key)
        .collect();
    interested.sort_unstable();
    interested.truncate(slots);
    interested
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_interested_peers_get_the_slots() {
        let p = |key, interested| PeerView { key, interested };
        let peers = [p(5, true), p(1, false), p(3, true), p(2, true), p(9, true)];
        assert_eq!(choose_unchoked(&peers, 3), [2, 3, 5]);
        assert_eq!(choose_unchoked(&peers, 10), [2, 3, 5, 9]);
        assert!(choose_unchoked(&[p(1, false)], 4).is_empty());
    }
}
