//! Received block buffers, recycled: the reader fills one per block, the verifier gives
//! it back once the piece is written.
//!
//! Without it every 16 KiB block is a fresh allocation on the reader's thread, freed on
//! the verifier's: the allocator hands whole pieces' worth of memory back to the kernel
//! and the next blocks fault it in again, zeroed (a page fault every 4 KiB received).
//! The pool holds no more buffers than were in use at once, so it never raises the
//! node's peak memory.

use crate::bittorrent::msg::MAX_BLOCK;
use crossbeam_channel::{bounded, Receiver, Sender};

/// Buffers kept for reuse at most (4 MiB of 16 KiB blocks); beyond, they are freed.
pub const POOL_BLOCKS: usize = 256;

pub struct BlockPool {
    tx: Sender<Vec<u8>>,
    rx: Receiver<Vec<u8>>,
}

impl Default for BlockPool {
    fn default() -> BlockPool {
        let (tx, rx) = bounded(POOL_BLOCKS);
        BlockPool { tx, rx }
    }
}

impl BlockPool {
    /// A buffer holding a copy of `data`: a recycled one when there is one.
    pub fn copy_of(&self, data: &[u8]) -> Vec<u8> {
        let mut b = self
            .rx
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(MAX_BLOCK as usize));
        b.clear();
        b.extend_from_slice(data);
        b
    }

    /// Takes buffers back (a full pool frees the rest).
    pub fn give_back(&self, blocks: Vec<Vec<u8>>) {
        for b in blocks {
            if self.tx.try_send(b).is_err() {
                return;
            }
        }
    }
}
