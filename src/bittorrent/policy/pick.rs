//! Which piece, which block to ask a peer for next (请求块：稀缺优先): pure functions, so a
//! student can change the policy without touching a socket.
//!
//! The notes' policy, as mainline BitTorrent 4.x did it:
//!
//! ```text
//!   fewer than 4 pieces verified?  ── yes ──► any missing piece this peer has, at random
//!        │ no                                 (get something to trade, fast: 任意获取4块)
//!        ▼
//!   a partial piece this peer has? ── yes ──► its next block (finish before starting new)
//!        │ no
//!        ▼
//!   a missing piece this peer has? ── yes ──► the one fewest connected peers have
//!        │ no                                 (rarest first 稀缺优先; ties at random)
//!        ▼
//!   endgame: every missing block is already requested somewhere
//!            ──► ask this peer too for a block in flight elsewhere; cancel on arrival
//! ```
//! Availability counts the bitfields and haves of the peers we are connected to: the
//! only part of the swarm a peer can see. [`PickPolicy::Random`] and
//! [`PickPolicy::Sequential`] are the switches a lab uses to measure what rarest first buys.

use crate::bittorrent::msg::bitfield::Bitfield;
use crate::rng::Rng;

/// Pieces fetched at random before rarest first starts (notes: 获取4块后).
pub const RANDOM_FIRST: usize = 4;

/// Where each piece of the torrent stands, as the node sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PieceState {
    /// Nobody is fetching it.
    Missing,
    /// Some of its blocks are requested or here, or it is being verified.
    InFlight,
    /// Verified and on disk.
    Have,
}

/// How new pieces are chosen once the first [`RANDOM_FIRST`] are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickPolicy {
    /// The notes' policy: the piece fewest neighbours have.
    RarestFirst,
    /// Any missing piece (rarest first switched off).
    Random,
    /// The lowest-numbered missing piece, like a media player (rarest first switched off).
    Sequential,
}

/// Why a piece was picked (the lab logs it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickReason {
    /// One of the first pieces, at random.
    RandomFirst,
    /// The rarest among the connected peers; `availability` of them had it.
    Rarest {
        availability: u32,
    },
    Random,
    Sequential,
}

/// A new piece to start fetching from a peer that has `peer_has`: `None` when the peer
/// has no missing piece left that it did not already send us wrong (`refused`).
pub fn pick_piece(
    pieces: &[PieceState],
    availability: &[u32],
    have_count: usize,
    peer_has: &Bitfield,
    refused: &[usize],
    policy: PickPolicy,
    rng: &mut Rng,
) -> Option<(usize, PickReason)> {
    let wanted =
        |i: &usize| pieces[*i] == PieceState::Missing && peer_has.has(*i) && !refused.contains(i);
    if policy == PickPolicy::Sequential {
        return (0..pieces.len())
            .find(wanted)
            .map(|i| (i, PickReason::Sequential));
    }
    let candidates: Vec<usize> = (0..pieces.len()).filter(wanted).collect();
    if have_count < RANDOM_FIRST || policy == PickPolicy::Random {
        let reason = if have_count < RANDOM_FIRST {
            PickReason::RandomFirst
        } else {
            PickReason::Random
        };
        return rng.pick(&candidates).map(|&i| (i, reason));
    }
    let fewest = candidates.iter().map(|&i| availability[i]).min()?;
    let rarest: Vec<usize> = candidates
        .into_iter()
        .filter(|&i| availability[i] == fewest)
        .collect();
    // Ties at random: two peers that see the same swarm should not fetch the same piece.
    rng.pick(&rarest).map(|&i| {
        (
            i,
            PickReason::Rarest {
                availability: fewest,
            },
        )
    })
}

/// One block of a piece in flight, as the picker sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockView {
    pub received: bool,
    /// Connections that have asked for it and not yet got it.
    pub requesters: usize,
    /// One of them is the connection picking now.
    pub by_me: bool,
}

