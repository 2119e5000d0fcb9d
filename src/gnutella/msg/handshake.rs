//! The Gnutella 0.6 connection handshake: three header blocks, like HTTP.
//!
//! ```text
//!   client                                    server
//!   GNUTELLA CONNECT/0.6      ─────────────►
//!   User-Agent, Listen-IP, X-Ultrapeer
//!                            ◄─────────────   GNUTELLA/0.6 200 OK     (or 503 + X-Try, close)
//!                                             User-Agent, Listen-IP, X-Try
//!   GNUTELLA/0.6 200 OK       ─────────────►
//!   ... descriptors both ways ...
//! ```
//!
//! Only the status code matters. Every block is read with `wire::read_head`, capped at
//! [`MAX_HANDSHAKE`] bytes and [`MAX_HEADERS`] lines. The texts are built and parsed by
//! pure functions; [`client`] and [`server_read`]/[`server_answer`] do the I/O.

use crate::wire::{read_head, Head, Result, WireError};
use std::io::{BufRead, Write};
use std::net::SocketAddr;

/// Largest header block accepted; real handshakes are under 1 KiB.
pub const MAX_HANDSHAKE: usize = 4096;
/// Most header lines in one block.
pub const MAX_HEADERS: usize = 32;
/// Most addresses taken from one X-Try header.
pub const MAX_X_TRY: usize = 20;
/// What we call ourselves.
pub const USER_AGENT: &str = "p2plab/0.1";

/// What the other side said about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hello {
    pub user_agent: Option<String>,
    /// The address it accepts connections on (`Listen-IP`).
    pub listen: Option<SocketAddr>,
    /// Other servents to try (`X-Try`).
    pub x_try: Vec<SocketAddr>,
}

/// How a server answered our CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Accepted(Hello),
    /// Any other code; 503 ("full") comes with hosts to try instead.
    Refused {
        code: u16,
        x_try: Vec<SocketAddr>,
    },
}

pub fn connect_text(listen: SocketAddr) -> String {
    format!(
        "GNUTELLA CONNECT/0.6\r\nUser-Agent: {USER_AGENT}\r\nListen-IP: {listen}\r\nX-Ultrapeer: False\r\n\r\n"
    )
}

pub fn ok_text(listen: SocketAddr, x_try: &[SocketAddr]) -> String {
    let mut t =
        format!("GNUTELLA/0.6 200 OK\r\nUser-Agent: {USER_AGENT}\r\nListen-IP: {listen}\r\n");
    if !x_try.is_empty() {
        t.push_str(&format!("X-Try: {}\r\n", join(x_try)));
    }
    t.push_str("\r\n");
    t
}

pub fn busy_text(x_try: &[SocketAddr]) -> String {
    format!(
        "GNUTELLA/0.6 503 Service Unavailable\r\nUser-Agent: {USER_AGENT}\r\nX-Try: {}\r\n\r\n",
        join(x_try)
    )
}

/// The client's last word.
pub const FINAL_OK: &str = "GNUTELLA/0.6 200 OK\r\n\r\n";

fn join(addrs: &[SocketAddr]) -> String {
    let v: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
    v.join(",")
}

/// `ip:port,ip:port,...`; entries that do not parse are skipped.
pub fn parse_x_try(value: &str) -> Vec<SocketAddr> {
    value
        .split(',')
        .filter_map(|a| a.trim().parse().ok())
        .take(MAX_X_TRY)
        .collect()
}

/// The code of `GNUTELLA/0.6 200 OK`.
pub fn status_code(start: &str) -> Result<u16> {
    let mut parts = start.splitn(3, ' ');
    let proto = parts.next().unwrap_or("");
    if !proto.starts_with("GNUTELLA/") {
        return Err(WireError::Malformed("status line is not GNUTELLA/x.y"));
    }
    parts
        .next()
        .and_then(|c| c.parse().ok())
        .ok_or(WireError::Malformed("status line has no code"))
}

pub fn hello_of(head: &Head) -> Hello {
    Hello {
        user_agent: head.get("User-Agent").map(str::to_string),
        listen: head.get("Listen-IP").and_then(|v| v.trim().parse().ok()),
        x_try: head.get("X-Try").map(parse_x_try).unwrap_or_default(),
    }
}

fn read_block<R: BufRead>(r: &mut R) -> Result<Head> {
    read_head(r, MAX_HANDSHAKE, MAX_HEADERS)?
        .ok_or(WireError::Malformed("closed during the handshake"))
}

