//! Joining a torrent from a magnet link (磁力链接): the info dict fetched from peers
//! (BEP 9), checked against the info-hash before anything trusts it (notes 6.5).
//!
//! The notes' newcomer takes a `.torrent` file from a website (BT网站). A magnet link
//! replaces the file by its fingerprint: `magnet:?xt=urn:btih:<info-hash>&dn=<name>&tr=<tracker>`.
//! The peer announces with the hash, connects to peers, and asks them for the info dict
//! in 16 KiB blocks ([`crate::bittorrent::msg::extended`]). The hash makes this safe:
//! whatever a peer sends, only bytes whose SHA-1 is the info-hash are accepted, so the
//! metadata is exactly what the publisher made.
//!
//! - [`Magnet::parse`]: the link, with clear errors for a bad hash.
//! - [`Assembler`]: blocks in, the verified info dict out; its size capped before the
//!   buffer is made.
//! - [`block`]: the seeder's side, a block of its info dict's bytes.

use crate::bittorrent::metainfo::InfoHash;
use crate::bittorrent::msg::extended::{
    metadata_block_len, metadata_pieces, MAX_METADATA_SIZE, METADATA_BLOCK,
};
use sha1::{Digest, Sha1};
use std::fmt;

/// Why metadata or a magnet link was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataError {
    /// The announced size is 0 or above [`MAX_METADATA_SIZE`].
    BadSize(usize),
    /// A block for a piece that does not exist, or of the wrong length.
    BadBlock { piece: u32, len: usize },
    /// The assembled bytes do not hash to the info-hash; everything was discarded.
    HashMismatch,
    /// A magnet link we cannot use; the text says why.
    BadMagnet(String),
}

impl fmt::Display for MetadataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetadataError::BadSize(n) => {
                write!(f, "metadata size {n} not in 1..={MAX_METADATA_SIZE}")
            }
            MetadataError::BadBlock { piece, len } => {
                write!(f, "metadata block {piece} of {len} bytes does not fit")
            }
            MetadataError::HashMismatch => {
                write!(f, "metadata does not hash to the info-hash; discarded")
            }
            MetadataError::BadMagnet(why) => write!(f, "bad magnet link: {why}"),
        }
    }
}

impl std::error::Error for MetadataError {}

/// Block `piece` of an info dict's bytes, for a ut_metadata data message; `None` past
/// the end (answer with a reject).
pub fn block(info: &[u8], piece: u32) -> Option<&[u8]> {
    let len = metadata_block_len(info.len(), piece)?;
    let start = piece as usize * METADATA_BLOCK;
    Some(&info[start..start + len])
}

/// Collects the blocks of one info dict. Any peer's blocks may be mixed in; the hash
/// check at the end decides.
pub struct Assembler {
    info_hash: InfoHash,
    buf: Vec<u8>,
    have: Vec<bool>,
}

impl Assembler {
    /// For `size` bytes, as a peer's extended handshake announced (checked first).
    pub fn new(info_hash: InfoHash, size: usize) -> Result<Assembler, MetadataError> {
        if size == 0 || size > MAX_METADATA_SIZE {
            return Err(MetadataError::BadSize(size));
        }
        Ok(Assembler {
            info_hash,
            buf: vec![0; size],
            have: vec![false; metadata_pieces(size)],
        })
    }

    pub fn size(&self) -> usize {
        self.buf.len()
    }

    pub fn num_pieces(&self) -> usize {
        self.have.len()
    }

    /// The first block not yet received, to request next.
    pub fn next_missing(&self) -> Option<u32> {
        self.have.iter().position(|h| !h).map(|i| i as u32)
    }

    /// Stores a block. When it was the last one, hashes the whole and returns the info
    /// dict's bytes, or `HashMismatch` after forgetting every block (start over, maybe
    /// from another peer).
    pub fn add(&mut self, piece: u32, data: &[u8]) -> Result<Option<Vec<u8>>, MetadataError> {
        if metadata_block_len(self.buf.len(), piece) != Some(data.len()) {
            return Err(MetadataError::BadBlock {
                piece,
                len: data.len(),
            });
        }
        let start = piece as usize * METADATA_BLOCK;
        self.buf[start..start + data.len()].copy_from_slice(data);
        self.have[piece as usize] = true;
        if self.next_missing().is_some() {
            return Ok(None);
        }
        if <[u8; 20]>::from(Sha1::digest(&self.buf)) != self.info_hash {
            self.have.iter_mut().for_each(|h| *h = false);
            return Err(MetadataError::HashMismatch);
        }
        Ok(Some(std::mem::take(&mut self.buf)))
    }
}

