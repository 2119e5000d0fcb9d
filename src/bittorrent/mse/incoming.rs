//! Bytes read from the peer during the MSE handshake but not yet consumed.
//!
//! The handshake reads in chunks, not byte by byte, so it may read past its own end;
//! what is left over becomes the payload's first bytes. Searching for a sync pattern
//! (HASH('req1', S), the encrypted VC) happens here, bounded by the pad's maximum.

use super::rc4::Rc4;
use super::MseError;
use std::io::Read;

/// The peer's socket and what was read from it: `buf[at..]` is not consumed yet.
pub(super) struct Incoming<'a, S> {
    s: &'a mut S,
    buf: Vec<u8>,
    at: usize,
}

impl<'a, S: Read> Incoming<'a, S> {
    pub(super) fn new(s: &'a mut S, first: Vec<u8>) -> Incoming<'a, S> {
        Incoming {
            s,
            buf: first,
            at: 0,
        }
    }

    /// The peer's socket, for the steps we write in between.
    pub(super) fn stream(&mut self) -> &mut S {
        self.s
    }

    pub(super) fn unread(&self) -> &[u8] {
        &self.buf[self.at..]
    }

    fn available(&self) -> usize {
        self.buf.len() - self.at
    }

    /// Reads until at least `need` unconsumed bytes are buffered.
    pub(super) fn fill(&mut self, need: usize, during: &'static str) -> Result<(), MseError> {
        let mut chunk = [0u8; 4096];
        while self.available() < need {
            let n = self.s.read(&mut chunk)?;
            if n == 0 {
                return Err(MseError::Closed { during });
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
        Ok(())
    }

    pub(super) fn take(&mut self, n: usize, during: &'static str) -> Result<Vec<u8>, MseError> {
        self.fill(n, during)?;
        self.at += n;
        Ok(self.buf[self.at - n..self.at].to_vec())
    }

    /// Skips up to `max_skip` bytes until `pattern`, and past it; `None` if it is not there.
    pub(super) fn sync(&mut self, pattern: &[u8], max_skip: usize) -> Result<Option<()>, MseError> {
        loop {
            let window = &self.buf[self.at..];
            if let Some(k) = window.windows(pattern.len()).position(|w| w == pattern) {
                if k <= max_skip {
                    self.at += k + pattern.len();
                    return Ok(Some(()));
                }
            }
            if window.len() >= max_skip + pattern.len() {
                return Ok(None);
            }
            self.fill(window.len() + 1, "the pad before the sync pattern")?;
        }
    }

    /// The bytes read past the handshake, decrypted with the payload's cipher.
    pub(super) fn leftover(self, rc4: &mut Option<Rc4>) -> Vec<u8> {
        let mut rest = self.buf[self.at..].to_vec();
        if let Some(rc4) = rc4 {
            rc4.apply(&mut rest);
        }
        rest
    }
}
