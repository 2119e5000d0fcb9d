//! Connecting from a chosen source address.
//!
//! Every address in 127.0.0.0/8 is this machine's, so a lab or a test can give each
//! node its own 127.x.y.z and exercise a rule per source address (a listener's
//! `max_per_addr`) on one machine. std's `TcpStream::connect` cannot choose the
//! source address, so this binds the socket first with the two system calls std lacks
//! (`socket`, `bind`), as `server.rs` does for `shutdown`.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::os::fd::FromRawFd;
use std::time::Duration;

#[repr(C)]
struct SockaddrIn {
    family: u16,
    port: [u8; 2],
    addr: [u8; 4],
    zero: [u8; 8],
}

impl SockaddrIn {
    fn new(a: SocketAddrV4) -> SockaddrIn {
        SockaddrIn {
            family: 2, // AF_INET
            port: a.port().to_be_bytes(),
            addr: a.ip().octets(),
            zero: [0; 8],
        }
    }
}

extern "C" {
    fn socket(domain: i32, kind: i32, protocol: i32) -> i32;
    fn bind(fd: i32, addr: *const SockaddrIn, len: u32) -> i32;
    fn connect(fd: i32, addr: *const SockaddrIn, len: u32) -> i32;
    fn close(fd: i32) -> i32;
}

/// Connects to `to` from `from` (any port), with Nagle off and `read_timeout` set.
/// Blocking: on loopback a connect succeeds or is refused at once.
pub fn connect_from(
    from: Ipv4Addr,
    to: SocketAddrV4,
    read_timeout: Option<Duration>,
) -> io::Result<TcpStream> {
    const AF_INET: i32 = 2;
    const SOCK_STREAM: i32 = 1;
    const SOCK_CLOEXEC: i32 = 0o2_000_000;
    let (src, dst) = (
        SockaddrIn::new(SocketAddrV4::new(from, 0)),
        SockaddrIn::new(to),
    );
    let len = std::mem::size_of::<SockaddrIn>() as u32;
    // SAFETY: plain system calls on a descriptor this function owns; the addresses
    // point to live structs of the length given; on failure the descriptor is closed.
    unsafe {
        let fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        if bind(fd, &src, len) != 0 || connect(fd, &dst, len) != 0 {
            let e = io::Error::last_os_error();
            close(fd);
            return Err(e);
        }
        let s = TcpStream::from_raw_fd(fd);
        s.set_nodelay(true)?;
        s.set_read_timeout(read_timeout)?;
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{SocketAddr, TcpListener};

    #[test]
    fn the_listener_sees_the_chosen_source_address() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let SocketAddr::V4(to) = l.local_addr().unwrap() else {
            unreachable!()
        };
        let from = Ipv4Addr::new(127, 0, 3, 7);
        let _c = connect_from(from, to, None).unwrap();
        let (_, peer) = l.accept().unwrap();
        assert_eq!(peer.ip(), from);
    }
}
