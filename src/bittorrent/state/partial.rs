//! One piece in flight: which of its 16 KiB blocks are here, who asked for the others,
//! and what an arriving block changes (the first copy wins; in the endgame the other
//! requests for it are cancelled; the last block hands the piece to the verifier).

use crate::bittorrent::conn::{PeerKey, Request};
use crate::bittorrent::msg::MAX_BLOCK;
use crate::bittorrent::policy::pick::BlockView;

pub(super) struct Block {
    pub data: Option<Vec<u8>>,
    pub requesters: Vec<PeerKey>,
    pub from: Option<PeerKey>,
}

/// A piece some of whose blocks are requested or here.
pub(super) struct Partial {
    pub size: usize,
    pub blocks: Vec<Block>,
    pub got: usize,
}

impl Partial {
    pub fn block_len(&self, b: usize) -> u32 {
        (self.size - b * MAX_BLOCK as usize).min(MAX_BLOCK as usize) as u32
    }

    pub fn views(&self, me: PeerKey) -> Vec<BlockView> {
        self.blocks
            .iter()
            .map(|b| BlockView {
                received: b.data.is_some(),
                requesters: b.requesters.len(),
                by_me: b.requesters.contains(&me),
            })
            .collect()
    }
}

/// A piece whose blocks have all arrived, on its way to the verifier.
pub struct Finished {
    pub index: usize,
    /// Its blocks in order; the verifier joins them.
    pub blocks: Vec<Vec<u8>>,
    /// Every peer that sent a block of it.
    pub from: Vec<PeerKey>,
}

/// What one arriving block changed.
#[derive(Default)]
pub struct Arrival {
    /// The piece, when this was its last block.
    pub finished: Option<Finished>,
    /// Other connections that asked for the same block (endgame): cancel theirs.
    pub cancel: Vec<(PeerKey, Request)>,
}

impl Partial {
    /// A block arrived from `key`: keep it (the first copy) and add to `cancel` the
    /// other connections that asked for it (endgame). True when it was the last block.
    pub fn receive(
        &mut self,
        key: PeerKey,
        index: usize,
        begin: u32,
        data: Vec<u8>,
        cancel: &mut Vec<(PeerKey, Request)>,
    ) -> bool {
        let b = (begin / MAX_BLOCK) as usize;
        let Some(blk) = self.blocks.get_mut(b) else {
            return false;
        };
        if blk.data.is_some() {
            blk.requesters.retain(|&k| k != key);
            return false; // a duplicate from the endgame
        }
        let len = data.len() as u32;
        blk.data = Some(data);
        blk.from = Some(key);
        for other in blk.requesters.drain(..).filter(|&k| k != key) {
            cancel.push((other, (index as u32, begin, len)));
        }
        self.got += 1;
        self.got == self.blocks.len()
    }

    /// The whole piece, for the verifier: its blocks in order and who sent them.
    pub fn finish(self, index: usize) -> Finished {
        let mut from: Vec<PeerKey> = self.blocks.iter().filter_map(|b| b.from).collect();
        from.sort_unstable();
        from.dedup();
        let blocks = self.blocks.into_iter().filter_map(|b| b.data).collect();
        Finished {
            index,
            blocks,
            from,
        }
    }
}
