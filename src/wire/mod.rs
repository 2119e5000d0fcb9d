//! Framing shared by every protocol in p2plab: the bottom layer.
//!
//! Every architecture of the notes talks over TCP, and TCP is a byte stream, not a
//! sequence of messages. Each protocol therefore puts a *frame* around a message: a
//! length prefix (Napster, BitTorrent, our KaZaA and DHT protocols, Gnutella's
//! descriptor header) or a line ending (HTTP, the Gnutella handshake). This module
//! reads and writes those frames over any blocking `Read`/`Write` and nothing else:
//! what the bytes *mean* belongs to the architecture modules.
//!
//! Two rules hold everywhere (the house style's rules 4 and 5):
//! - a length that came from the wire is checked against a caller-given limit
//!   *before* a buffer is allocated, so a peer cannot make us allocate 4 GiB;
//! - a clean close between two frames (`Ok(None)`) is told apart from a close in the
//!   middle of one ([`WireError::Truncated`]).
//!
//! Where to look first: [`frame::read_frame`] and [`lines::read_head`].

mod error;
pub mod frame;
pub mod lines;

pub use error::WireError;
pub use frame::{read_body, read_exact_or_eof, read_frame, write_frame, Prefix};
pub use lines::{read_head, read_line, Head};

/// Result of every function in this layer.
pub type Result<T> = std::result::Result<T, WireError>;
