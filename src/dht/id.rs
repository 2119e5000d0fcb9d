//! Identifiers on the ring (环上的标识符) and the arithmetic Chord needs.
//!
//! An [`Id`] is a number in `0 .. 2^m`, stored as 20 big-endian bytes (m ≤ 160), so
//! the same type serves the lab's readable 8-bit ring and SHA-1's full 160 bits.
//! Arithmetic is done modulo 2^160 and then masked to m bits, which equals doing it
//! modulo 2^m because both operands are already below 2^m.
//!
//! Intervals are *clockwise*: `(a, b)` starts just after `a` and walks up, wrapping at
//! 2^m, until just before `b`. When `a == b` the interval is the whole ring (Chord's
//! convention: a lone node is its own successor and owns every key).

use sha1::{Digest, Sha1};
use std::fmt;
use std::net::SocketAddr;

/// Bytes of an id on the wire and in memory: SHA-1's 160 bits.
pub const ID_BYTES: usize = 20;
/// Largest ring: m = 160, the whole SHA-1 output.
pub const MAX_BITS: u32 = 160;

/// A point on the ring, `0 <= id < 2^m`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Id(pub [u8; ID_BYTES]);

impl Id {
    /// SHA-1 of `data`, reduced modulo 2^bits: a key's id, or a node's from its address.
    pub fn hash(data: &[u8], bits: u32) -> Id {
        let digest: [u8; ID_BYTES] = Sha1::digest(data).into();
        Id(digest).masked(bits)
    }

    /// A node's id: the hash of `ip:port`, the address others reach it at. A peer whose
    /// address changes (notes 6.1) therefore comes back with another id.
    pub fn of_addr(addr: &SocketAddr, bits: u32) -> Id {
        Id::hash(addr.to_string().as_bytes(), bits)
    }

    /// A small id, for the lab's rings and for tests.
    pub fn from_u64(v: u64, bits: u32) -> Id {
        let mut b = [0u8; ID_BYTES];
        b[ID_BYTES - 8..].copy_from_slice(&v.to_be_bytes());
        Id(b).masked(bits)
    }

    /// 2^i (i < bits): the distance to the start of finger i+1.
    pub fn pow2(i: u32) -> Id {
        let mut b = [0u8; ID_BYTES];
        if i < MAX_BITS {
            b[ID_BYTES - 1 - (i / 8) as usize] = 1 << (i % 8);
        }
        Id(b)
    }

    /// Clears the bits at or above `bits`: reduction modulo 2^bits.
    pub fn masked(mut self, bits: u32) -> Id {
        let bits = bits.min(MAX_BITS);
        let zero_bits = MAX_BITS - bits;
        for (i, byte) in self.0.iter_mut().enumerate() {
            let first_bit = i as u32 * 8; // counted from the most significant end
            if first_bit + 8 <= zero_bits {
                *byte = 0;
            } else if first_bit < zero_bits {
                *byte &= 0xff >> (zero_bits - first_bit);
            }
        }
        self
    }

    /// True if the value is below 2^bits (what a well-formed id on an m-bit ring is).
    pub fn fits(&self, bits: u32) -> bool {
        self.masked(bits) == *self
    }

    /// `(self + other) mod 2^bits`.
    pub fn add(&self, other: &Id, bits: u32) -> Id {
        let mut out = [0u8; ID_BYTES];
        let mut carry = 0u16;
        for i in (0..ID_BYTES).rev() {
            let s = self.0[i] as u16 + other.0[i] as u16 + carry;
            out[i] = s as u8;
            carry = s >> 8;
        }
        Id(out).masked(bits)
    }

    /// `(self - other) mod 2^bits`: how far `self` lies clockwise from `other`.
    pub fn sub(&self, other: &Id, bits: u32) -> Id {
        let mut out = [0u8; ID_BYTES];
        let mut borrow = 0i16;
        for i in (0..ID_BYTES).rev() {
            let mut d = self.0[i] as i16 - other.0[i] as i16 - borrow;
            borrow = 0;
            if d < 0 {
                d += 256;
                borrow = 1;
            }
            out[i] = d as u8;
        }
        Id(out).masked(bits)
    }

