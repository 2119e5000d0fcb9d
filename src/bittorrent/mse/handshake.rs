//! The five steps of the MSE handshake, both sides, over any blocking `Read + Write`.
//!
//! ```text
//!  1 A->B  Ya (96) | PadA (0..512 random)
//!  2 B->A  Yb (96) | PadB (0..512 random)
//!  3 A->B  HASH('req1', S) | HASH('req2', SKEY) xor HASH('req3', S)
//!          | RC4a( VC (8 zero bytes) | crypto_provide (4) | len(PadC) (2) | PadC | len(IA) (2) | IA )
//!  4 B->A  RC4b( VC | crypto_select (4) | len(PadD) (2) | PadD )
//!  5       payload, RC4a / RC4b if crypto_select = 0x02, else plaintext
//! ```
//! The random pads hide the message boundaries, so each side finds its place by a
//! pattern it can compute: B looks for `HASH('req1', S)` (it knows S once it has Ya),
//! A for `VC` as B's keystream encrypts it. Each search has a bound from the spec: the
//! pattern must end within 512 pad bytes plus its own length.

use super::bignum::{self, Modulus, BYTES};
use super::incoming::Incoming;
use super::rc4::Rc4;
use super::stream::{Inbound, Method, MseStream, Outbound};
use super::{MseError, Policy, CRYPTO_PLAINTEXT, CRYPTO_RC4, MAX_IA, MAX_PAD};
use crate::bittorrent::metainfo::InfoHash;
use crate::bittorrent::msg::handshake::PROTOCOL;
use crate::rng::Rng;
use sha1::{Digest, Sha1};
use std::io::{Read, Write};

/// Verification constant: 8 zero bytes, recognisable once decrypted.
const VC: [u8; 8] = [0; 8];
/// Bits of a DH private key (the spec: at least 128; mainstream clients use 160).
const PRIVATE_KEY_BYTES: usize = 20;

fn hash(parts: &[&[u8]]) -> [u8; 20] {
    let mut h = Sha1::new();
    parts.iter().for_each(|p| h.update(p));
    h.finalize().into()
}

fn xor20(a: [u8; 20], b: [u8; 20]) -> [u8; 20] {
    std::array::from_fn(|i| a[i] ^ b[i])
}

/// One side's Diffie–Hellman key pair: `Y = 2^X mod P`, sent as 96 big-endian bytes.
struct KeyPair {
    modulus: Modulus,
    x: [u8; PRIVATE_KEY_BYTES],
    y: [u8; BYTES],
}

impl KeyPair {
    fn new(rng: &mut Rng) -> KeyPair {
        let modulus = Modulus::mse();
        let x: [u8; PRIVATE_KEY_BYTES] = rng.bytes(PRIVATE_KEY_BYTES).try_into().expect("20");
        let mut g = [0u32; bignum::LIMBS];
        g[0] = 2;
        let y = bignum::to_be_bytes(&modulus.pow(&g, &x));
        KeyPair { modulus, x, y }
    }

    /// `S = Y_peer^X mod P`, the secret both sides now share.
    fn secret(&self, peer_y: &[u8; BYTES]) -> [u8; BYTES] {
        let y = bignum::from_be_bytes(peer_y);
        bignum::to_be_bytes(&self.modulus.pow(&y, &self.x))
    }

    /// Our Y followed by 0..=512 random bytes (PadA or PadB).
    fn hello(&self, rng: &mut Rng) -> Vec<u8> {
        let mut out = self.y.to_vec();
        let pad = rng.below(MAX_PAD + 1);
        out.extend(rng.bytes(pad));
        out
    }
}

/// The two RC4 keys: `keyA` for A's bytes, `keyB` for B's.
fn ciphers(s: &[u8], skey: &InfoHash) -> (Rc4, Rc4) {
    (
        Rc4::mse(&hash(&[b"keyA", s, skey])),
        Rc4::mse(&hash(&[b"keyB", s, skey])),
    )
}

