//! Percent-encoding (RFC 3986) for request targets and query strings.

/// Bytes that stay as they are: RFC 3986's unreserved set.
fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Encodes every byte outside the unreserved set as `%XX` (upper-case hex).
pub fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if unreserved(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`). `None` on a
/// broken escape. The result is raw bytes: a BitTorrent info_hash is not text.
pub fn percent_decode(text: &str, plus_is_space: bool) -> Option<Vec<u8>> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = b.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_raw_bytes() {
        let raw = [0x12u8, 0x34, b'a', b' ', 0xff, b'/'];
        let enc = percent_encode(&raw);
        assert_eq!(enc, "%124a%20%FF%2F");
        assert_eq!(percent_decode(&enc, false).unwrap(), raw);
    }

    #[test]
    fn broken_escapes() {
        assert_eq!(percent_decode("%4", false), None);
        assert_eq!(percent_decode("%zz", false), None);
        assert_eq!(percent_decode("a+b", true).unwrap(), b"a b");
    }
}