/// Partial pieces first: among the pieces in flight that this peer has, the block to ask
/// for next, from the piece closest to done. Only blocks nobody has requested.
pub fn pick_partial<'a>(
    partials: impl IntoIterator<Item = (usize, &'a [BlockView])>,
    peer_has: &Bitfield,
    refused: &[usize],
) -> Option<(usize, usize)> {
    partials
        .into_iter()
        .filter(|(i, _)| peer_has.has(*i) && !refused.contains(i))
        .filter_map(|(i, blocks)| {
            let b = blocks
                .iter()
                .position(|b| !b.received && b.requesters == 0)?;
            let left = blocks.iter().filter(|b| !b.received).count();
            Some((left, i, b))
        })
        .min()
        .map(|(_, i, b)| (i, b))
}

/// Endgame (终局): nothing is left to start, every missing block is requested somewhere.
/// Ask this peer too for a block still in flight, the one with the fewest requesters;
/// whichever copy arrives first wins and the others are cancelled.
pub fn pick_endgame<'a>(
    partials: impl IntoIterator<Item = (usize, &'a [BlockView])>,
    peer_has: &Bitfield,
    refused: &[usize],
) -> Option<(usize, usize)> {
    partials
        .into_iter()
        .filter(|(i, _)| peer_has.has(*i) && !refused.contains(i))
        .flat_map(|(i, blocks)| {
            blocks
                .iter()
                .enumerate()
                .filter(|(_, b)| !b.received && !b.by_me)
                .map(move |(b, v)| (v.requesters, i, b))
        })
        .min()
        .map(|(_, i, b)| (i, b))
}

#[cfg(test)]
mod tests {
    use super::PieceState::*;
    use super::*;

    fn has(n: usize, pieces: &[usize]) -> Bitfield {
        let mut b = Bitfield::new(n);
        pieces.iter().for_each(|&i| b.set(i));
        b
    }

    #[test]
    fn the_first_four_pieces_are_random_not_rarest() {
        // Piece 5 is the rarest, but with fewer than 4 pieces verified rarity is ignored.
        let pieces = [Missing; 8];
        let avail = [3, 3, 3, 3, 3, 1, 3, 3];
        let peer = Bitfield::full(8);
        let mut rng = Rng::new(1);
        let mut seen = std::collections::BTreeSet::new();
        for have in 0..RANDOM_FIRST {
            for _ in 0..20 {
                let (i, why) = pick_piece(
                    &pieces,
                    &avail,
                    have,
                    &peer,
                    &[],
                    PickPolicy::RarestFirst,
                    &mut rng,
                )
                .unwrap();
                assert_eq!(why, PickReason::RandomFirst);
                seen.insert(i);
            }
        }
        assert!(seen.len() > 4, "random picks should spread, got {seen:?}");
        // The fifth piece onwards: the rarest, every time.
        for _ in 0..20 {
            let got = pick_piece(
                &pieces,
                &avail,
                4,
                &peer,
                &[],
                PickPolicy::RarestFirst,
                &mut rng,
            );
            assert_eq!(got, Some((5, PickReason::Rarest { availability: 1 })));
        }
    }

