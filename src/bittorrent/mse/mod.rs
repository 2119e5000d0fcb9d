//! Message Stream Encryption (MSE, also "PE", protocol encryption, 协议加密): how real
//! clients open a BitTorrent connection (notes 6.5, joining a torrent, 加入洪流).
//!
//! The notes' peer connects and sends the 68-byte handshake in clear. From 2006 on,
//! ISPs recognised that handshake ("\x13BitTorrent protocol") and slowed BitTorrent down,
//! so Azureus, µTorrent and mainline agreed on MSE: a Diffie–Hellman exchange (密钥交换)
//! on a published 768-bit prime, then RC4 (流密码) over everything, with random padding
//! so that no byte pattern and no message length gives the protocol away. It is
//! obfuscation (混淆), not security: nothing authenticates the peer. But libtorrent,
//! aria2 and Transmission try it first, and a peer that closes on it costs them a
//! retry in plaintext about a second later on every connection (issue 14).
//!
//! ```text
//!   A (initiator)                                   B (acceptor)
//!   Ya = 2^Xa mod P, PadA      ───────────────►     finds Ya; Yb = 2^Xb mod P
//!                              ◄───────────────     Yb, PadB
//!   S = Yb^Xa                                       S = Ya^Xb   (the same number)
//!   HASH(req1,S), HASH(req2,SKEY)^HASH(req3,S),
//!   RC4a(VC, provide, PadC, IA) ───────────────►    syncs on HASH(req1,S); tries each
//!                                                   known info-hash as SKEY; checks VC
//!   syncs on RC4b(VC)          ◄───────────────     RC4b(VC, select, PadD)
//!   ◄──────── the peer wire, RC4 (0x02) or plaintext (0x01), both ways ────────►
//! ```
//! SKEY is the torrent's info-hash: only a peer that knows the torrent can open the
//! connection, and an observer does not learn which torrent it is.
//!
//! | file | what |
//! |---|---|
//! | `bignum.rs` | `base^exp mod P` on 768-bit numbers (Montgomery, u32 limbs) |
//! | `rc4.rs` | RC4 with MSE's 1024 discarded bytes |
//! | `handshake.rs` | [`initiate`] and [`accept`]: the five steps, both sides |
//! | `incoming.rs` | bytes read ahead, and the bounded search for a sync pattern |
//! | `stream.rs` | [`MseStream`]: the connection afterwards, and its two halves |
//!
//! Bounded: every length from the peer (PadC, PadD, IA) meets a named limit before a
//! buffer is made, and each search for a sync pattern gives up at the spec's bound.
//! Time is bounded by the caller: set read and write timeouts on the socket first.
//! Randomness (private keys, pads) comes from the caller's seeded [`Rng`], so a lab run
//! replays; a real client draws it from the OS.
//!
//! Simplified here: no "PadA carries a plaintext fallback" tricks and empty PadC/PadD
//! (the spec reserves them, all clients send them empty or zeroed); B selects RC4
//! whenever A offers it.
//!
//! [`Rng`]: crate::rng::Rng

mod bignum;
mod handshake;
mod incoming;
mod rc4;
mod stream;

pub use handshake::{accept, initiate, is_plaintext_handshake};
pub use rc4::Rc4;
pub use stream::{Method, MseReader, MseStream, MseWriter};

use std::fmt;
use std::io;

/// crypto_provide / crypto_select bit: the payload stays in clear.
pub const CRYPTO_PLAINTEXT: u32 = 0x01;
/// crypto_provide / crypto_select bit: the payload goes through RC4.
pub const CRYPTO_RC4: u32 = 0x02;
/// Longest PadA, PadB, PadC, PadD the spec allows.
pub const MAX_PAD: usize = 512;
/// Longest initial payload: the whole range of its 2-byte length (usually 68 bytes).
pub const MAX_IA: usize = 65_535;

/// What a node does about encryption (`--encryption prefer|require|off`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Outgoing: MSE offering RC4 and plaintext. Incoming: both accepted, RC4 chosen
    /// when offered.
    Prefer,
    /// Outgoing: MSE offering RC4 only. Incoming: plaintext handshakes refused.
    Require,
    /// Outgoing: a plain BitTorrent handshake. Incoming: MSE handshakes refused.
    Off,
}

impl std::str::FromStr for Policy {
    type Err = String;

    fn from_str(s: &str) -> Result<Policy, String> {
        match s {
            "prefer" => Ok(Policy::Prefer),
            "require" => Ok(Policy::Require),
            "off" => Ok(Policy::Off),
            _ => Err(format!(
                "encryption must be prefer, require or off, not {s:?}"
            )),
        }
    }
}

/// Why an MSE handshake failed; the connection is then closed.
#[derive(Debug)]
pub enum MseError {
    /// The socket failed or timed out.
    Io(io::Error),
    /// The peer closed during a step.
    Closed { during: &'static str },
    /// B did not find HASH('req1', S) within PadA.
    NoReq1Sync { within: usize },
    /// A did not find the encrypted VC within PadB.
    NoVcSync { within: usize },
    /// The SKEY hash matches none of our torrents.
    UnknownInfoHash,
    /// VC did not decrypt to 8 zero bytes: the peer derived other keys.
    VcMismatch,
    /// A length field above its limit.
    TooLong {
        what: &'static str,
        len: usize,
        max: usize,
    },
    /// crypto_provide has no method our policy accepts.
    NoCommonMethod { provide: u32 },
    /// crypto_select is not exactly one of the methods we provided.
    BadSelect(u32),
    /// A plaintext handshake arrived and our policy is `Require`.
    PlaintextRefused,
    /// An MSE handshake arrived and our policy is `Off`.
    EncryptionOff,
}

impl fmt::Display for MseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MseError::Io(e) => write!(f, "MSE: i/o error: {e}"),
            MseError::Closed { during } => write!(f, "MSE: peer closed during {during}"),
            MseError::NoReq1Sync { within } => {
                write!(f, "MSE: no req1 sync within {within} bytes after Ya")
            }
            MseError::NoVcSync { within } => {
                write!(f, "MSE: no VC sync within {within} bytes after Yb")
            }
            MseError::UnknownInfoHash => write!(f, "MSE: unknown info-hash"),
            MseError::VcMismatch => write!(f, "MSE: VC mismatch"),
            MseError::TooLong { what, len, max } => {
                write!(f, "MSE: {what} of {len} bytes exceeds {max}")
            }
            MseError::NoCommonMethod { provide } => {
                write!(
                    f,
                    "MSE: crypto_provide {provide:#x} offers nothing we accept"
                )
            }
            MseError::BadSelect(s) => write!(f, "MSE: crypto_select {s:#x} was not offered"),
            MseError::PlaintextRefused => write!(f, "MSE: plaintext refused (encryption required)"),
            MseError::EncryptionOff => {
                write!(f, "MSE: encrypted handshake refused (encryption off)")
            }
        }
    }
}

impl std::error::Error for MseError {}

impl From<io::Error> for MseError {
    fn from(e: io::Error) -> MseError {
        MseError::Io(e)
    }
}

impl MseError {
    /// True when the error is a socket timeout: the peer went silent.
    pub fn is_timeout(&self) -> bool {
        matches!(self, MseError::Io(e)
            if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut)
    }
}
