//! The upload side of a connection: the peer's requests, answered from disk.

use super::{Conn, Error, MAX_QUEUED_REQUESTS, SEND_FLUSH};
use crate::bittorrent::message;
use crate::wire::WireError;
use log::debug;
use std::net::TcpStream;
use std::sync::atomic::Ordering;

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
    /// the send buffer.
    pub(super) fn serve_requests(&mut self, stream: &TcpStream) -> Result<(), Error> {
        let piece_length = self.shared.meta.info.piece_length;
        while let Some((index, begin, length)) = self.uploads.pop_front() {
            message::piece_header(index, begin, length as usize, &mut self.out);
            let at = self.out.len();
            self.out.resize(at + length as usize, 0);
            let offset = index as u64 * piece_length + begin as u64;
            self.shared.storage.read_at(offset, &mut self.out[at..])?;
            self.shared
                .uploaded
                .fetch_add(length as u64, Ordering::Relaxed);
            if self.out.len() >= SEND_FLUSH {
                self.flush(stream)?;
            }
        }
        Ok(())
    }
}
