//! The download side of a connection: keep the pipeline full, collect blocks into
//! pieces, hand finished pieces to the verifier.

use super::{Conn, Error};
use crate::bittorrent::message::{encode_into, Message, MAX_BLOCK};
use crate::bittorrent::picker::{pick_piece, PieceState};
use crate::bittorrent::state::Finished;
use crate::wire::WireError;
use log::debug;
use std::sync::atomic::Ordering;

/// A piece being fetched from this peer, block by block.
pub(super) struct Partial {
    pub index: usize,
    pub size: usize,
    pub buf: Vec<u8>,
    pub requested: Vec<bool>,
    pub received: Vec<bool>,
    pub got: usize,
}

impl Partial {
    fn block_len(&self, b: usize) -> usize {
        (self.size - b * MAX_BLOCK as usize).min(MAX_BLOCK as usize)
    }
}

impl Conn {
    pub(super) fn on_piece(&mut self, index: u32, begin: u32, block: &[u8]) -> Result<(), Error> {
        let Some(pos) = self.partials.iter().position(|p| p.index == index as usize) else {
            debug!("block of piece {index} we are not fetching: dropped");
            return Ok(());
        };
        let p = &mut self.partials[pos];
        let b = (begin / MAX_BLOCK) as usize;
        if !begin.is_multiple_of(MAX_BLOCK)
            || b >= p.received.len()
            || block.len() != p.block_len(b)
        {
            return Err(WireError::Malformed("block does not match any request").into());
        }
        if p.received[b] {
            return Ok(()); // a duplicate
        }
        if p.requested[b] {
            self.outstanding -= 1;
        }
        p.requested[b] = true;
        p.received[b] = true;
        p.got += 1;
        let at = begin as usize;
        p.buf[at..at + block.len()].copy_from_slice(block);
        self.shared
            .downloaded
            .fetch_add(block.len() as u64, Ordering::Relaxed);
        if p.got == p.received.len() {
            let mut done = self.partials.swap_remove(pos);
            done.buf.truncate(done.size);
            let f = Finished {
                index: done.index,
                data: done.buf,
                from: self.key,
            };
            // Blocks when the verifier is behind: back-pressure instead of buffering.
            self.shared
                .verify_tx
                .send(f)
                .map_err(|_| "node is stopping")?;
        }
        Ok(())
    }

    /// Keeps `pipeline` requests outstanding: the next blocks of pieces in progress,
    /// then new pieces chosen by the picker.
    pub(super) fn fill_pipeline(&mut self) {
        if self.peer_choking || !self.am_interested {
            return;
        }
        while self.outstanding < self.shared.pipeline {
            let next = self.partials.iter_mut().find_map(|p| {
                let b = p.requested.iter().position(|r| !r)?;
                p.requested[b] = true;
                Some((p.index, b, p.block_len(b)))
            });
            if let Some((index, b, len)) = next {
                let m = Message::Request {
                    index: index as u32,
                    begin: (b * MAX_BLOCK as usize) as u32,
                    length: len as u32,
                };
                encode_into(&m, &mut self.out);
                self.outstanding += 1;
                continue;
            }
            let Some(index) = self.pick() else { return };
            let size = self.shared.storage.piece_size(index);
            let mut buf = self.shared.pool_rx.try_recv().unwrap_or_default();
            buf.resize(size.max(buf.len()), 0);
            let blocks = size.div_ceil(MAX_BLOCK as usize);
            self.partials.push(Partial {
                index,
                size,
                buf,
                requested: vec![false; blocks],
                received: vec![false; blocks],
                got: 0,
            });
        }
    }

    pub(super) fn pick(&self) -> Option<usize> {
        let mut st = self.shared.lock();
        let refused = st.refused.get(&self.key).map(Vec::as_slice).unwrap_or(&[]);
        let i = pick_piece(&st.pieces, &self.peer_has, refused)?;
        st.pieces[i] = PieceState::InFlight;
        Some(i)
    }
}
