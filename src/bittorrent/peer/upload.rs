//! The upload side of a connection: the peer's requests, answered from disk, through
//! the node's upload cap (its u_i) when it has one.

use super::{Conn, Error, MAX_QUEUED_REQUESTS, SEND_FLUSH, UPLOAD_SLICE};
use crate::bittorrent::message;
use crate::wire::WireError;
use log::debug;
use std::net::TcpStream;
use std::sync::atomic::Ordering;

/// Bytes of a `piece` message before its block.
const PIECE_HEADER: usize = 13;

impl Conn {
    pub(super) fn on_request(&mut self, index: u32, begin: u32, length: u32) -> Result<(), Error> {
        let i = index as usize;
        if i >= self.shared.num_pieces()
            || begin as u64 + length as u64 > self.shared.storage.piece_size(i) as u64
        {
            return Err(WireError::Malformed("request outside the piece").into());
        }
        if self.am_choking || !self.shared.has_piece(i) {
            debug!("ignoring request for piece {i} (choked, or we lack it)");
            return Ok(());
        }
        if self.uploads.len() >= MAX_QUEUED_REQUESTS {
            return Err(format!("more than {MAX_QUEUED_REQUESTS} requests queued").into());
        }
        self.uploads.push_back((index, begin, length));
        Ok(())
    }

    /// Answers queued requests: header, then the block read from disk straight into
    /// the send buffer. Capped: at most [`UPLOAD_SLICE`] per call, each block paid
    /// for in tokens before it is written.
    pub(super) fn serve_requests(&mut self, stream: &TcpStream) -> Result<(), Error> {
        let piece_length = self.shared.meta.info.piece_length;
        let bucket = self.shared.upload_bucket.clone();
        let mut served = 0;
        while let Some((index, begin, length)) = self.uploads.pop_front() {
            if let Some(b) = &bucket {
                if served >= UPLOAD_SLICE {
                    self.uploads.push_front((index, begin, length));
                    break;
                }
                b.take(PIECE_HEADER + length as usize);
            }
            served += length as usize;
            message::piece_header(index, begin, length as usize, &mut self.out);
            let at = self.out.len();
            self.out.resize(at + length as usize, 0);
            let offset = index as u64 * piece_length + begin as u64;
            self.shared.storage.read_at(offset, &mut self.out[at..])?;
            if self.shared.policy.corrupt && length > 0 {
                self.out[at] ^= 0xFF; // the corrupt peer of the tests: one wrong byte per block
            }
            let len = length as u64;
            self.shared.uploaded.fetch_add(len, Ordering::Relaxed);
            self.counters.up.fetch_add(len, Ordering::Relaxed);
            if self.optimistic_slot {
                self.counters
                    .up_optimistic
                    .fetch_add(len, Ordering::Relaxed);
            } else if !self.shared.is_complete() {
                self.counters
                    .up_regular_leeching
                    .fetch_add(len, Ordering::Relaxed);
            }
            if self.out.len() >= SEND_FLUSH {
                self.flush(stream)?;
            }
        }
        Ok(())
    }
}