/// What a magnet link tells: the torrent, maybe its name, maybe trackers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Magnet {
    pub info_hash: InfoHash,
    /// `dn`: a display name until the metadata arrives.
    pub name: Option<String>,
    /// `tr`, in the link's order.
    pub trackers: Vec<String>,
}

/// Longest magnet link parsed: a link is typed or pasted, not a file.
pub const MAX_MAGNET_LEN: usize = 8 * 1024;

fn bad(why: impl Into<String>) -> MetadataError {
    MetadataError::BadMagnet(why.into())
}

impl Magnet {
    /// Parses `magnet:?xt=urn:btih:<40 hex or 32 base32>&dn=..&tr=..` (BEP 9). Other
    /// parameters are ignored; exactly one `btih` is required.
    pub fn parse(link: &str) -> Result<Magnet, MetadataError> {
        if link.len() > MAX_MAGNET_LEN {
            return Err(bad(format!("longer than {MAX_MAGNET_LEN} bytes")));
        }
        let query = link
            .strip_prefix("magnet:?")
            .ok_or_else(|| bad("does not start with magnet:?"))?;
        let (mut hash, mut name, mut trackers) = (None, None, Vec::new());
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(value)?;
            match key {
                "xt" => {
                    let Some(h) = value.strip_prefix("urn:btih:") else {
                        continue; // another kind of hash (btmh, sha1...): not ours
                    };
                    if hash.replace(parse_hash(h)?).is_some() {
                        return Err(bad("more than one urn:btih"));
                    }
                }
                "dn" => name = Some(value),
                "tr" => trackers.push(value),
                _ => {}
            }
        }
        let info_hash = hash.ok_or_else(|| bad("no xt=urn:btih:<info-hash>"))?;
        Ok(Magnet {
            info_hash,
            name,
            trackers,
        })
    }

    /// The link for a torrent, as a website would print it.
    pub fn to_link(&self) -> String {
        let hex: String = self.info_hash.iter().map(|b| format!("{b:02x}")).collect();
        let mut s = format!("magnet:?xt=urn:btih:{hex}");
        if let Some(n) = &self.name {
            s += &format!("&dn={}", percent_encode(n));
        }
        for t in &self.trackers {
            s += &format!("&tr={}", percent_encode(t));
        }
        s
    }
}

/// 40 hex digits, or 32 base32 letters (RFC 4648, as older links wrote it).
fn parse_hash(h: &str) -> Result<InfoHash, MetadataError> {
    let mut out = [0u8; 20];
    match h.len() {
        40 => {
            for (i, o) in out.iter_mut().enumerate() {
                *o = hex_byte(h.get(2 * i..2 * i + 2))
                    .ok_or_else(|| bad(format!("info-hash {h:?} is not 40 hex digits")))?;
            }
        }
        32 => {
            let (mut acc, mut bits, mut n) = (0u64, 0, 0);
            for c in h.bytes() {
                let v = match c.to_ascii_uppercase() {
                    c @ b'A'..=b'Z' => c - b'A',
                    c @ b'2'..=b'7' => c - b'2' + 26,
                    _ => return Err(bad(format!("info-hash {h:?} is not base32"))),
                };
                acc = (acc << 5) | v as u64;
                bits += 5;
                if bits >= 8 {
                    bits -= 8;
                    out[n] = (acc >> bits) as u8;
                    n += 1;
                }
            }
        }
        n => {
            return Err(bad(format!(
                "info-hash of {n} characters (expected 40 hex or 32 base32)"
            )))
        }
    }
    Ok(out)
}

/// Two hex digits (and nothing else: `from_str_radix` alone would take "+f").
fn hex_byte(two: Option<&str>) -> Option<u8> {
    let two = two.filter(|t| t.bytes().all(|c| c.is_ascii_hexdigit()))?;
    u8::from_str_radix(two, 16).ok()
}

