//! Which piece to ask a peer for next: a pure function, so a student can change the
//! policy without touching a socket.
//!
//! The policy here is the simplest one that works for one seeder and one leecher:
//! the lowest-numbered piece we still need, that this peer has, that no other
//! connection is fetching, and that this peer has not already sent us wrong. The
//! notes' policy (random first 4 pieces, then rarest first 稀缺优先) replaces this.

use super::bitfield::Bitfield;

/// Where each piece of the torrent stands, as the node sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PieceState {
    /// Nobody is fetching it.
    Missing,
    /// A connection is fetching it, or it is being verified.
    InFlight,
    /// Verified and on disk.
    Have,
}

/// The next piece to fetch from a peer that has `peer_has`, skipping the pieces in
/// `refused` (ones this peer sent us with a wrong SHA-1).
pub fn pick_piece(pieces: &[PieceState], peer_has: &Bitfield, refused: &[usize]) -> Option<usize> {
    (0..pieces.len())
        .find(|&i| pieces[i] == PieceState::Missing && peer_has.has(i) && !refused.contains(&i))
}

#[cfg(test)]
mod tests {
    use super::PieceState::*;
    use super::*;

    #[test]
    fn first_missing_piece_the_peer_has() {
        let pieces = [Have, InFlight, Missing, Missing, Missing];
        let mut peer = Bitfield::new(5);
        assert_eq!(pick_piece(&pieces, &peer, &[]), None);
        peer.set(1);
        peer.set(3);
        peer.set(4);
        assert_eq!(pick_piece(&pieces, &peer, &[]), Some(3));
        // This peer sent piece 3 wrong once: ask it for something else.
        assert_eq!(pick_piece(&pieces, &peer, &[3]), Some(4));
        assert_eq!(pick_piece(&pieces, &peer, &[3, 4]), None);
    }
}
