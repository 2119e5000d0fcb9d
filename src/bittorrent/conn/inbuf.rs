//! The receive buffer of one connection: read big, parse in place.

use super::RECV_BUF;
use std::io::Read;

/// The receive buffer: bytes read but not yet parsed live in `buf[start..end]`.
pub(super) struct InBuf {
    pub buf: Vec<u8>,
    pub start: usize,
    pub end: usize,
}

impl InBuf {
    pub fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    pub fn fill(&mut self, r: &mut impl Read) -> std::io::Result<usize> {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        } else if self.buf.len() - self.end < RECV_BUF / 2 {
            self.buf.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
        }
        let n = r.read(&mut self.buf[self.end..])?;
        self.end += n;
        Ok(n)
    }
}
