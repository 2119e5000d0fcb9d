//! The peer wire (BEP 3): the messages and their codec, never touching a socket.
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | [`Message`], [`decode`] / [`encode_into`], [`split_frame`] |
//! | `handshake.rs` | the 68-byte [`handshake::Handshake`] that opens a connection |
//! | `bitfield.rs` | the bitmap (位图) of pieces a peer has |
//! | `extended.rs` | BEP 10 extension messages (id 20) and BEP 9 `ut_metadata` |
//!
//! Messages: `length (u32 BE) | id (1) | payload`, length 0 = keep-alive.
//!
//! ```text
//!   00 00 00 0d | 06 | 00 00 00 07 | 00 04 00 00 | 00 00 40 00    request piece 7,
//!   length 13    id    index         begin 262144  length 16384    block at 256 KiB
//! ```
//! Decoding borrows from the receive buffer: a 16 KiB block is copied once, into its
//! piece, not into a message first. [`split_frame`] finds one frame in a buffer and
//! checks its length against [`max_message_len`] before waiting for the rest: no peer
//! can make us hold more than the largest legal message. After [`split_frame`] has
//! accepted a frame, [`decode`] never panics: every field is checked against the
//! frame's length first.

pub mod bitfield;
pub mod extended;
pub mod handshake;

use crate::wire::WireError;
use byteorder::{BigEndian, ByteOrder};

/// The block size every client uses; a request for more is refused (connection closed).
pub const MAX_BLOCK: u32 = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message<'a> {
    KeepAlive,
    Choke,
    Unchoke,
    Interested,
    NotInterested,
    Have(u32),
    Bitfield(&'a [u8]),
    Request {
        index: u32,
        begin: u32,
        length: u32,
    },
    Piece {
        index: u32,
        begin: u32,
        block: &'a [u8],
    },
    Cancel {
        index: u32,
        begin: u32,
        length: u32,
    },
    Port(u16),
    /// Id 20, the extension protocol (BEP 10): the extended id, then its payload
    /// (decoded by [`extended::decode`]).
    Extended {
        id: u8,
        payload: &'a [u8],
    },
    /// Any other id above 9 (an extension we did not announce): skipped, as mainline did.
    Unknown(u8),
}

/// The largest message legal for a torrent of `num_pieces` pieces: a piece carrying
/// one 16 KiB block, or the bitfield, whichever is longer.
pub fn max_message_len(num_pieces: usize) -> usize {
    (9 + MAX_BLOCK as usize).max(1 + num_pieces.div_ceil(8))
}

/// Finds the first frame in `buf`: `Ok(Some(total))` when all `total` bytes (prefix
/// included) are there, `Ok(None)` when more must be read, and `TooLong` as soon as
/// the length prefix is known to exceed `max`.
pub fn split_frame(buf: &[u8], max: usize) -> Result<Option<usize>, WireError> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let len = BigEndian::read_u32(buf) as usize;
    if len > max {
        return Err(WireError::TooLong {
            len: len as u64,
            max: max as u64,
        });
    }
    Ok((buf.len() >= 4 + len).then_some(4 + len))
}

fn fixed(body: &[u8], len: usize, why: &'static str) -> Result<(), WireError> {
    if body.len() != len {
        return Err(WireError::Malformed(why));
    }
    Ok(())
}

/// Decodes a frame's body (after the length prefix).
pub fn decode(body: &[u8]) -> Result<Message<'_>, WireError> {
    let Some((&id, p)) = body.split_first() else {
        return Ok(Message::KeepAlive);
    };
    let u32_at = |i: usize| BigEndian::read_u32(&p[i..i + 4]);
    Ok(match id {
        0..=3 => {
            fixed(
                p,
                0,
                "choke/unchoke/interested/not interested carry no payload",
            )?;
            [
                Message::Choke,
                Message::Unchoke,
                Message::Interested,
                Message::NotInterested,
            ][id as usize]
                .clone()
        }
        4 => {
            fixed(p, 4, "have is 4 bytes")?;
            Message::Have(u32_at(0))
        }
        5 => Message::Bitfield(p),
        6 | 8 => {
            fixed(p, 12, "request/cancel is 12 bytes")?;
            let (index, begin, length) = (u32_at(0), u32_at(4), u32_at(8));
            if length > MAX_BLOCK {
                return Err(WireError::TooLong {
                    len: length as u64,
                    max: MAX_BLOCK as u64,
                });
            }
            if length == 0 {
                return Err(WireError::Malformed("request of 0 bytes"));
            }
            if id == 6 {
                Message::Request {
                    index,
                    begin,
                    length,
                }
            } else {
                Message::Cancel {
                    index,
                    begin,
                    length,
                }
            }
        }
        7 => {
            if p.len() < 8 {
                return Err(WireError::Malformed("piece shorter than its header"));
            }
            Message::Piece {
                index: u32_at(0),
                begin: u32_at(4),
                block: &p[8..],
            }
        }
        9 => {
            fixed(p, 2, "port is 2 bytes")?;
            Message::Port(BigEndian::read_u16(p))
        }
        extended::EXTENDED => match p.split_first() {
            Some((&id, payload)) => Message::Extended { id, payload },
            None => return Err(WireError::Malformed("extended message without extended id")),
        },
        other => Message::Unknown(other),
    })
}

