//! The bitmap of the notes (位图 bitmap): which pieces a peer has, one bit each.
//!
//! ```text
//!   pieces  0 1 2 3 4 5 6 7 | 8 9 .
//!   bits    0 1 0 1 0 1 0 0 | 1 0 0 0 0 0 0 0     byte 0 = 0x54, byte 1 = 0x80
//!                                 └ spare bits: must be 0
//! ```
//! Piece 0 is the most significant bit of byte 0. A peer that sets a spare bit claims
//! a piece that does not exist: we refuse its bitfield and drop it.

use crate::wire::WireError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitfield {
    bytes: Vec<u8>,
    len: usize,
}

impl Bitfield {
    /// `len` pieces, none present.
    pub fn new(len: usize) -> Bitfield {
        Bitfield {
            bytes: vec![0; len.div_ceil(8)],
            len,
        }
    }

    /// `len` pieces, all present (a seed's bitfield).
    pub fn full(len: usize) -> Bitfield {
        let mut b = Bitfield::new(len);
        (0..len).for_each(|i| b.set(i));
        b
    }

    /// Checks a received bitfield: exactly ⌈len/8⌉ bytes and spare bits clear.
    pub fn from_bytes(bytes: &[u8], len: usize) -> Result<Bitfield, WireError> {
        if bytes.len() != len.div_ceil(8) {
            return Err(WireError::Malformed(
                "bitfield length does not match the number of pieces",
            ));
        }
        let spare = bytes.len() * 8 - len;
        if spare > 0 && bytes[bytes.len() - 1] & ((1u8 << spare) - 1) != 0 {
            return Err(WireError::Malformed("bitfield has spare bits set"));
        }
        Ok(Bitfield {
            bytes: bytes.to_vec(),
            len,
        })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn has(&self, i: usize) -> bool {
        i < self.len && self.bytes[i / 8] & (0x80 >> (i % 8)) != 0
    }

    /// Sets bit `i`; out-of-range indices are the caller's bug, checked by the decoder.
    pub fn set(&mut self, i: usize) {
        if i < self.len {
            self.bytes[i / 8] |= 0x80 >> (i % 8);
        }
    }

    pub fn count(&self) -> usize {
        self.bytes.iter().map(|b| b.count_ones() as usize).sum()
    }

    pub fn is_complete(&self) -> bool {
        self.count() == self.len
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notes_bitmap() {
        // 0101 0100 1: pieces 1, 3, 5 and 8 of 10.
        let b = Bitfield::from_bytes(&[0x54, 0x80], 10).unwrap();
        let have: Vec<usize> = (0..10).filter(|&i| b.has(i)).collect();
        assert_eq!(have, [1, 3, 5, 8]);
        assert_eq!(b.count(), 4);
        let mut c = Bitfield::new(10);
        [1, 3, 5, 8].iter().for_each(|&i| c.set(i));
        assert_eq!(c, b);
    }

    #[test]
    fn spare_bits_and_length_checked() {
        // 10 pieces: the last 6 bits of byte 1 are spare; 0x40 sets piece "9.5".
        assert!(Bitfield::from_bytes(&[0x54, 0x20], 10).is_err());
        assert!(Bitfield::from_bytes(&[0x54], 10).is_err());
        assert!(Bitfield::from_bytes(&[0x54, 0x80, 0], 10).is_err());
        assert!(Bitfield::full(10).is_complete());
        assert_eq!(Bitfield::full(10).as_bytes(), [0xff, 0xc0]);
    }
}
