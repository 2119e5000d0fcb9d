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
//! - [`fetch::fetch`]: the newcomer's side, asking peers until one gives the dict.
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | [`Assembler`], [`block`], the errors |
//! | `magnet.rs` | [`Magnet`]: parse and print a link |
//! | `fetch.rs` | [`fetch::fetch`]: connect, handshakes, ut_metadata requests |

pub mod fetch;
mod magnet;

pub use magnet::{Magnet, MAX_MAGNET_LEN};

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

#[cfg(test)]
mod tests {
    use super::*;

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
