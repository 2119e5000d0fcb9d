//! Modular exponentiation modulo MSE's 768-bit prime, written out (大数模幂).
//!
//! Diffie–Hellman needs one operation: `base^exp mod P`. A number is 24 limbs of 32
//! bits, least significant first, so that a limb product fits in a `u64`. Exponentiation
//! is square-and-multiply over the exponent's bits; each multiplication is a
//! *Montgomery* multiplication, which replaces the division by P with additions and
//! shifts: numbers are kept as `a·R mod P` with `R = 2^768`, and
//! `mont_mul(aR, bR) = abR mod P` costs one schoolbook product, interleaved with adding
//! multiples of P that clear the low limb each round. No crate needed, and no secret
//! timing guarantees either: MSE is obfuscation, not security.

/// Limbs in a 768-bit number.
pub const LIMBS: usize = 24;
/// Bytes of a 768-bit number, as it goes on the wire (big-endian, zero-padded).
pub const BYTES: usize = LIMBS * 4;

/// A 768-bit number, least significant limb first.
pub type Num = [u32; LIMBS];

/// The prime P of the MSE spec (the 768-bit MODP group of RFC 2409, "Oakley group 1").
pub const P_BYTES: [u8; BYTES] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC9, 0x0F, 0xDA, 0xA2, 0x21, 0x68, 0xC2, 0x34,
    0xC4, 0xC6, 0x62, 0x8B, 0x80, 0xDC, 0x1C, 0xD1, 0x29, 0x02, 0x4E, 0x08, 0x8A, 0x67, 0xCC, 0x74,
    0x02, 0x0B, 0xBE, 0xA6, 0x3B, 0x13, 0x9B, 0x22, 0x51, 0x4A, 0x08, 0x79, 0x8E, 0x34, 0x04, 0xDD,
    0xEF, 0x95, 0x19, 0xB3, 0xCD, 0x3A, 0x43, 0x1B, 0x30, 0x2B, 0x0A, 0x6D, 0xF2, 0x5F, 0x14, 0x37,
    0x4F, 0xE1, 0x35, 0x6D, 0x6D, 0x51, 0xC2, 0x45, 0xE4, 0x85, 0xB5, 0x76, 0x62, 0x5E, 0x7E, 0xC6,
    0xF4, 0x4C, 0x42, 0xE9, 0xA6, 0x3A, 0x36, 0x21, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x05, 0x63,
];

pub fn from_be_bytes(b: &[u8; BYTES]) -> Num {
    let mut n = [0u32; LIMBS];
    for (i, limb) in n.iter_mut().enumerate() {
        let at = BYTES - 4 * (i + 1);
        *limb = u32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"));
    }
    n
}

pub fn to_be_bytes(n: &Num) -> [u8; BYTES] {
    let mut b = [0u8; BYTES];
    for (i, limb) in n.iter().enumerate() {
        let at = BYTES - 4 * (i + 1);
        b[at..at + 4].copy_from_slice(&limb.to_be_bytes());
    }
    b
}

/// `a >= b`, comparing from the most significant limb.
fn ge(a: &Num, b: &Num) -> bool {
    for i in (0..LIMBS).rev() {
        if a[i] != b[i] {
            return a[i] > b[i];
        }
    }
    true
}

/// `a -= b`, returning the borrow out of the top limb.
fn sub_assign(a: &mut Num, b: &Num) -> bool {
    let mut borrow = 0u64;
    for i in 0..LIMBS {
        let d = (a[i] as u64).wrapping_sub(b[i] as u64).wrapping_sub(borrow);
        a[i] = d as u32;
        borrow = (d >> 63) & 1;
    }
    borrow == 1
}

/// `2a mod p`, for `a < p`: the slow, obvious way, used only to compute `R² mod p`.
fn double_mod(a: &mut Num, p: &Num) {
    let mut carry = 0u32;
    for limb in a.iter_mut() {
        let top = *limb >> 31;
        *limb = (*limb << 1) | carry;
        carry = top;
    }
    // 2a < 2p: one subtraction is enough; a carry out means 2a >= 2^768 > p.
    if carry == 1 || ge(a, p) {
        sub_assign(a, p);
    }
}

/// The modulus with what Montgomery multiplication needs precomputed.
pub struct Modulus {
    p: Num,
    /// `-p⁻¹ mod 2^32`: the multiple of p that clears a low limb.
    p_inv_neg: u32,
    /// `R² mod p`, to move a number into Montgomery form with one `mont_mul`.
    r2: Num,
}

impl Modulus {
    /// `p` must be odd (Montgomery needs `p` invertible mod 2^32) and have its top bit set.
    pub fn new(p: Num) -> Modulus {
        assert!(p[0] & 1 == 1, "Montgomery needs an odd modulus");
        // Newton's iteration doubles the correct low bits each round: 1 -> 2 -> ... -> 32.
        let mut inv: u32 = 1;
        for _ in 0..5 {
            inv = inv.wrapping_mul(2u32.wrapping_sub(p[0].wrapping_mul(inv)));
        }
        // R mod p = 2^768 - p (p has its top bit set), then doubled 768 times: R² mod p.
        let mut r2 = [0u32; LIMBS];
        sub_assign(&mut r2, &p);
        for _ in 0..LIMBS * 32 {
            double_mod(&mut r2, &p);
        }
        Modulus {
            p,
            p_inv_neg: inv.wrapping_neg(),
            r2,
        }
    }