/// Client side: send CONNECT, read the answer, and on 200 send the final OK.
pub fn client<R: BufRead, W: Write>(r: &mut R, w: &mut W, listen: SocketAddr) -> Result<Answer> {
    w.write_all(connect_text(listen).as_bytes())?;
    let head = read_block(r)?;
    let code = status_code(&head.start)?;
    let hello = hello_of(&head);
    if code != 200 {
        return Ok(Answer::Refused {
            code,
            x_try: hello.x_try,
        });
    }
    // A write of its own: Wireshark reads a segment holding this and a descriptor wrong.
    w.write_all(FINAL_OK.as_bytes())?;
    w.flush()?;
    Ok(Answer::Accepted(hello))
}

/// Server side, step 1: read the CONNECT block.
pub fn server_read<R: BufRead>(r: &mut R) -> Result<Hello> {
    let head = read_block(r)?;
    if !head.start.starts_with("GNUTELLA CONNECT/") {
        return Err(WireError::Malformed("expected GNUTELLA CONNECT/0.6"));
    }
    Ok(hello_of(&head))
}

/// Server side, step 2 (after deciding to accept): send 200, read the client's final OK.
pub fn server_answer<R: BufRead, W: Write>(
    r: &mut R,
    w: &mut W,
    listen: SocketAddr,
    x_try: &[SocketAddr],
) -> Result<()> {
    w.write_all(ok_text(listen, x_try).as_bytes())?;
    w.flush()?;
    let head = read_block(r)?;
    match status_code(&head.start)? {
        200 => Ok(()),
        _ => Err(WireError::Malformed("client refused our 200 OK")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn texts_are_byte_exact() {
        assert_eq!(
            connect_text(a("127.0.0.1:6346")),
            "GNUTELLA CONNECT/0.6\r\nUser-Agent: p2plab/0.1\r\nListen-IP: 127.0.0.1:6346\r\nX-Ultrapeer: False\r\n\r\n"
        );
        assert_eq!(
            busy_text(&[a("10.0.0.1:1"), a("10.0.0.2:2")]),
            "GNUTELLA/0.6 503 Service Unavailable\r\nUser-Agent: p2plab/0.1\r\nX-Try: 10.0.0.1:1,10.0.0.2:2\r\n\r\n"
        );
    }

    #[test]
    fn client_reads_a_503_with_hosts() {
        let mut r = Cursor::new(busy_text(&[a("10.0.0.1:1")]).into_bytes());
        let mut w = Vec::new();
        let ans = client(&mut r, &mut w, a("127.0.0.1:9")).unwrap();
        assert_eq!(
            ans,
            Answer::Refused {
                code: 503,
                x_try: vec![a("10.0.0.1:1")]
            }
        );
        // No final OK after a refusal.
        assert!(!String::from_utf8(w)
            .unwrap()
            .contains("\r\n\r\nGNUTELLA/0.6 200"));
    }

    #[test]
    fn full_exchange() {
        let mut server_in = Cursor::new(connect_text(a("127.0.0.1:7")).into_bytes());
        let hello = server_read(&mut server_in).unwrap();
        assert_eq!(hello.listen, Some(a("127.0.0.1:7")));
        let mut client_in = Cursor::new(ok_text(a("127.0.0.1:8"), &[a("1.2.3.4:5")]).into_bytes());
        let mut client_out = Vec::new();
        let ans = client(&mut client_in, &mut client_out, a("127.0.0.1:7")).unwrap();
        let Answer::Accepted(h) = ans else { panic!() };
        assert_eq!(h.x_try, vec![a("1.2.3.4:5")]);
        assert!(client_out.ends_with(FINAL_OK.as_bytes()));
    }

    #[test]
    fn garbage_is_refused() {
        let err = server_read(&mut Cursor::new(&b"GET / HTTP/1.0\r\n\r\n"[..])).unwrap_err();
        assert!(matches!(err, WireError::Malformed(_)));
        let err = server_read(&mut Cursor::new(vec![0xffu8; 10_000])).unwrap_err();
        assert!(matches!(err, WireError::TooLong { .. }));
        assert!(status_code("HTTP/1.1 200 OK").is_err());
        assert_eq!(parse_x_try("1.2.3.4:5, junk ,6.7.8.9:10").len(), 2);
    }
}