/// Appends the encoding of `m` to `out` (a send buffer reused for the whole connection).
pub fn encode_into(m: &Message<'_>, out: &mut Vec<u8>) {
    let mut head = |len: usize, id: u8| {
        out.extend_from_slice(&(len as u32).to_be_bytes());
        out.push(id);
    };
    match m {
        Message::KeepAlive => out.extend_from_slice(&[0; 4]),
        Message::Choke => head(1, 0),
        Message::Unchoke => head(1, 1),
        Message::Interested => head(1, 2),
        Message::NotInterested => head(1, 3),
        Message::Have(i) => {
            head(5, 4);
            out.extend_from_slice(&i.to_be_bytes());
        }
        Message::Bitfield(b) => {
            head(1 + b.len(), 5);
            out.extend_from_slice(b);
        }
        Message::Request {
            index,
            begin,
            length,
        }
        | Message::Cancel {
            index,
            begin,
            length,
        } => {
            head(
                13,
                if matches!(m, Message::Request { .. }) {
                    6
                } else {
                    8
                },
            );
            for v in [index, begin, length] {
                out.extend_from_slice(&v.to_be_bytes());
            }
        }
        Message::Piece {
            index,
            begin,
            block,
        } => {
            piece_header(*index, *begin, block.len(), out);
            out.extend_from_slice(block);
        }
        Message::Port(p) => {
            head(3, 9);
            out.extend_from_slice(&p.to_be_bytes());
        }
        Message::Extended { id, payload } => extended::encode_into(*id, payload, out),
        Message::Unknown(id) => head(1, *id),
    }
}

/// The 13 bytes before a block: the seeder writes them, then the block straight from
/// the file, without building a message.
pub fn piece_header(index: u32, begin: u32, block_len: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(&(9 + block_len as u32).to_be_bytes());
    out.push(7);
    out.extend_from_slice(&index.to_be_bytes());
    out.extend_from_slice(&begin.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(m: &Message<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        encode_into(m, &mut out);
        out
    }

    #[test]
    fn request_layout() {
        let m = Message::Request {
            index: 7,
            begin: 262_144,
            length: 16_384,
        };
        let b = bytes(&m);
        assert_eq!(
            b,
            [
                0, 0, 0, 13, // length
                6,  // id: request
                0, 0, 0, 7, // index
                0, 4, 0, 0, // begin = 262144
                0, 0, 0x40, 0, // length = 16384
            ]
        );
        assert_eq!(split_frame(&b, 100).unwrap(), Some(17));
        assert_eq!(decode(&b[4..]).unwrap(), m);
    }

    #[test]
    fn every_message_round_trips() {
        let block = [9u8; 5];
        let bits = [0x54u8, 0x80];
        for m in [
            Message::KeepAlive,
            Message::Choke,
            Message::Unchoke,
            Message::Interested,
            Message::NotInterested,
            Message::Have(3),
            Message::Bitfield(&bits),
            Message::Piece {
                index: 1,
                begin: 16384,
                block: &block,
            },
            Message::Cancel {
                index: 1,
                begin: 0,
                length: 10,
            },
            Message::Port(6881),
        ] {
            let b = bytes(&m);
            let total = split_frame(&b, 1000).unwrap().unwrap();
            assert_eq!(total, b.len());
            assert_eq!(decode(&b[4..total]).unwrap(), m);
        }
    }

    #[test]
    fn lengths_are_capped() {
        // 2^32-1 announced: refused from the 4 prefix bytes alone.
        let err = split_frame(&[0xff, 0xff, 0xff, 0xff, 7], max_message_len(100)).unwrap_err();
        assert!(matches!(
            err,
            WireError::TooLong {
                len: 4_294_967_295,
                max: 16_393
            }
        ));
        // A request for 32 KiB is refused: blocks are 16 KiB.
        let m = Message::Request {
            index: 0,
            begin: 0,
            length: 32_768,
        };
        assert!(matches!(
            decode(&bytes(&m)[4..]),
            Err(WireError::TooLong { .. })
        ));
        // The bitfield of a huge torrent may be the longest message.
        assert_eq!(max_message_len(1_000_000), 125_001);
    }

    #[test]
    fn wrong_fixed_lengths() {
        assert!(decode(&[4, 0, 0, 1]).is_err()); // have with 3 bytes
        assert!(decode(&[1, 0]).is_err()); // unchoke with a payload
        assert!(decode(&[7, 0, 0]).is_err()); // piece without its header
        let ext = Message::Extended {
            id: 0,
            payload: &[1],
        };
        assert_eq!(decode(&[20, 0, 1]).unwrap(), ext);
        assert!(decode(&[20]).is_err());
        assert_eq!(decode(&[21, 0, 1]).unwrap(), Message::Unknown(21));
    }
}
