//! Blocks of the pieces in flight, shared by all of a node's connections.
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

use super::bitfield::Bitfield;
use super::message::MAX_BLOCK;
use super::picker::{pick_endgame, pick_partial, pick_piece, BlockView, PieceState};
use super::state::{Cmd, Finished, NodeEvent, PeerKey, Shared, State};

/// In the endgame, at most this many connections ask for the same block.
pub const ENDGAME_COPIES: usize = 3;

pub(crate) struct Block {
    pub received: bool,
    pub requesters: Vec<PeerKey>,
    pub from: Option<PeerKey>,
}

pub(crate) struct Partial {
    pub size: usize,
    pub buf: Vec<u8>,
    pub blocks: Vec<Block>,
    pub got: usize,
}

impl Partial {
    fn block_len(&self, b: usize) -> u32 {
        (self.size - b * MAX_BLOCK as usize).min(MAX_BLOCK as usize) as u32
    }

    fn views(&self, me: PeerKey) -> Vec<BlockView> {
        self.blocks
            .iter()
            .map(|b| BlockView {
                received: b.received,
                requesters: b.requesters.len(),
                by_me: b.requesters.contains(&me),
            })
            .collect()
    }
}

/// A block request: piece index, offset, length.
pub(crate) type Request = (u32, u32, u32);

impl Shared {
    /// Up to `n` new requests for connection `key`, whose peer has `peer_has`:
    /// partial pieces first, then a new piece from the picker, then the endgame.
    pub fn next_requests(&self, key: PeerKey, peer_has: &Bitfield, n: usize) -> Vec<Request> {
        let mut st = self.lock();
        let st = &mut *st;
        let refused = st.refused.get(&key).cloned().unwrap_or_default();
        let mut out = Vec::new();
        while out.len() < n {
            let views: Vec<(usize, Vec<BlockView>)> = st
                .partials
                .iter()
                .map(|(&i, p)| (i, p.views(key)))
                .collect();
            let slices = || views.iter().map(|(i, v)| (*i, &v[..]));
            if let Some((i, first)) = pick_partial(slices(), peer_has, &refused) {
                let p = st.partials.get_mut(&i).expect("picked from the map");
                for b in first..p.blocks.len() {
                    if out.len() == n {
                        break;
                    }
                    let blk = &mut p.blocks[b];
                    if !blk.received && blk.requesters.is_empty() {
                        blk.requesters.push(key);
                        out.push((i as u32, b as u32 * MAX_BLOCK, p.block_len(b)));
                    }
                }
                continue;
            }
            let picked = pick_piece(
                &st.pieces,
                &st.availability,
                st.have_count,
                peer_has,
                &refused,
                self.policy.pick,
                &mut st.rng,
            );
            if let Some((i, reason)) = picked {
                self.start_piece(st, i);
                self.emit(NodeEvent::Picked { piece: i, reason });
                continue;
            }
            // Endgame only once no piece is left to start anywhere.
            if st.pieces.contains(&PieceState::Missing) {
                break;
            }
            let Some((i, b)) = pick_endgame(slices(), peer_has, &refused) else {
                break;
            };
            let p = st.partials.get_mut(&i).expect("picked from the map");
            if p.blocks[b].requesters.len() >= ENDGAME_COPIES {
                break;
            }
            p.blocks[b].requesters.push(key);
            out.push((i as u32, b as u32 * MAX_BLOCK, p.block_len(b)));
        }
        out
    }

    fn start_piece(&self, st: &mut State, i: usize) {
        let size = self.storage.piece_size(i);
        let mut buf = self.pool_rx.try_recv().unwrap_or_default();
        buf.resize(size.max(buf.len()), 0);
        let n = size.div_ceil(MAX_BLOCK as usize);
        let blocks = (0..n)
            .map(|_| Block {
                received: false,
                requesters: Vec::new(),
                from: None,
            })
            .collect();
        st.pieces[i] = PieceState::InFlight;
        st.partials.insert(
            i,
            Partial {
                size,
                buf,
                blocks,
                got: 0,
            },
        );
    }

    /// A block arrived from `key`. Returns the piece when this was its last block.
    /// Other connections that asked for the same block are told to cancel.
    pub fn receive_block(
        &self,
        key: PeerKey,
        index: usize,
        b: usize,
        data: &[u8],
    ) -> Option<Finished> {
        let mut st = self.lock();
        let st = &mut *st;
        if let Some(p) = st.peers.get_mut(&key) {
            p.last_block = std::time::Instant::now();
        }
        let p = st.partials.get_mut(&index)?; // done already, or never asked: dropped
        let blk = p.blocks.get_mut(b)?;
        if blk.received {
            blk.requesters.retain(|&k| k != key);
            return None; // a duplicate from the endgame
        }
        let at = b * MAX_BLOCK as usize;
        p.buf[at..at + data.len()].copy_from_slice(data);
        blk.received = true;
        blk.from = Some(key);
        for other in blk.requesters.drain(..).filter(|&k| k != key) {
            if let Some(peer) = st.peers.get(&other) {
                let _ = peer.tx.send(Cmd::Cancel {
                    index: index as u32,
                    begin: at as u32,
                    length: data.len() as u32,
                });
            }
        }
        p.got += 1;
        if p.got < p.blocks.len() {
            return None;
        }
        let mut p = st.partials.remove(&index).expect("found above");
        let mut from: Vec<PeerKey> = p.blocks.iter().filter_map(|b| b.from).collect();
        from.sort_unstable();
        from.dedup();
        p.buf.truncate(p.size);
        Some(Finished {
            index,
            data: p.buf,
            from,
        })
    }

    /// Our requests to `key` will not be answered (a choke, a hang-up): free them.
    pub fn release(&self, key: PeerKey, requests: &[Request]) {
        let mut st = self.lock();
        self.release_locked(&mut st, key, requests);
    }

    pub(crate) fn release_locked(&self, st: &mut State, key: PeerKey, requests: &[Request]) {
        for &(index, begin, _) in requests {
            let i = index as usize;
            let Some(p) = st.partials.get_mut(&i) else {
                continue;
            };
            if let Some(blk) = p.blocks.get_mut((begin / MAX_BLOCK) as usize) {
                blk.requesters.retain(|&k| k != key);
            }
            // Nothing here and nobody asking: the piece is simply missing again,
            // so the picker weighs its rarity afresh.
            if p.got == 0 && p.blocks.iter().all(|b| b.requesters.is_empty()) {
                if let Some(p) = st.partials.remove(&i) {
                    let _ = self.pool_tx.send(p.buf);
                }
                st.pieces[i] = PieceState::Missing;
            }
        }
    }
}
