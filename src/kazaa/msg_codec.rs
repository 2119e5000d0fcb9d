//! The field readers and writers under `msg.rs`: big-endian integers, IPv4 addresses,
//! u8-length strings, and count limits checked before anything is reserved.

use crate::share::ids::Sha1Id;
use crate::wire::WireError;
use std::net::{Ipv4Addr, SocketAddrV4};

pub(super) fn limit(n: usize, max: usize) -> Result<(), WireError> {
    if n > max {
        return Err(WireError::TooLong {
            len: n as u64,
            max: max as u64,
        });
    }
    Ok(())
}

pub(super) fn put_addr(b: &mut Vec<u8>, a: &SocketAddrV4) {
    b.extend_from_slice(&a.ip().octets());
    b.extend_from_slice(&a.port().to_be_bytes());
}

/// A u8 length then the bytes; text longer than 255 bytes is cut at a char boundary
/// (callers check names and queries before they get here).
pub(super) fn put_str(b: &mut Vec<u8>, s: &str) {
    let mut end = s.len().min(255);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    b.push(end as u8);
    b.extend_from_slice(&s.as_bytes()[..end]);
}

/// Reads fields off the front of a message body.
pub(super) struct Cursor<'a> {
    pub(super) b: &'a [u8],
}

impl<'a> Cursor<'a> {
    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.b.len() < n {
            return Err(WireError::Malformed("message ends inside a field"));
        }
        let (head, rest) = self.b.split_at(n);
        self.b = rest;
        Ok(head)
    }
    pub(super) fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }
    pub(super) fn u16(&mut self) -> Result<u16, WireError> {
        Ok(u16::from_be_bytes(self.take(2)?.try_into().unwrap()))
    }
    pub(super) fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().unwrap()))
    }
    pub(super) fn u64(&mut self) -> Result<u64, WireError> {
        Ok(u64::from_be_bytes(self.take(8)?.try_into().unwrap()))
    }
    pub(super) fn sha1(&mut self) -> Result<Sha1Id, WireError> {
        Ok(self.take(20)?.try_into().unwrap())
    }
    pub(super) fn addr(&mut self) -> Result<SocketAddrV4, WireError> {
        let ip: [u8; 4] = self.take(4)?.try_into().unwrap();
        Ok(SocketAddrV4::new(Ipv4Addr::from(ip), self.u16()?))
    }
    pub(super) fn str(&mut self) -> Result<String, WireError> {
        let n = self.u8()? as usize;
        let raw = self.take(n)?;
        String::from_utf8(raw.to_vec()).map_err(|_| WireError::Malformed("text is not UTF-8"))
    }
    /// A file name: text that could name a file in a folder (no `/`, no `..`).
    pub(super) fn name(&mut self) -> Result<String, WireError> {
        let s = self.str()?;
        if crate::share::safe_name(&s).is_none() {
            return Err(WireError::Malformed(
                "file name is empty or has a path in it",
            ));
        }
        Ok(s)
    }
}