fn u16_at(b: &[u8]) -> usize {
    u16::from_be_bytes([b[0], b[1]]) as usize
}

fn checked_len(len: usize, max: usize, what: &'static str) -> Result<usize, MseError> {
    if len > max {
        return Err(MseError::TooLong { what, len, max });
    }
    Ok(len)
}

/// Opens a connection as A. `Policy::Off` sends nothing and returns a plaintext stream;
/// otherwise runs the handshake for torrent `info_hash`, sending `ia` (usually our
/// 68-byte BitTorrent handshake, to save a round trip; may be empty) as initial payload.
pub fn initiate<S: Read + Write>(
    mut stream: S,
    info_hash: &InfoHash,
    policy: Policy,
    ia: &[u8],
    rng: &mut Rng,
) -> Result<MseStream<S>, MseError> {
    let provide = match policy {
        Policy::Off => return Ok(MseStream::plaintext(stream, Vec::new())),
        Policy::Prefer => CRYPTO_PLAINTEXT | CRYPTO_RC4,
        Policy::Require => CRYPTO_RC4,
    };
    checked_len(ia.len(), MAX_IA, "initial payload")?;
    let keys = KeyPair::new(rng);
    stream.write_all(&keys.hello(rng))?; // step 1
    let mut inc = Incoming::new(&mut stream, Vec::new());
    let yb: [u8; BYTES] = inc.take(BYTES, "Yb")?.try_into().expect("96");
    let s = keys.secret(&yb);
    let (mut to_b, mut from_b) = ciphers(&s, info_hash);

    // Step 3: the two hashes in clear, the rest under keyA. PadC stays empty.
    let mut step3 = hash(&[b"req1", &s]).to_vec();
    step3.extend(xor20(hash(&[b"req2", info_hash]), hash(&[b"req3", &s])));
    let start = step3.len();
    step3.extend(VC);
    step3.extend(provide.to_be_bytes());
    step3.extend(0u16.to_be_bytes()); // len(PadC)
    step3.extend((ia.len() as u16).to_be_bytes());
    step3.extend(ia);
    to_b.apply(&mut step3[start..]);
    inc.stream().write_all(&step3)?;

    // Step 4: find VC as B's keystream encrypts it, within PadB.
    let mut vc = VC;
    from_b.apply(&mut vc);
    if inc.sync(&vc, MAX_PAD)?.is_none() {
        return Err(MseError::NoVcSync {
            within: MAX_PAD + VC.len(),
        });
    }
    let mut head = inc.take(6, "crypto_select")?;
    from_b.apply(&mut head);
    let select = u32::from_be_bytes(head[..4].try_into().expect("4"));
    let pad_d = checked_len(u16_at(&head[4..]), MAX_PAD, "PadD")?;
    let mut pad = inc.take(pad_d, "PadD")?;
    from_b.apply(&mut pad);
    let method = match select {
        CRYPTO_RC4 if provide & CRYPTO_RC4 != 0 => Method::Rc4,
        CRYPTO_PLAINTEXT if provide & CRYPTO_PLAINTEXT != 0 => Method::Plaintext,
        other => return Err(MseError::BadSelect(other)),
    };
    let (send, mut recv) = match method {
        Method::Rc4 => (Some(to_b), Some(from_b)),
        Method::Plaintext => (None, None),
    };
    let pending = inc.leftover(&mut recv);
    Ok(MseStream::new(
        stream,
        Inbound::new(pending, recv),
        Outbound::new(send),
        method,
        Some(*info_hash),
    ))
}

/// True when `first` (at least 20 bytes) opens a plaintext BitTorrent handshake.
pub fn is_plaintext_handshake(first: &[u8]) -> bool {
    first.len() >= 20 && first[0] as usize == PROTOCOL.len() && &first[1..20] == PROTOCOL
}

