//! The extension protocol (BEP 10) and metadata exchange over it (BEP 9, `ut_metadata`).
//!
//! A magnet link names a torrent by its info-hash only; the info dict (file names,
//! piece hashes) must come from the peers themselves (从对等方获取元数据). BEP 10 gives
//! peers a way to add messages: a peer sets bit 0x10 of reserved byte 5 in its
//! handshake, then sends message id 20 whose first payload byte is an *extended id*.
//! Extended id 0 is the extended handshake, a bencoded dict whose `m` maps extension
//! names to the ids the sender wants to *receive* them under:
//!
//! ```text
//!   00 00 00 2e | 14 | 00 | d1:md11:ut_metadatai3ee13:metadata_sizei31235ee
//!   length 46     20   ext handshake: "send me ut_metadata as id 3; my info dict is 31235 bytes"
//! ```
//! `ut_metadata` messages carry a small dict (`msg_type` 0 request, 1 data, 2 reject,
//! `piece`, and `total_size` in data), and in a data message the 16 KiB block follows
//! the dict's closing `e`.
//!
//! After the frame's length check ([`super::split_frame`]), nothing here panics and no
//! peer-given size is allocated: `metadata_size` meets [`MAX_METADATA_SIZE`], a block
//! must have exactly the length its piece index and `total_size` imply.

use crate::bittorrent::bencode::{self, Value};
use crate::wire::WireError;
use std::collections::BTreeMap;

/// BEP 10's message id.
pub const EXTENDED: u8 = 20;
/// Extended id of the extended handshake.
pub const HANDSHAKE: u8 = 0;
/// Reserved byte and bit that announce BEP 10 in the 68-byte handshake.
pub const RESERVED_BYTE: usize = 5;
pub const RESERVED_BIT: u8 = 0x10;
/// The extension name of BEP 9.
pub const UT_METADATA: &str = "ut_metadata";
/// The id we ask peers to use for `ut_metadata` sent to us.
pub const OUR_UT_METADATA: u8 = 1;
/// Metadata travels in blocks of 16 KiB, the last one shorter.
pub const METADATA_BLOCK: usize = 16 * 1024;
/// Largest info dict we accept: 8 MiB is over 400 000 piece hashes (libtorrent: 4 MiB
/// by default for the same reason, a peer must not make us allocate at will).
pub const MAX_METADATA_SIZE: usize = 8 * 1024 * 1024;
/// Longest bencoded dict in front of a metadata block (real ones are ~50 bytes).
const MAX_METADATA_DICT: usize = 256;

pub fn supports_extended(reserved: &[u8; 8]) -> bool {
    reserved[RESERVED_BYTE] & RESERVED_BIT != 0
}

pub fn set_extended(reserved: &mut [u8; 8]) {
    reserved[RESERVED_BYTE] |= RESERVED_BIT;
}

/// Number of 16 KiB blocks of metadata `size` bytes long.
pub fn metadata_pieces(size: usize) -> usize {
    size.div_ceil(METADATA_BLOCK)
}

/// Length of block `piece` of `size` bytes of metadata, `None` past the end.
pub fn metadata_block_len(size: usize, piece: u32) -> Option<usize> {
    let start = (piece as usize).checked_mul(METADATA_BLOCK)?;
    (start < size).then(|| (size - start).min(METADATA_BLOCK))
}

/// The dict of the extended handshake, the fields we use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExtHandshake {
    /// `m.ut_metadata`: the id the sender receives ut_metadata under; `None` or 0: not supported.
    pub ut_metadata: Option<u8>,
    /// `metadata_size`: the info dict's length in bytes, when the sender has it.
    pub metadata_size: Option<usize>,
    /// `v`: client name and version.
    pub client: Option<String>,
    /// `p`: the sender's listening port.
    pub port: Option<u16>,
}

/// An extended message: id 20's payload, split at its first byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extended<'a> {
    Handshake(ExtHandshake),
    /// Any other extended id: for the caller to match against the ids it announced.
    Message {
        id: u8,
        payload: &'a [u8],
    },
}

/// One ut_metadata message (BEP 9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Metadata<'a> {
    Request {
        piece: u32,
    },
    Data {
        piece: u32,
        total_size: usize,
        block: &'a [u8],
    },
    Reject {
        piece: u32,
    },
}

