//! The pieces: which we have, how many neighbours have each, and the blocks of the
//! pieces in flight.
//!
//! A piece (256 KiB) is fetched as 16 KiB blocks. The node keeps one [`Partial`] per
//! piece in flight: which blocks are here, who asked for the others. Any connection
//! whose peer has the piece can continue it, so a peer that chokes us or leaves does
//! not take half a piece with it (partial pieces first), and in the endgame the same
//! block can be asked of several peers: the first copy wins, the others are cancelled.
//!
//! ```text
//!   piece 17   [■ ■ ■ □ □ ○ ○ ○ ○ ○ ○ ○ ○ ○ ○ ○]   ■ here  □ requested (by whom)  ○ free
//! ```
//! The decisions (which piece, which block) are the pure functions of `policy/pick.rs`;
//! this file keeps the tables they read and records what they chose; `partial.rs`
//! keeps the blocks of one piece in flight.

use crate::bittorrent::conn::{PeerKey, Request};
use crate::bittorrent::msg::bitfield::Bitfield;
use crate::bittorrent::msg::MAX_BLOCK;
use crate::bittorrent::policy::pick::{
    pick_endgame, pick_partial, pick_piece, BlockView, PickPolicy, PickReason, PieceState,
};
use crate::rng::Rng;
use std::collections::{BTreeMap, HashMap};

pub use super::partial::{Arrival, Finished};
use super::partial::{Block, Partial};

/// In the endgame, at most this many connections ask for the same block.
pub const ENDGAME_COPIES: usize = 3;

/// The piece table of one node.
pub struct Pieces {
    pub state: Vec<PieceState>,
    /// How many connected peers have each piece (bitfields and haves).
    pub availability: Vec<u32>,
    pub have_count: usize,
    /// Pieces each peer sent us wrong: the picker asks someone else for them.
    pub refused: HashMap<PeerKey, Vec<usize>>,
    pub(super) partials: BTreeMap<usize, Partial>,
    piece_length: u64,
    total: u64,
    policy: PickPolicy,
    /// The picker's random choices: a stream of its own, so that a rechoke timed
    /// differently cannot change which pieces are picked.
    rng: Rng,
}

impl Pieces {
    /// A block arrived from `key`: keep it (the first copy), say whom to cancel, and
    /// hand back the piece when this was its last block. A block of a piece not in
    /// flight (done already, or never asked for) is dropped.
    pub fn receive_block(
        &mut self,
        key: PeerKey,
        index: usize,
        begin: u32,
        data: Vec<u8>,
    ) -> Arrival {
        let mut arrival = Arrival::default();
        let Some(p) = self.partials.get_mut(&index) else {
            return arrival;
        };
        if p.receive(key, index, begin, data, &mut arrival.cancel) {
            arrival.finished = self.partials.remove(&index).map(|p| p.finish(index));
        }
        arrival
    }

    pub fn new(
        have: &[bool],
        piece_length: u64,
        total: u64,
        policy: PickPolicy,
        rng: Rng,
    ) -> Pieces {
        let state = have
            .iter()
            .map(|&h| {
                if h {
                    PieceState::Have
                } else {
                    PieceState::Missing
                }
            })
            .collect();
        Pieces {
            state,
            availability: vec![0; have.len()],
            have_count: have.iter().filter(|&&h| h).count(),
            refused: HashMap::new(),
            partials: BTreeMap::new(),
            piece_length,
            total,
            policy,
            rng,
        }
    }

    pub fn len(&self) -> usize {
        self.state.len()
    }

    pub fn is_empty(&self) -> bool {
        self.state.is_empty()
    }

    pub fn has(&self, i: usize) -> bool {
        self.state.get(i) == Some(&PieceState::Have)
    }

    pub fn is_complete(&self) -> bool {
        self.have_count == self.len()
    }

    fn size(&self, i: usize) -> usize {
        (self.total - i as u64 * self.piece_length).min(self.piece_length) as usize
    }

    /// Up to `n` new requests for connection `key`, whose peer has `peer_has`:
    /// partial pieces first, then a new piece from the picker, then the endgame.
    /// Also returns the pieces the picker started, and why.
    pub fn next_requests(
        &mut self,
        key: PeerKey,
        peer_has: &Bitfield,
        n: usize,
    ) -> (Vec<Request>, Vec<(usize, PickReason)>) {
        let refused = self.refused.get(&key).cloned().unwrap_or_default();
        let (mut out, mut picked) = (Vec::new(), Vec::new());
        while out.len() < n {
            let views: Vec<(usize, Vec<BlockView>)> = self
                .partials
                .iter()
                .map(|(&i, p)| (i, p.views(key)))
                .collect();
            let slices = || views.iter().map(|(i, v)| (*i, &v[..]));
            if let Some((i, first)) = pick_partial(slices(), peer_has, &refused) {
                let Some(p) = self.partials.get_mut(&i) else {
                    break;
                };
                for b in first..p.blocks.len() {
                    if out.len() == n {
                        break;
                    }
                    let blk = &mut p.blocks[b];
                    if blk.data.is_none() && blk.requesters.is_empty() {
                        blk.requesters.push(key);
                        out.push((i as u32, b as u32 * MAX_BLOCK, p.block_len(b)));
                    }
                }
                continue;
            }
            let pick = pick_piece(
                &self.state,
                &self.availability,
                self.have_count,
                peer_has,
                &refused,
                self.policy,
                &mut self.rng,
            );
            if let Some((i, reason)) = pick {
                self.start_piece(i);
                picked.push((i, reason));
                continue;
            }
            // Endgame only once no piece is left to start anywhere.
            if self.state.contains(&PieceState::Missing) {
                break;
            }
            let Some((i, b)) = pick_endgame(slices(), peer_has, &refused) else {
                break;
            };
            let Some(p) = self.partials.get_mut(&i) else {
                break;
            };
            if p.blocks[b].requesters.len() >= ENDGAME_COPIES {
                break;
            }
            p.blocks[b].requesters.push(key);
            out.push((i as u32, b as u32 * MAX_BLOCK, p.block_len(b)));
        }
        (out, picked)
    }

    fn start_piece(&mut self, i: usize) {
        let size = self.size(i);
        let n = size.div_ceil(MAX_BLOCK as usize);
        let blocks = (0..n)
            .map(|_| Block {
                data: None,
                requesters: Vec::new(),
                from: None,
            })
            .collect();
        self.state[i] = PieceState::InFlight;
        self.partials.insert(
            i,
            Partial {
                size,
                blocks,
                got: 0,
            },
        );
    }

    /// Our requests to `key` will not be answered (a choke, a hang-up): free them.
    pub fn release(&mut self, key: PeerKey, requests: &[Request]) {
        for &(index, begin, _) in requests {
            let i = index as usize;
            let Some(p) = self.partials.get_mut(&i) else {
                continue;
            };
            if let Some(blk) = p.blocks.get_mut((begin / MAX_BLOCK) as usize) {
                blk.requesters.retain(|&k| k != key);
            }
            // Nothing here and nobody asking: the piece is simply missing again,
            // so the picker weighs its rarity afresh.
            if p.got == 0 && p.blocks.iter().all(|b| b.requesters.is_empty()) {
                self.partials.remove(&i);
                self.state[i] = PieceState::Missing;
            }
        }
    }

    /// The verifier's answer on piece `i`: kept, or missing again.
    pub fn verified(&mut self, i: usize, kept: bool) {
        if kept {
            if self.state[i] != PieceState::Have {
                self.state[i] = PieceState::Have;
                self.have_count += 1;
            }
        } else {
            self.state[i] = PieceState::Missing;
        }
    }
}
