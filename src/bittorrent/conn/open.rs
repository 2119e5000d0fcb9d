//! Opening a connection: Message Stream Encryption (MSE, 协议加密) or not, then the
//! 68-byte BitTorrent handshake through whatever the first step chose.
//!
//! ```text
//!   incoming: read 20 bytes ─┬─ "\x13BitTorrent protocol" → plaintext (unless --encryption require)
//!                            └─ anything else → the MSE handshake as B (unless --encryption off)
//!   outgoing: prefer  → MSE as A offering RC4 and plaintext; our handshake rides as its
//!                       initial payload; if the peer closes on it, call again in plaintext
//!             require → MSE offering RC4 only, no second try
//!             off     → the plain handshake, as the notes tell it
//! ```
//! What real clients do, and why `prefer` is our default: libtorrent (qBittorrent,
//! Deluge) and Transmission default to "encryption enabled/preferred": outgoing
//! connections try MSE first and fall back to plaintext on a new connection when the
//! peer closes on it; incoming connections are accepted either way. aria2c tries MSE
//! first unless told `--bt-require-crypto`. A node that refuses MSE therefore costs
//! each of them a failed connection and a retry about a second later (issue 14); one
//! that accepts it is met at once.
//!
//! Either way the reader and the writer get an [`MseReader`] / [`MseWriter`]: after a
//! plaintext start they pass bytes through untouched, so one code path serves both.

use super::Ctx;
use crate::bittorrent::mse::{self, MseError, MseReader, MseStream, MseWriter, Policy};
use crate::bittorrent::msg::extended;
use crate::bittorrent::msg::handshake::Handshake;
use crate::rng::Rng;
use std::fmt;
use std::net::TcpStream;

/// The reading half of an open connection.
pub(super) type Reader = MseReader<TcpStream>;
/// The writing half of an open connection.
pub(super) type Writer = MseWriter<TcpStream>;

/// A connection after both handshakes.
pub(super) struct Opened {
    pub reader: Reader,
    pub writer: Writer,
    pub theirs: Handshake,
    pub encrypted: bool,
}

/// Why a connection did not open.
#[derive(Debug)]
pub enum OpenError {
    /// The MSE step failed: the peer closed, timed out, or sent something that does
    /// not verify.
    Mse(MseError),
    /// The BitTorrent handshake failed or named another torrent.
    Handshake(String),
}

impl OpenError {
    /// True when an outgoing MSE attempt failed as a peer that does not speak MSE
    /// fails it (it closes or resets on our random-looking bytes, or never answers):
    /// worth one more call in plaintext. A peer that answered with MSE and then broke
    /// a rule is not called again.
    pub fn no_mse_peer(&self) -> bool {
        matches!(
            self,
            OpenError::Mse(MseError::Closed { .. }) | OpenError::Mse(MseError::Io(_))
        )
    }
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Mse(e) => write!(f, "{e}"),
            OpenError::Handshake(e) => write!(f, "handshake: {e}"),
        }
    }
}

impl std::error::Error for OpenError {}

impl From<MseError> for OpenError {
    fn from(e: MseError) -> OpenError {
        OpenError::Mse(e)
    }
}

/// Our handshake: the extension protocol bit (BEP 10) is set, so peers may send id 20.
pub(super) fn our_handshake(ctx: &Ctx) -> Handshake {
    let mut h = Handshake::new(ctx.info_hash, ctx.peer_id);
    extended::set_extended(&mut h.reserved);
    h
}

/// Runs both handshakes on `stream` (read and write timeouts already set). Outgoing
/// connections use `policy`; incoming ones the node's own. `key` picks this
/// connection's random stream (DH key, pads) from the node's seed, so a run replays.
pub(super) fn open(
    ctx: &Ctx,
    stream: TcpStream,
    outgoing: Option<Policy>,
    key: u64,
) -> Result<Opened, OpenError> {
    let writer = stream.try_clone().map_err(MseError::Io)?;
    let mut rng = Rng::new(ctx.mse_seed ^ key.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let ours = our_handshake(ctx);
    let hs_err = |e: &dyn fmt::Display| OpenError::Handshake(e.to_string());
    let mut s: MseStream<TcpStream> = match outgoing {
        Some(Policy::Off) => {
            let mut s = MseStream::plaintext(stream, Vec::new());
            ours.write_to(&mut s).map_err(|e| hs_err(&e))?;
            s
        }
        Some(policy) => mse::initiate(stream, &ctx.info_hash, policy, &ours.encode(), &mut rng)?,
        None => mse::accept(stream, &[], &[ctx.info_hash], ctx.encryption, &mut rng)?,
    };
    let theirs = Handshake::read_from(&mut s).map_err(|e| hs_err(&e))?;
    if theirs.info_hash != ctx.info_hash {
        return Err(hs_err(&"it names another torrent (info-hash differs)"));
    }
    if theirs.peer_id == ctx.peer_id {
        return Err(hs_err(&"connected to ourselves"));
    }
    if outgoing.is_none() {
        ours.write_to(&mut s).map_err(|e| hs_err(&e))?;
    }
    let encrypted = s.is_encrypted();
    let (reader, writer) = s.split(writer);
    Ok(Opened {
        reader,
        writer,
        theirs,
        encrypted,
    })
}
