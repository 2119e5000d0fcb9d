//! The one error type of the wire layer.

use std::fmt;
use std::io;

/// What went wrong while reading or writing a frame. Variants carry what was expected
/// and what arrived, so that a log line tells a student what the peer did.
#[derive(Debug)]
pub enum WireError {
    /// The socket failed (reset, timeout, ...).
    Io(io::Error),
    /// A length field announced more than the caller allows.
    TooLong { len: u64, max: u64 },
    /// The peer closed the connection in the middle of a frame.
    Truncated { expected: usize, got: usize },
    /// A message type this protocol does not define.
    UnknownType(u32),
    /// The bytes do not follow the format; the text says which rule was broken.
    Malformed(&'static str),
}

impl WireError {
    /// True when the error is a read timeout: the peer went silent.
    pub fn is_timeout(&self) -> bool {
        matches!(self, WireError::Io(e)
            if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut)
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Io(e) => write!(f, "i/o error: {e}"),
            WireError::TooLong { len, max } => {
                write!(f, "frame of {len} bytes exceeds limit {max}")
            }
            WireError::Truncated { expected, got } => write!(
                f,
                "connection closed mid-frame: expected {expected} bytes, got {got}"
            ),
            WireError::UnknownType(t) => write!(f, "unknown message type {t}"),
            WireError::Malformed(why) => write!(f, "malformed message: {why}"),
        }
    }
}

impl std::error::Error for WireError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WireError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for WireError {
    fn from(e: io::Error) -> Self {
        WireError::Io(e)
    }
}