fn int_in(
    v: Option<&Value>,
    lo: i64,
    hi: i64,
    why: &'static str,
) -> Result<Option<i64>, WireError> {
    match v {
        None => Ok(None),
        Some(Value::Int(n)) if (lo..=hi).contains(n) => Ok(Some(*n)),
        Some(_) => Err(WireError::Malformed(why)),
    }
}

impl ExtHandshake {
    pub fn encode(&self) -> Vec<u8> {
        let mut m = BTreeMap::new();
        if let Some(id) = self.ut_metadata {
            m.insert(UT_METADATA.as_bytes().to_vec(), Value::Int(id as i64));
        }
        let mut d = BTreeMap::new();
        d.insert(b"m".to_vec(), Value::Dict(m));
        if let Some(size) = self.metadata_size {
            d.insert(b"metadata_size".to_vec(), Value::Int(size as i64));
        }
        if let Some(port) = self.port {
            d.insert(b"p".to_vec(), Value::Int(port as i64));
        }
        if let Some(v) = &self.client {
            d.insert(b"v".to_vec(), Value::str(v));
        }
        bencode::encode(&Value::Dict(d))
    }

    /// Strict where we depend on a field, lenient where BEP 10 says to be: unknown keys
    /// and unknown extension names are ignored.
    pub fn decode(payload: &[u8]) -> Result<ExtHandshake, WireError> {
        let v = bencode::decode(payload)
            .map_err(|_| WireError::Malformed("extended handshake is not bencoded"))?;
        if v.as_dict().is_none() {
            return Err(WireError::Malformed("extended handshake is not a dict"));
        }
        let m = match v.get("m") {
            None => None,
            Some(m) if m.as_dict().is_some() => Some(m),
            Some(_) => return Err(WireError::Malformed("extended handshake: m is not a dict")),
        };
        let ut = int_in(
            m.and_then(|m| m.get(UT_METADATA)),
            0,
            255,
            "m.ut_metadata not in 0..=255",
        )?;
        let size = match v.get("metadata_size") {
            Some(Value::Int(n)) if *n > MAX_METADATA_SIZE as i64 => {
                return Err(WireError::TooLong {
                    len: *n as u64,
                    max: MAX_METADATA_SIZE as u64,
                })
            }
            other => int_in(
                other,
                1,
                MAX_METADATA_SIZE as i64,
                "metadata_size not positive",
            )?,
        };
        let port = int_in(v.get("p"), 0, 65_535, "p is not a port")?;
        Ok(ExtHandshake {
            ut_metadata: ut.filter(|&id| id != 0).map(|id| id as u8),
            metadata_size: size.map(|n| n as usize),
            client: v
                .get("v")
                .and_then(|c| c.as_bytes())
                .map(|b| String::from_utf8_lossy(b).into_owned()),
            port: port.filter(|&p| p != 0).map(|p| p as u16),
        })
    }
}

/// Decodes the body of a message id 20 (the bytes after the id).
pub fn decode(body: &[u8]) -> Result<Extended<'_>, WireError> {
    match body.split_first() {
        None => Err(WireError::Malformed("extended message without extended id")),
        Some((&HANDSHAKE, rest)) => Ok(Extended::Handshake(ExtHandshake::decode(rest)?)),
        Some((&id, payload)) => Ok(Extended::Message { id, payload }),
    }
}

/// Appends a whole frame: length, 20, extended id, payload.
pub fn encode_into(ext_id: u8, payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(2 + payload.len() as u32).to_be_bytes());
    out.push(EXTENDED);
    out.push(ext_id);
    out.extend_from_slice(payload);
}

/// Where the bencoded value starting at `at` ends: a skip without building it, so that
/// the block after a data message's dict can be found. `None` if malformed.
fn value_end(b: &[u8], at: usize, depth: usize) -> Option<usize> {
    match *b.get(at)? {
        b'i' => Some(at + b[at..].iter().position(|&c| c == b'e')? + 1),
        b'0'..=b'9' => {
            let colon = at + b[at..].iter().position(|&c| c == b':')?;
            let len: usize = std::str::from_utf8(&b[at..colon]).ok()?.parse().ok()?;
            let end = colon.checked_add(1)?.checked_add(len)?;
            (end <= b.len()).then_some(end)
        }
        b'l' | b'd' if depth < 4 => {
            let mut p = at + 1;
            while *b.get(p)? != b'e' {
                p = value_end(b, p, depth + 1)?;
            }
            Some(p + 1)
        }
        _ => None,
    }
}