fn percent_decode(s: &str) -> Result<String, MetadataError> {
    let (b, mut out, mut i) = (s.as_bytes(), Vec::with_capacity(s.len()), 0);
    while i < b.len() {
        match b[i] {
            b'%' => {
                let v = hex_byte(s.get(i + 1..i + 3))
                    .ok_or_else(|| bad(format!("bad percent escape at byte {i}")))?;
                out.push(v);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| bad("a parameter is not UTF-8"))
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|c| match c {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (c as char).to_string()
            }
            _ => format!("%{c:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";

    #[test]
    fn magnet_hex_and_base32() {
        let m = Magnet::parse(&format!(
            "magnet:?xt=urn:btih:{HEX}&dn=my+file%20.iso&tr=http%3A%2F%2F127.0.0.1%3A6969%2Fannounce&x.pe=1"
        ))
        .unwrap();
        assert_eq!(m.info_hash[..3], [0xc1, 0x2f, 0xe1]);
        assert_eq!(m.name.as_deref(), Some("my file .iso"));
        assert_eq!(m.trackers, ["http://127.0.0.1:6969/announce"]);
        // The same hash in base32 (RFC 4648), upper or lower case.
        let b32 = "YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK";
        for h in [b32.to_string(), b32.to_lowercase()] {
            let m2 = Magnet::parse(&format!("magnet:?xt=urn:btih:{h}")).unwrap();
            assert_eq!(m2.info_hash, m.info_hash);
        }
        assert_eq!(Magnet::parse(&m.to_link()).unwrap(), m);
    }

    #[test]
    fn magnet_errors_say_why() {
        let err = |l: &str| Magnet::parse(l).unwrap_err().to_string();
        assert!(err("http://x").contains("magnet:?"));
        assert!(err("magnet:?dn=x").contains("no xt=urn:btih"));
        assert!(err("magnet:?xt=urn:btih:abc").contains("3 characters"));
        let not_hex = format!("magnet:?xt=urn:btih:{}", "+f".repeat(20));
        assert!(err(&not_hex).contains("not 40 hex digits"));
        assert!(err(&format!("magnet:?xt=urn:btih:{}", "1".repeat(32))).contains("not base32"));
        let twice = format!("magnet:?xt=urn:btih:{HEX}&xt=urn:btih:{HEX}");
        assert!(err(&twice).contains("more than one"));
        assert!(err(&format!("magnet:?xt=urn:btih:{HEX}&dn=%4")).contains("percent"));
        // Multi-byte characters where hex digits belong: an error, not a panic.
        assert!(Magnet::parse(&format!("magnet:?xt=urn:btih:{}", "\u{e9}".repeat(20))).is_err());
    }

    #[test]
    fn assemble_checks_the_hash() {
        let info: Vec<u8> = (0..40_000u32).map(|i| (i * 7) as u8).collect();
        let hash: InfoHash = Sha1::digest(&info).into();
        let mut a = Assembler::new(hash, info.len()).unwrap();
        assert_eq!(a.num_pieces(), 3);
        // Out of order, and a wrong-length block refused without harm.
        assert!(a.add(2, block(&info, 1).unwrap()).is_err());
        assert_eq!(a.add(2, block(&info, 2).unwrap()), Ok(None));
        assert_eq!(a.add(0, block(&info, 0).unwrap()), Ok(None));
        assert_eq!(a.next_missing(), Some(1));
        assert_eq!(a.add(1, block(&info, 1).unwrap()), Ok(Some(info.clone())));
        assert_eq!(block(&info, 3), None);

        // A lying peer: every block is refused at the end, and asked again.
        let mut a = Assembler::new(hash, info.len()).unwrap();
        let mut forged = info.clone();
        forged[5] ^= 1;
        for p in 0..3 {
            let r = a.add(p, block(&forged, p).unwrap());
            assert_eq!(r.is_err(), p == 2);
        }
        assert_eq!(a.next_missing(), Some(0));
        assert_eq!(
            Assembler::new(hash, 0).err(),
            Some(MetadataError::BadSize(0))
        );
        assert!(Assembler::new(hash, MAX_METADATA_SIZE + 1).is_err());
    }
}
