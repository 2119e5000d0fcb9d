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
        let n = loop {
            match r.read(&mut self.buf[self.end..]) {
                // A read with a timeout (SO_RCVTIMEO) fails with EINTR after the process was
                // stopped and continued (Ctrl-Z and `fg`, a debugger, a paused benchmark run),
                // even with no signal handler: nothing went wrong, read again.
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        self.end += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails once with EINTR, then yields its bytes.
    struct Stopped(bool, &'static [u8]);

    impl Read for Stopped {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if std::mem::replace(&mut self.0, false) {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            let n = self.1.len().min(buf.len());
            buf[..n].copy_from_slice(&self.1[..n]);
            Ok(n)
        }
    }

    #[test]
    fn an_interrupted_read_is_retried_not_a_dropped_peer() {
        let mut inb = InBuf {
            buf: vec![0; RECV_BUF],
            start: 0,
            end: 0,
        };
        assert_eq!(inb.fill(&mut Stopped(true, b"abc")).unwrap(), 3);
        assert_eq!(inb.data(), b"abc");
    }
}