    #[test]
    fn rarest_is_chosen_among_ties_at_random_and_only_what_the_peer_has() {
        let pieces = [Have, Missing, Missing, Missing, InFlight, Missing];
        // Pieces 2 and 5 are the rarest missing ones (the peer lacks 3, piece 0 we have).
        let avail = [1, 4, 2, 1, 1, 2];
        let peer = has(6, &[0, 1, 2, 4, 5]);
        let mut rng = Rng::new(7);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..50 {
            let (i, why) = pick_piece(
                &pieces,
                &avail,
                4,
                &peer,
                &[],
                PickPolicy::RarestFirst,
                &mut rng,
            )
            .unwrap();
            assert_eq!(why, PickReason::Rarest { availability: 2 });
            seen.insert(i);
        }
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), [2, 5]);
        // A piece this peer once sent wrong is not asked of it again.
        let got = pick_piece(
            &pieces,
            &avail,
            4,
            &peer,
            &[2, 5],
            PickPolicy::RarestFirst,
            &mut rng,
        );
        assert_eq!(got, Some((1, PickReason::Rarest { availability: 4 })));
        assert_eq!(
            pick_piece(
                &pieces,
                &avail,
                4,
                &has(6, &[0, 4]),
                &[],
                PickPolicy::RarestFirst,
                &mut rng
            ),
            None
        );
    }

    #[test]
    fn same_seed_same_picks() {
        let pieces = [Missing; 64];
        let avail = [1; 64];
        let peer = Bitfield::full(64);
        let run = |seed| {
            let mut rng = Rng::new(seed);
            (0..10)
                .map(|h| {
                    pick_piece(
                        &pieces,
                        &avail,
                        h,
                        &peer,
                        &[],
                        PickPolicy::RarestFirst,
                        &mut rng,
                    )
                    .unwrap()
                    .0
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }

    #[test]
    fn switches_sequential_and_random() {
        let pieces = [Have, Missing, Missing, Missing];
        let avail = [9, 9, 9, 0];
        let peer = Bitfield::full(4);
        let mut rng = Rng::new(1);
        let seq = pick_piece(
            &pieces,
            &avail,
            9,
            &peer,
            &[],
            PickPolicy::Sequential,
            &mut rng,
        );
        assert_eq!(seq, Some((1, PickReason::Sequential)));
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..40 {
            let (i, why) =
                pick_piece(&pieces, &avail, 9, &peer, &[], PickPolicy::Random, &mut rng).unwrap();
            assert_eq!(why, PickReason::Random);
            seen.insert(i);
        }
        assert_eq!(seen.len(), 3, "random ignores rarity");
    }

    const NEW: BlockView = BlockView {
        received: false,
        requesters: 0,
        by_me: false,
    };
    const GOT: BlockView = BlockView {
        received: true,
        ..NEW
    };
    const ASKED: BlockView = BlockView {
        requesters: 1,
        ..NEW
    };
    const MINE: BlockView = BlockView {
        requesters: 1,
        by_me: true,
        ..NEW
    };

    #[test]
    fn partial_pieces_are_finished_first_closest_to_done() {
        let a = [GOT, NEW, NEW, NEW];
        let b = [GOT, GOT, ASKED, NEW];
        let c = [GOT, GOT, GOT, NEW];
        let peer = has(10, &[3, 4]);
        let parts = || [(3, &a[..]), (4, &b[..]), (7, &c[..])];
        // Piece 7 is nearer done, but this peer lacks it: piece 4, its unrequested block 3.
        assert_eq!(pick_partial(parts(), &peer, &[]), Some((4, 3)));
        assert_eq!(pick_partial(parts(), &peer, &[4]), Some((3, 1)));
        let all_asked = [GOT, ASKED];
        assert_eq!(pick_partial([(3, &all_asked[..])], &peer, &[]), None);
    }

    #[test]
    fn endgame_duplicates_blocks_in_flight_elsewhere() {
        let a = [GOT, MINE, ASKED];
        let b = [
            ASKED,
            BlockView {
                requesters: 2,
                ..NEW
            },
        ];
        let peer = has(4, &[1, 2]);
        // Not the block we asked for ourselves; among the others, the least duplicated.
        assert_eq!(
            pick_endgame([(1, &a[..]), (2, &b[..])], &peer, &[]),
            Some((1, 2))
        );
        assert_eq!(
            pick_endgame([(1, &a[..]), (2, &b[..])], &peer, &[1]),
            Some((2, 0))
        );
        let done = [GOT, MINE];
        assert_eq!(pick_endgame([(1, &done[..])], &peer, &[]), None);
    }
}
