//! The 68-byte handshake that opens every peer connection.
//!
//! ```text
//!   13 | "BitTorrent protocol" (19) | reserved (8) | info_hash (20) | peer_id (20)
//! ```
//! The info-hash says which torrent the connection is about; a node refuses a
//! handshake for a torrent it does not serve and closes without answering.

use crate::bittorrent::metainfo::InfoHash;
use crate::wire::{read_exact_or_eof, WireError};
use std::io::{Read, Write};

pub const PROTOCOL: &[u8; 19] = b"BitTorrent protocol";
pub const HANDSHAKE_LEN: usize = 68;

pub type PeerId = [u8; 20];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// Extension bits (BEP 6, BEP 10, ...). A node sets only BEP 10's (`conn/open.rs`);
    /// [`Handshake::new`] sets none.
    pub reserved: [u8; 8],
    pub info_hash: InfoHash,
    pub peer_id: PeerId,
}

impl Handshake {
    pub fn new(info_hash: InfoHash, peer_id: PeerId) -> Handshake {
        Handshake {
            reserved: [0; 8],
            info_hash,
            peer_id,
        }
    }

    pub fn encode(&self) -> [u8; HANDSHAKE_LEN] {
        let mut b = [0u8; HANDSHAKE_LEN];
        b[0] = PROTOCOL.len() as u8;
        b[1..20].copy_from_slice(PROTOCOL);
        b[20..28].copy_from_slice(&self.reserved);
        b[28..48].copy_from_slice(&self.info_hash);
        b[48..68].copy_from_slice(&self.peer_id);
        b
    }

    pub fn decode(b: &[u8; HANDSHAKE_LEN]) -> Result<Handshake, WireError> {
        // An encrypted (MSE) handshake, as aria2c tries first, fails here: random bytes.
        if b[0] as usize != PROTOCOL.len() || &b[1..20] != PROTOCOL {
            return Err(WireError::Malformed("not a BitTorrent handshake"));
        }
        Ok(Handshake {
            reserved: b[20..28].try_into().expect("8 bytes"),
            info_hash: b[28..48].try_into().expect("20 bytes"),
            peer_id: b[48..68].try_into().expect("20 bytes"),
        })
    }

    pub fn write_to<W: Write>(&self, w: &mut W) -> Result<(), WireError> {
        w.write_all(&self.encode())?;
        w.flush()?;
        Ok(())
    }

    pub fn read_from<R: Read>(r: &mut R) -> Result<Handshake, WireError> {
        let mut b = [0u8; HANDSHAKE_LEN];
        if !read_exact_or_eof(r, &mut b)? {
            return Err(WireError::Truncated {
                expected: HANDSHAKE_LEN,
                got: 0,
            });
        }
        Handshake::decode(&b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_layout() {
        let h = Handshake::new([0xaa; 20], *b"-PL0001-abcdefghijkl");
        let b = h.encode();
        assert_eq!(b[0], 19); // pstrlen
        assert_eq!(&b[1..20], b"BitTorrent protocol");
        assert_eq!(&b[20..28], &[0; 8]); // reserved: no extensions
        assert_eq!(&b[28..48], &[0xaa; 20]); // info_hash
        assert_eq!(&b[48..56], b"-PL0001-"); // peer_id, BEP 20 style
        assert_eq!(Handshake::decode(&b).unwrap(), h);
    }

    #[test]
    fn refuses_other_protocols() {
        let mut b = Handshake::new([0; 20], [0; 20]).encode();
        b[5] = b'X';
        assert!(Handshake::decode(&b).is_err());
        let mut r: &[u8] = &b[..30];
        assert!(matches!(
            Handshake::read_from(&mut r),
            Err(WireError::Truncated { .. })
        ));
    }
}