    /// The MSE prime.
    pub fn mse() -> Modulus {
        Modulus::new(from_be_bytes(&P_BYTES))
    }

    /// `a·b·R⁻¹ mod p` (for `a, b < p`).
    fn mont_mul(&self, a: &Num, b: &Num) -> Num {
        // t holds LIMBS + 2 limbs: the running sum never exceeds 2p·2^32.
        let mut t = [0u32; LIMBS + 2];
        for &bi in b.iter() {
            // t += a·b[i]
            let mut carry = 0u64;
            for j in 0..LIMBS {
                let s = t[j] as u64 + a[j] as u64 * bi as u64 + carry;
                t[j] = s as u32;
                carry = s >> 32;
            }
            let s = t[LIMBS] as u64 + carry;
            t[LIMBS] = s as u32;
            t[LIMBS + 1] = (s >> 32) as u32;
            // t += m·p with m chosen so that the low limb becomes 0, then t >>= 32.
            let m = t[0].wrapping_mul(self.p_inv_neg);
            let mut carry = (t[0] as u64 + m as u64 * self.p[0] as u64) >> 32;
            for j in 1..LIMBS {
                let s = t[j] as u64 + m as u64 * self.p[j] as u64 + carry;
                t[j - 1] = s as u32;
                carry = s >> 32;
            }
            let s = t[LIMBS] as u64 + carry;
            t[LIMBS - 1] = s as u32;
            t[LIMBS] = t[LIMBS + 1] + (s >> 32) as u32;
        }
        let mut r: Num = t[..LIMBS].try_into().expect("LIMBS limbs");
        if t[LIMBS] != 0 || ge(&r, &self.p) {
            sub_assign(&mut r, &self.p);
        }
        r
    }

    /// `base^exp mod p`; `exp` is big-endian bytes of any length.
    pub fn pow(&self, base: &Num, exp: &[u8]) -> Num {
        let mut one = [0u32; LIMBS];
        one[0] = 1;
        let mut b = *base;
        if ge(&b, &self.p) {
            // Only a peer's value can be >= p; reduce it (once is enough below 2^768).
            sub_assign(&mut b, &self.p);
        }
        let b = self.mont_mul(&b, &self.r2); // b·R
        let mut acc = self.mont_mul(&one, &self.r2); // 1·R
        for byte in exp {
            for bit in (0..8).rev() {
                acc = self.mont_mul(&acc, &acc);
                if byte >> bit & 1 == 1 {
                    acc = self.mont_mul(&acc, &b);
                }
            }
        }
        self.mont_mul(&acc, &one) // out of Montgomery form
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> [u8; BYTES] {
        let mut b = [0u8; BYTES];
        for (i, out) in b.iter_mut().enumerate() {
            *out = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        b
    }

    // Fixtures computed with Python: pow(2, xa, P), pow(yb, xa, P).
    const XA: [u8; 20] = [
        0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd,
        0xef, 0x01, 0x23, 0x45, 0x67,
    ];
    const YA: &str = "6fd4bc7aa649593205ec30348a3ccc737b61fa01e9e1762c2c53eb69033afecbdf7c13b8ac3643af78d0760b0f42db009f2b96c970f009d060faf617f117d0f1c221cea0561b9a86e852fc70a6f09ad0f82378603aa5e56b811deb3f534bf276";
    const YB: &str = "e2666b9cffca63998c8e806db50c47ac12512b327c5ec48d62e0a43c2961afcf136e7219fe2ec51e656b2f01ed089dd8cc53c78e7d650df59a752131bcf8ffff122144bf10c6269b47886d6af58389223c66153ebb5e3dc18ea849ceb60ac18e";
    const S: &str = "0bf59f468e43b9f22a5fd0ccbc9bd7825a7495f6e670c31533db364b536ee297a737d565ff7829d4c397de16aec19f893e3d28eaa14eaf7e17e1026697089fdff81c7dc7e4c65e6211443d9dd3e5d8b0c0e8b2888af39637af18a75cc1b17685";

    #[test]
    fn matches_python_pow() {
        let m = Modulus::mse();
        let mut two = [0u32; LIMBS];
        two[0] = 2;
        assert_eq!(to_be_bytes(&m.pow(&two, &XA)), hex(YA));
        let yb = from_be_bytes(&hex(YB));
        assert_eq!(to_be_bytes(&m.pow(&yb, &XA)), hex(S));
    }

    #[test]
    fn small_cases() {
        let m = Modulus::mse();
        let mut three = [0u32; LIMBS];
        three[0] = 3;
        let r = m.pow(&three, &[0x01, 0x00]); // 3^256 mod P, vs 3^128 squared
        let h = m.pow(&three, &[0x80]);
        assert_eq!(r, m.mont_mul(&m.mont_mul(&h, &h), &m.r2));
        assert_eq!(to_be_bytes(&m.pow(&three, &[]))[BYTES - 1], 1); // x^0 = 1
        assert_eq!(to_be_bytes(&m.pow(&three, &[2]))[BYTES - 1], 9);
        assert_eq!(to_be_bytes(&from_be_bytes(&P_BYTES)), P_BYTES);
    }
}