/// Answers a connection as B. `first` holds bytes the caller already read from it (may
/// be empty). A plaintext BitTorrent handshake is told from an MSE one by its first 20
/// bytes (19, "BitTorrent protocol"; a random Ya starts that way with odds 2^-160). The
/// torrent is found by trying each of `known` against `HASH('req2', SKEY) xor
/// HASH('req3', S)`. The returned stream yields the BitTorrent handshake first, whether
/// it came in clear, as initial payload or after the MSE handshake.
pub fn accept<S: Read + Write>(
    mut stream: S,
    first: &[u8],
    known: &[InfoHash],
    policy: Policy,
    rng: &mut Rng,
) -> Result<MseStream<S>, MseError> {
    let mut inc = Incoming::new(&mut stream, first.to_vec());
    inc.fill(PROTOCOL.len() + 1, "the first 20 bytes")?;
    if is_plaintext_handshake(inc.unread()) {
        if policy == Policy::Require {
            return Err(MseError::PlaintextRefused);
        }
        let pending = inc.leftover(&mut None);
        return Ok(MseStream::plaintext(stream, pending));
    }
    if policy == Policy::Off {
        return Err(MseError::EncryptionOff);
    }
    let ya: [u8; BYTES] = inc.take(BYTES, "Ya")?.try_into().expect("96");
    let keys = KeyPair::new(rng);
    inc.stream().write_all(&keys.hello(rng))?; // step 2
    let s = keys.secret(&ya);

    // Step 3: HASH('req1', S) within PadA, then which torrent.
    if inc.sync(&hash(&[b"req1", &s]), MAX_PAD)?.is_none() {
        return Err(MseError::NoReq1Sync {
            within: MAX_PAD + 20,
        });
    }
    let req3 = hash(&[b"req3", &s]);
    let obfuscated: [u8; 20] = inc.take(20, "the SKEY hash")?.try_into().expect("20");
    let skey = *known
        .iter()
        .find(|h| xor20(hash(&[b"req2", h.as_slice()]), req3) == obfuscated)
        .ok_or(MseError::UnknownInfoHash)?;
    let (mut from_a, mut to_a) = ciphers(&s, &skey);
    let mut head = inc.take(14, "VC and crypto_provide")?;
    from_a.apply(&mut head);
    if head[..8] != VC {
        return Err(MseError::VcMismatch);
    }
    let provide = u32::from_be_bytes(head[8..12].try_into().expect("4"));
    let pad_c = checked_len(u16_at(&head[12..]), MAX_PAD, "PadC")?;
    let mut pad_and_len = inc.take(pad_c + 2, "PadC and len(IA)")?;
    from_a.apply(&mut pad_and_len);
    let ia_len = checked_len(u16_at(&pad_and_len[pad_c..]), MAX_IA, "initial payload")?;
    let mut ia = inc.take(ia_len, "the initial payload")?;
    from_a.apply(&mut ia);

    let method = if provide & CRYPTO_RC4 != 0 {
        Method::Rc4
    } else if provide & CRYPTO_PLAINTEXT != 0 && policy == Policy::Prefer {
        Method::Plaintext
    } else {
        return Err(MseError::NoCommonMethod { provide });
    };
    let select = match method {
        Method::Rc4 => CRYPTO_RC4,
        Method::Plaintext => CRYPTO_PLAINTEXT,
    };
    // Step 4, with an empty PadD.
    let mut step4 = VC.to_vec();
    step4.extend(select.to_be_bytes());
    step4.extend(0u16.to_be_bytes());
    to_a.apply(&mut step4);
    inc.stream().write_all(&step4)?;

    let (send, mut recv) = match method {
        Method::Rc4 => (Some(to_a), Some(from_a)),
        Method::Plaintext => (None, None),
    };
    ia.extend(inc.leftover(&mut recv));
    Ok(MseStream::new(
        stream,
        Inbound::new(ia, recv),
        Outbound::new(send),
        method,
        Some(skey),
    ))
}
