//! Length-prefixed frames.
//!
//! A frame is `length ++ body`. Protocols differ in the width and byte order of the
//! length, so [`Prefix`] names the ones in use. Protocols whose header holds more than a
//! length (Napster's type word, Gnutella's 23-byte descriptor header) read their header
//! with [`read_exact_or_eof`] and then the body with [`read_body`], which applies the
//! same limit check.

use super::{Result, WireError};
use byteorder::{BigEndian, ByteOrder, LittleEndian};
use std::io::{ErrorKind, Read, Write};

/// Width and byte order of a length prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    /// 2 bytes, little-endian (OpenNap's length word).
    U16Le,
    /// 4 bytes, big-endian (BitTorrent messages; our KaZaA and DHT frames).
    U32Be,
}

impl Prefix {
    fn width(self) -> usize {
        match self {
            Prefix::U16Le => 2,
            Prefix::U32Be => 4,
        }
    }

    fn decode(self, b: &[u8]) -> u64 {
        match self {
            Prefix::U16Le => LittleEndian::read_u16(b) as u64,
            Prefix::U32Be => BigEndian::read_u32(b) as u64,
        }
    }

    fn encode(self, len: usize, out: &mut [u8]) {
        match self {
            Prefix::U16Le => LittleEndian::write_u16(out, len as u16),
            Prefix::U32Be => BigEndian::write_u32(out, len as u32),
        }
    }

    fn max_len(self) -> usize {
        match self {
            Prefix::U16Le => u16::MAX as usize,
            Prefix::U32Be => u32::MAX as usize,
        }
    }
}

/// Fills `buf` completely. Returns `Ok(false)` if the stream ended before the first
/// byte (a clean close between frames) and [`WireError::Truncated`] if it ended after.
pub fn read_exact_or_eof<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => {
                return Err(WireError::Truncated {
                    expected: buf.len(),
                    got,
                })
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(true)
}

/// Reads a body of `len` bytes announced by a header, after checking `len <= max`.
/// The buffer grows as bytes arrive, so a peer that lies about the length and goes
/// silent costs us what it sent, not what it claimed.
pub fn read_body<R: Read>(r: &mut R, len: u64, max: u64) -> Result<Vec<u8>> {
    if len > max {
        return Err(WireError::TooLong { len, max });
    }
    let len = len as usize;
    let mut body = Vec::with_capacity(len.min(64 * 1024));
    let got = r.take(len as u64).read_to_end(&mut body)?;
    if got < len {
        return Err(WireError::Truncated { expected: len, got });
    }
    Ok(body)
}

/// Reads one frame: `Ok(None)` on a clean close before its first byte.
pub fn read_frame<R: Read>(r: &mut R, prefix: Prefix, max: u64) -> Result<Option<Vec<u8>>> {
    let mut head = [0u8; 4];
    let head = &mut head[..prefix.width()];
    if !read_exact_or_eof(r, head)? {
        return Ok(None);
    }
    read_body(r, prefix.decode(head), max).map(Some)
}

/// Writes one frame in a single `write_all`, so that a frame is never interleaved
/// with another thread's and reaches the kernel as one segment when it fits.
pub fn write_frame<W: Write>(w: &mut W, prefix: Prefix, body: &[u8]) -> Result<()> {
    if body.len() > prefix.max_len() {
        return Err(WireError::TooLong {
            len: body.len() as u64,
            max: prefix.max_len() as u64,
        });
    }
    let mut buf = vec![0u8; prefix.width() + body.len()];
    prefix.encode(body.len(), &mut buf[..prefix.width()]);
    buf[prefix.width()..].copy_from_slice(body);
    w.write_all(&buf)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn u32_frame_round_trips() {
        let mut out = Vec::new();
        write_frame(&mut out, Prefix::U32Be, b"hello").unwrap();
        // 00 00 00 05: length 5, big-endian; then the body.
        assert_eq!(out, b"\x00\x00\x00\x05hello");
        let mut r = Cursor::new(out);
        assert_eq!(
            read_frame(&mut r, Prefix::U32Be, 16).unwrap().unwrap(),
            b"hello"
        );
        assert!(read_frame(&mut r, Prefix::U32Be, 16).unwrap().is_none());
    }

    #[test]
    fn u16_le_prefix() {
        let mut out = Vec::new();
        write_frame(&mut out, Prefix::U16Le, &[7u8; 258]).unwrap();
        // 02 01: 258 little-endian.
        assert_eq!(&out[..2], &[0x02, 0x01]);
    }

    #[test]
    fn length_over_limit_is_refused_before_reading() {
        // Claims 70000 bytes but sends 3: the limit check must fire first.
        let mut r = Cursor::new(b"\x00\x01\x11\x70abc".to_vec());
        let err = read_frame(&mut r, Prefix::U32Be, 65536).unwrap_err();
        assert!(matches!(
            err,
            WireError::TooLong {
                len: 70000,
                max: 65536
            }
        ));
        assert_eq!(err.to_string(), "frame of 70000 bytes exceeds limit 65536");
    }

    #[test]
    fn huge_claim_allocates_nothing_big() {
        // 2^32-1 claimed, limit also huge: the reader must still only hold what arrived.
        let mut r = Cursor::new(b"\xff\xff\xff\xffab".to_vec());
        let err = read_frame(&mut r, Prefix::U32Be, u32::MAX as u64).unwrap_err();
        assert!(matches!(err, WireError::Truncated { got: 2, .. }));
    }

    #[test]
    fn close_mid_header_is_truncation() {
        let mut r = Cursor::new(vec![0u8, 0]);
        let err = read_frame(&mut r, Prefix::U32Be, 16).unwrap_err();
        assert!(matches!(
            err,
            WireError::Truncated {
                expected: 4,
                got: 2
            }
        ));
    }
}
