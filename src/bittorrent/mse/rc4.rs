//! RC4, the stream cipher MSE uses (流密码).
//!
//! RC4 turns a key into an endless keystream; encrypting and decrypting are the same
//! XOR with it, so each direction of a connection keeps one RC4 state and both ends
//! advance theirs in step. Its first bytes leak key bits, so MSE throws away the first
//! 1024 bytes of each keystream ([`Rc4::mse`]).

pub struct Rc4 {
    s: [u8; 256],
    i: u8,
    j: u8,
}

/// Keystream bytes MSE discards before the first byte it uses.
pub const MSE_DISCARD: usize = 1024;

impl Rc4 {
    /// The key schedule (KSA): a permutation of 0..=255 stirred by the key (1..=256 bytes).
    pub fn new(key: &[u8]) -> Rc4 {
        assert!(
            !key.is_empty() && key.len() <= 256,
            "RC4 key of 1..=256 bytes"
        );
        let mut s = [0u8; 256];
        for (i, v) in s.iter_mut().enumerate() {
            *v = i as u8;
        }
        let mut j = 0u8;
        for i in 0..256 {
            j = j.wrapping_add(s[i]).wrapping_add(key[i % key.len()]);
            s.swap(i, j as usize);
        }
        Rc4 { s, i: 0, j: 0 }
    }

    /// An RC4 state keyed for MSE: the first 1024 keystream bytes already discarded.
    pub fn mse(key: &[u8]) -> Rc4 {
        let mut r = Rc4::new(key);
        r.apply(&mut [0u8; MSE_DISCARD]);
        r
    }

    /// XORs `data` with the next `data.len()` keystream bytes (the PRGA).
    pub fn apply(&mut self, data: &mut [u8]) {
        for b in data {
            self.i = self.i.wrapping_add(1);
            self.j = self.j.wrapping_add(self.s[self.i as usize]);
            self.s.swap(self.i as usize, self.j as usize);
            let k = self.s[self.i as usize].wrapping_add(self.s[self.j as usize]);
            *b ^= self.s[k as usize];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(key: &[u8], text: &[u8]) -> Vec<u8> {
        let mut b = text.to_vec();
        Rc4::new(key).apply(&mut b);
        b
    }

    #[test]
    fn published_vectors() {
        // The classic test vectors (as on Wikipedia's RC4 page).
        assert_eq!(
            enc(b"Key", b"Plaintext"),
            [0xbb, 0xf3, 0x16, 0xe8, 0xd9, 0x40, 0xaf, 0x0a, 0xd3]
        );
        assert_eq!(
            enc(b"Secret", b"Attack at dawn"),
            [0x45, 0xa0, 0x1f, 0x64, 0x5f, 0xc3, 0x5b, 0x38, 0x35, 0x52, 0x54, 0x4b, 0x9b, 0xf5]
        );
    }

    #[test]
    fn rfc6229_40_bit_key_at_0_and_1024() {
        let key = [1, 2, 3, 4, 5];
        let mut r = Rc4::new(&key);
        let mut first = [0u8; 16];
        r.apply(&mut first);
        assert_eq!(
            first,
            [
                0xb2, 0x39, 0x63, 0x05, 0xf0, 0x3d, 0xc0, 0x27, 0xcc, 0xc3, 0x52, 0x4a, 0x0a, 0x11,
                0x18, 0xa8
            ]
        );
        // What MSE uses first: the keystream at offset 1024.
        let mut at_1024 = [0u8; 16];
        Rc4::mse(&key).apply(&mut at_1024);
        assert_eq!(
            at_1024,
            [
                0x30, 0xab, 0xbc, 0xc7, 0xc2, 0x0b, 0x01, 0x60, 0x9f, 0x23, 0xee, 0x2d, 0x5f, 0x6b,
                0xb7, 0xdf
            ]
        );
    }
}