    /// `self / 2^bits`: the share of the ring a clockwise distance covers (0 up to 1).
    pub fn fraction(&self, bits: u32) -> f64 {
        let v = self
            .0
            .iter()
            .fold(0.0, |acc, b| acc * 256.0 + f64::from(*b));
        v / 2f64.powi(bits as i32)
    }

    /// The low 64 bits, for printing small rings.
    pub fn low_u64(&self) -> u64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.0[ID_BYTES - 8..]);
        u64::from_be_bytes(b)
    }

    /// All 40 hex digits.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Decimal when the id fits in 32 bits (the lab's small rings), else the first 10
    /// hex digits, enough to tell nodes apart in a table.
    pub fn short(&self) -> String {
        if self.0[..ID_BYTES - 4].iter().all(|&b| b == 0) {
            self.low_u64().to_string()
        } else {
            format!("{}…", &self.to_hex()[..10])
        }
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.short())
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.short())
    }
}

/// `x ∈ (a, b)`, clockwise; `(a, a)` is every point but `a`.
pub fn in_open(x: &Id, a: &Id, b: &Id) -> bool {
    match a.cmp(b) {
        std::cmp::Ordering::Less => a < x && x < b,
        std::cmp::Ordering::Greater => x > a || x < b,
        std::cmp::Ordering::Equal => x != a,
    }
}

/// `x ∈ (a, b]`, clockwise; `(a, a]` is the whole ring. This is "b owns x" when a is
/// b's predecessor.
pub fn in_half_open(x: &Id, a: &Id, b: &Id) -> bool {
    x == b || in_open(x, a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(v: u64) -> Id {
        Id::from_u64(v, 8)
    }

    #[test]
    fn intervals_wrap_around_zero() {
        // m = 8: the ring is 0..=255.
        assert!(in_open(&id(10), &id(5), &id(20)));
        assert!(!in_open(&id(20), &id(5), &id(20)), "open at the right end");
        assert!(
            in_half_open(&id(20), &id(5), &id(20)),
            "closed at the right end"
        );
        assert!(
            !in_half_open(&id(5), &id(5), &id(20)),
            "open at the left end"
        );
        // (250, 3) wraps: 251..=255 and 0..=2.
        assert!(in_open(&id(255), &id(250), &id(3)));
        assert!(in_open(&id(0), &id(250), &id(3)));
        assert!(!in_open(&id(100), &id(250), &id(3)));
        // (a, a] is the whole ring; (a, a) everything but a.
        assert!(in_half_open(&id(7), &id(7), &id(7)));
        assert!(in_half_open(&id(99), &id(7), &id(7)));
        assert!(!in_open(&id(7), &id(7), &id(7)));
    }

    #[test]
    fn arithmetic_is_modulo_2_to_the_m() {
        assert_eq!(id(250).add(&Id::pow2(3), 8), id(2)); // 250 + 8 = 258 = 2 mod 256
        assert_eq!(id(2).sub(&id(250), 8), id(8));
        assert_eq!(Id::pow2(7).add(&Id::pow2(7), 8), id(0));
        // 160 bits: all ones + 1 wraps to zero.
        let top = Id([0xff; ID_BYTES]);
        assert_eq!(top.add(&Id::pow2(0), 160), Id::default());
        assert_eq!(Id::default().sub(&Id::pow2(0), 160), top);
    }

    #[test]
    fn masking_keeps_the_low_m_bits() {
        let all = Id([0xff; ID_BYTES]);
        assert_eq!(all.masked(8), id(255));
        assert_eq!(all.masked(10).low_u64(), 1023);
        assert_eq!(all.masked(160), all);
        assert!(id(200).fits(8));
        assert!(!Id::from_u64(300, 16).fits(8));
    }

    #[test]
    fn hash_is_sha1_reduced() {
        // SHA-1("abc") = a9993e36 4706816a ba3e2571 7850c26c 9cd0d89d
        let h = Id::hash(b"abc", 160);
        assert_eq!(h.to_hex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(Id::hash(b"abc", 8).low_u64(), 0x9d);
        assert_eq!(Id::hash(b"abc", 10).low_u64(), 0x09d);
        assert_eq!(Id::hash(b"abc", 8).short(), "157");
    }
}
