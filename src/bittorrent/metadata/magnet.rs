//! Magnet links (磁力链接, BEP 9): `magnet:?xt=urn:btih:<info-hash>&dn=<name>&tr=<tracker>`.

use super::MetadataError;
use crate::bittorrent::metainfo::InfoHash;

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
}
