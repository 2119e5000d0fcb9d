//! Line-framed heads: an HTTP request or response head, a Gnutella 0.6 handshake.
//!
//! A head is a start line, then `Name: value` header lines, then an empty line. Both
//! the line length and the whole head are capped, and so is the number of headers:
//! a peer that streams bytes without a newline is cut off at the cap, not buffered.
//! Readers take a `BufRead` because the bytes after the head (a file, Gnutella
//! descriptors) may already sit in the buffer: keep using the same reader.

use super::{Result, WireError};
use std::io::BufRead;

/// Reads one line ending in `\n` (a preceding `\r` is dropped), at most `max` bytes
/// including the ending. `Ok(None)` on a clean close before the first byte.
pub fn read_line<R: BufRead>(r: &mut R, max: usize) -> Result<Option<String>> {
    let mut line = Vec::new();
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            if line.is_empty() {
                return Ok(None);
            }
            return Err(WireError::Truncated {
                expected: line.len() + 1,
                got: line.len(),
            });
        }
        let (take, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        if line.len() + take > max {
            return Err(WireError::TooLong {
                len: (line.len() + take) as u64,
                max: max as u64,
            });
        }
        line.extend_from_slice(&buf[..take]);
        r.consume(take);
        if done {
            break;
        }
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line)
        .map(Some)
        .map_err(|_| WireError::Malformed("line is not UTF-8"))
}

/// A start line and its headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub start: String,
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first header with this name, compared without regard to case.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads a head of at most `max_bytes` in total and `max_headers` header lines.
/// `Ok(None)` on a clean close before the start line.
pub fn read_head<R: BufRead>(
    r: &mut R,
    max_bytes: usize,
    max_headers: usize,
) -> Result<Option<Head>> {
    let Some(start) = read_line(r, max_bytes)? else {
        return Ok(None);
    };
    let mut used = start.len() + 2;
    let mut headers = Vec::new();
    loop {
        let line =
            read_line(r, max_bytes.saturating_sub(used).max(2))?.ok_or(WireError::Truncated {
                expected: used + 2,
                got: used,
            })?;
        used += line.len() + 2;
        if used > max_bytes {
            return Err(WireError::TooLong {
                len: used as u64,
                max: max_bytes as u64,
            });
        }
        if line.is_empty() {
            return Ok(Some(Head { start, headers }));
        }
        if headers.len() == max_headers {
            return Err(WireError::TooLong {
                len: headers.len() as u64 + 1,
                max: max_headers as u64,
            });
        }
        let (name, value) = line
            .split_once(':')
            .ok_or(WireError::Malformed("header line without ':'"))?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn reads_a_gnutella_handshake() {
        let bytes =
            b"GNUTELLA CONNECT/0.6\r\nUser-Agent: p2plab\r\nX-Try: 1.2.3.4:6346\r\n\r\nrest";
        let mut r = Cursor::new(&bytes[..]);
        let head = read_head(&mut r, 4096, 16).unwrap().unwrap();
        assert_eq!(head.start, "GNUTELLA CONNECT/0.6");
        assert_eq!(head.get("user-agent"), Some("p2plab"));
        assert_eq!(head.get("X-TRY"), Some("1.2.3.4:6346"));
        // The bytes after the head stay in the reader.
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut r, &mut rest).unwrap();
        assert_eq!(rest, "rest");
    }

    #[test]
    fn endless_line_is_cut_at_the_cap() {
        let bytes = vec![b'a'; 10_000];
        let err = read_line(&mut Cursor::new(bytes), 1024).unwrap_err();
        assert!(matches!(err, WireError::TooLong { max: 1024, .. }));
    }

    #[test]
    fn too_many_headers() {
        let mut text = String::from("GET / HTTP/1.1\r\n");
        for i in 0..40 {
            text.push_str(&format!("H{i}: x\r\n"));
        }
        text.push_str("\r\n");
        let err = read_head(&mut Cursor::new(text), 8192, 32).unwrap_err();
        assert!(matches!(err, WireError::TooLong { max: 32, .. }));
    }

    #[test]
    fn close_inside_head_is_truncation() {
        let err = read_head(
            &mut Cursor::new(&b"GET / HTTP/1.1\r\nHost: x\r\n"[..]),
            8192,
            32,
        )
        .unwrap_err();
        assert!(matches!(err, WireError::Truncated { .. }));
    }
}