impl<'a> Metadata<'a> {
    /// Decodes a ut_metadata payload (after the extended id).
    pub fn decode(payload: &'a [u8]) -> Result<Metadata<'a>, WireError> {
        let head = &payload[..payload.len().min(MAX_METADATA_DICT)];
        let end =
            value_end(head, 0, 0).ok_or(WireError::Malformed("ut_metadata: no dict in front"))?;
        let v = bencode::decode(&payload[..end])
            .map_err(|_| WireError::Malformed("ut_metadata: dict is not strict bencode"))?;
        let field = |k, lo, hi, why| int_in(v.get(k), lo, hi, why);
        let kind = field("msg_type", 0, 2, "ut_metadata: msg_type not 0, 1 or 2")?
            .ok_or(WireError::Malformed("ut_metadata: no msg_type"))?;
        let piece = field("piece", 0, u32::MAX as i64, "ut_metadata: piece not a u32")?
            .ok_or(WireError::Malformed("ut_metadata: no piece"))? as u32;
        let rest = &payload[end..];
        if kind != 1 {
            if !rest.is_empty() {
                return Err(WireError::Malformed(
                    "ut_metadata: bytes after a request or reject",
                ));
            }
            return Ok(if kind == 0 {
                Metadata::Request { piece }
            } else {
                Metadata::Reject { piece }
            });
        }
        let total = match v.get("total_size") {
            Some(Value::Int(n)) if *n > MAX_METADATA_SIZE as i64 => {
                return Err(WireError::TooLong {
                    len: *n as u64,
                    max: MAX_METADATA_SIZE as u64,
                })
            }
            other => field_total(other)?,
        };
        if metadata_block_len(total, piece) != Some(rest.len()) {
            return Err(WireError::Malformed(
                "ut_metadata: block length does not fit piece and total_size",
            ));
        }
        Ok(Metadata::Data {
            piece,
            total_size: total,
            block: rest,
        })
    }

    /// Appends the whole frame, for a peer that receives ut_metadata under `ext_id`.
    pub fn encode_into(&self, ext_id: u8, out: &mut Vec<u8>) {
        let (kind, piece, block) = match self {
            Metadata::Request { piece } => (0, piece, None),
            Metadata::Data {
                piece,
                total_size,
                block,
            } => (1, piece, Some((*total_size, *block))),
            Metadata::Reject { piece } => (2, piece, None),
        };
        let mut d = BTreeMap::new();
        d.insert(b"msg_type".to_vec(), Value::Int(kind));
        d.insert(b"piece".to_vec(), Value::Int(*piece as i64));
        if let Some((total, _)) = block {
            d.insert(b"total_size".to_vec(), Value::Int(total as i64));
        }
        let mut payload = bencode::encode(&Value::Dict(d));
        if let Some((_, b)) = block {
            payload.extend_from_slice(b);
        }
        encode_into(ext_id, &payload, out);
    }
}

fn field_total(v: Option<&Value>) -> Result<usize, WireError> {
    int_in(
        v,
        1,
        MAX_METADATA_SIZE as i64,
        "ut_metadata: total_size not positive",
    )?
    .map(|n| n as usize)
    .ok_or(WireError::Malformed("ut_metadata: data without total_size"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(ext_id: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_into(ext_id, payload, &mut out);
        out
    }

    #[test]
    fn reserved_bit() {
        let mut r = [0u8; 8];
        assert!(!supports_extended(&r));
        set_extended(&mut r);
        assert_eq!(r, [0, 0, 0, 0, 0, 0x10, 0, 0]); // byte 5, bit 0x10
        assert!(supports_extended(&r));
    }

    #[test]
    fn handshake_layout() {
        let h = ExtHandshake {
            ut_metadata: Some(3),
            metadata_size: Some(31_235),
            ..Default::default()
        };
        let dict = b"d1:md11:ut_metadatai3ee13:metadata_sizei31235ee";
        assert_eq!(h.encode(), dict);
        let f = frame(HANDSHAKE, &h.encode());
        assert_eq!(&f[..6], [0, 0, 0, 2 + dict.len() as u8, 20, 0]); // length, id 20, ext id 0
        assert_eq!(decode(&f[5..]).unwrap(), Extended::Handshake(h));
    }

    #[test]
    fn handshake_leniency_and_limits() {
        // aria2-like: unknown names and keys ignored, v and p kept, ut_metadata 0 = disabled.
        let d = b"d1:md11:ut_metadatai0e6:ut_pexi8ee1:pi6881e4:reqqi250e1:v12:aria2/1.36.0e";
        let h = ExtHandshake::decode(d).unwrap();
        assert_eq!((h.ut_metadata, h.port), (None, Some(6881)));
        assert_eq!(h.client.as_deref(), Some("aria2/1.36.0"));
        // 16 MiB of metadata announced: refused before anything is allocated.
        assert!(matches!(
            ExtHandshake::decode(b"d1:mde13:metadata_sizei16777216ee"),
            Err(WireError::TooLong {
                len: 16_777_216,
                ..
            })
        ));
        assert!(ExtHandshake::decode(b"d1:md11:ut_metadatai300eee").is_err()); // id > 255
        assert!(ExtHandshake::decode(b"d1:mi1ee").is_err()); // m not a dict
        assert!(ExtHandshake::decode(b"l1:me").is_err()); // not a dict
        assert!(decode(&[]).is_err()); // no extended id
    }

    #[test]
    fn metadata_request_and_reject() {
        let mut out = Vec::new();
        Metadata::Request { piece: 2 }.encode_into(3, &mut out);
        // length 27 | 20 | ext id 3 | d 8:msg_type i0e 5:piece i2e e
        assert_eq!(&out[..6], [0, 0, 0, 27, 20, 3]);
        assert_eq!(&out[6..], b"d8:msg_typei0e5:piecei2ee");
        assert_eq!(
            Metadata::decode(&out[6..]).unwrap(),
            Metadata::Request { piece: 2 }
        );
        assert_eq!(
            Metadata::decode(b"d8:msg_typei2e5:piecei0ee").unwrap(),
            Metadata::Reject { piece: 0 }
        );
    }

    #[test]
    fn metadata_data_block_follows_the_dict() {
        // 20 000 bytes of metadata: piece 1 is the last 3616 bytes.
        let block = vec![0xab; 20_000 - METADATA_BLOCK];
        let m = Metadata::Data {
            piece: 1,
            total_size: 20_000,
            block: &block,
        };
        let mut out = Vec::new();
        m.encode_into(2, &mut out);
        let dict = b"d8:msg_typei1e5:piecei1e10:total_sizei20000ee";
        assert_eq!(&out[6..6 + dict.len()], dict);
        assert_eq!(&out[6 + dict.len()..], &block[..]);
        assert_eq!(Metadata::decode(&out[6..]).unwrap(), m);
    }

    #[test]
    fn metadata_refusals() {
        let bad: [&[u8]; 7] = [
            b"d8:msg_typei3e5:piecei0ee",                      // unknown msg_type
            b"d5:piecei0ee",                                   // no msg_type
            b"d8:msg_typei0e5:piecei-1ee",                     // negative piece
            b"d8:msg_typei0e5:piecei0eexyz",                   // bytes after a request
            b"d8:msg_typei1e5:piecei0e10:total_sizei5eeab",    // block shorter than total_size says
            b"d8:msg_typei1e5:piecei1e10:total_sizei5eeabcde", // piece past the end
            b"d8:msg_typei1e5:piecei0ee",                      // data without total_size
        ];
        for b in bad {
            assert!(
                Metadata::decode(b).is_err(),
                "{}",
                String::from_utf8_lossy(b)
            );
        }
        assert!(matches!(
            Metadata::decode(b"d8:msg_typei1e5:piecei0e10:total_sizei99999999ee"),
            Err(WireError::TooLong { .. })
        ));
        assert!(Metadata::decode(b"").is_err());
        assert!(Metadata::decode(b"d8:msg_type").is_err());
    }

    #[test]
    fn block_lengths() {
        assert_eq!(metadata_pieces(METADATA_BLOCK + 1), 2);
        assert_eq!(metadata_block_len(METADATA_BLOCK + 1, 1), Some(1));
        assert_eq!(metadata_block_len(METADATA_BLOCK, 1), None);
        assert_eq!(metadata_block_len(10, u32::MAX), None);
    }
}
