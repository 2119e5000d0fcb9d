//! Content ids: SHA-1 of a file's bytes, written as hex or as Base32 (`urn:sha1:`).

use sha1::{Digest, Sha1};
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// A 20-byte SHA-1 digest.
pub type Sha1Id = [u8; 20];

/// SHA-1 of a whole file, read in 256 KiB pieces so memory stays flat.
pub fn sha1_file(path: &Path) -> io::Result<Sha1Id> {
    let mut f = File::open(path)?;
    let mut h = Sha1::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().into())
}

/// SHA-1 of bytes in memory.
pub fn sha1_bytes(data: &[u8]) -> Sha1Id {
    Sha1::digest(data).into()
}

/// Lower-case hex, 40 characters.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses hex of exactly 40 characters.
pub fn sha1_from_hex(text: &str) -> Option<Sha1Id> {
    if text.len() != 40 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 20];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 Base32 without padding: 20 bytes become the 32 characters of `urn:sha1:`.
pub fn to_base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut acc, mut bits) = (0u32, 0);
    for &b in bytes {
        acc = (acc << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(B32[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(B32[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Parses the 32 Base32 characters of a SHA-1 (either case).
pub fn sha1_from_base32(text: &str) -> Option<Sha1Id> {
    if text.len() != 32 {
        return None;
    }
    let mut out = Vec::with_capacity(20);
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes() {
        let v = B32.iter().position(|&x| x == c.to_ascii_uppercase())? as u32;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_of_abc() {
        // FIPS 180-1 test vector.
        assert_eq!(
            to_hex(&sha1_bytes(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }

    #[test]
    fn base32_of_sha1_of_empty_is_the_well_known_urn() {
        // urn:sha1 of an empty file, as Gnutella servents print it.
        let id = sha1_bytes(b"");
        assert_eq!(to_base32(&id), "3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
        assert_eq!(
            sha1_from_base32("3i42h3s6nnfq2msvx7xzkyayscx5qbyj"),
            Some(id)
        );
    }

    #[test]
    fn hex_round_trip_and_rejects() {
        let id = sha1_bytes(b"p2plab");
        assert_eq!(sha1_from_hex(&to_hex(&id)), Some(id));
        assert_eq!(sha1_from_hex("zz"), None);
        assert_eq!(sha1_from_base32("0000"), None);
    }
}
