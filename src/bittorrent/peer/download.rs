//! The download side of a connection: keep the pipeline full with the node's picks,
//! hand each arriving block to the node's partial pieces, finished pieces to the verifier.

use super::{Conn, Error};
use crate::bittorrent::message::{encode_into, Message, MAX_BLOCK};
use crate::wire::WireError;
use log::debug;
use std::sync::atomic::Ordering;

impl Conn {
    pub(super) fn on_piece(&mut self, index: u32, begin: u32, block: &[u8]) -> Result<(), Error> {
        let i = index as usize;
        let fits = i < self.shared.num_pieces() && begin.is_multiple_of(MAX_BLOCK) && {
            let size = self.shared.storage.piece_size(i) as u64;
            let b = begin as u64;
            b < size && block.len() as u64 == (size - b).min(MAX_BLOCK as u64)
        };
        if !fits {
            return Err(WireError::Malformed("block does not match any request").into());
        }
        let r = (index, begin, block.len() as u32);
        match self.requests.iter().position(|&q| q == r) {
            Some(pos) => {
                self.requests.swap_remove(pos);
            }
            // Cancelled in the endgame but already on its way: still useful if
            // the first copy has not arrived.
            None => debug!("unrequested block {index}/{begin}"),
        }
        let len = block.len() as u64;
        self.shared.downloaded.fetch_add(len, Ordering::Relaxed);
        self.counters.down.fetch_add(len, Ordering::Relaxed);
        let b = (begin / MAX_BLOCK) as usize;
        if let Some(f) = self.shared.receive_block(self.key, i, b, block) {
            // Blocks when the verifier is behind: back-pressure instead of buffering.
            self.shared
                .verify_tx
                .send(f)
                .map_err(|_| "node is stopping")?;
        }
        Ok(())
    }

    /// Keeps `pipeline` requests outstanding, as the node's picker decides.
    pub(super) fn fill_pipeline(&mut self) {
        if self.peer_choking || !self.am_interested {
            return;
        }
        let room = self.shared.pipeline.saturating_sub(self.requests.len());
        if room == 0 {
            return;
        }
        for r in self.shared.next_requests(self.key, &self.peer_has, room) {
            let (index, begin, length) = r;
            encode_into(
                &Message::Request {
                    index,
                    begin,
                    length,
                },
                &mut self.out,
            );
            self.requests.push(r);
        }
    }
}
