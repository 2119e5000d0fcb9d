//! One connection of a leader: the Hello exchange, then a loop that reads frames and
//! hands them to the coordinator. These threads do I/O only; what a message means is
//! decided in `state.rs`.

use super::msg::{Msg, Role, MAX_FRAME};
use super::{HELLO_TIMEOUT, WRITE_TIMEOUT};
use crate::net::{self, ConnResult, Conns};
use crate::wire::{read_frame, write_frame, Prefix, WireError};
use crossbeam_channel::Sender;
use std::io;
use std::net::{IpAddr, SocketAddr, SocketAddrV4, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A connection's number inside one leader.
pub type ConnId = u64;

/// What connection threads (and the leader handle) tell the coordinator.
pub enum Event {
    /// A peer said Hello. `addr` is its IP (from the socket) with the port it announced.
    Joined {
        conn: ConnId,
        addr: SocketAddrV4,
        role: Role,
        capacity: u32,
        writer: TcpStream,
        /// True when we dialled it (a leader link we opened).
        outgoing: bool,
    },
    Frame {
        conn: ConnId,
        msg: Msg,
    },
    Gone {
        conn: ConnId,
        why: String,
    },
    /// From the handle: say Bye to everyone (`graceful`) or just vanish, then end.
    Stop {
        graceful: bool,
        done: Sender<()>,
    },
}

/// Reads one frame and decodes it; `Ok(None)` on a clean close.
pub fn read_msg(stream: &TcpStream) -> Result<Option<Msg>, WireError> {
    match read_frame(&mut &*stream, Prefix::U32Be, MAX_FRAME)? {
        None => Ok(None),
        Some(body) => Msg::decode(&body).map(Some),
    }
}

/// Writes one message as one frame.
pub fn send(stream: &TcpStream, msg: &Msg) -> Result<(), WireError> {
    write_frame(&mut &*stream, Prefix::U32Be, &msg.encode())
}

fn v4(stream: &TcpStream) -> io::Result<std::net::Ipv4Addr> {
    match stream.peer_addr()?.ip() {
        IpAddr::V4(ip) => Ok(ip),
        IpAddr::V6(_) => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "IPv6 peers cannot be named in this protocol",
        )),
    }
}

/// An accepted connection: the first frame must be a Hello, within [`HELLO_TIMEOUT`];
/// after it, a peer silent for `silence` is dropped.
pub fn serve_incoming(
    stream: TcpStream,
    events: Sender<Event>,
    ids: Arc<AtomicU64>,
    silence: Duration,
) -> ConnResult {
    stream.set_read_timeout(Some(HELLO_TIMEOUT))?;
    let first = read_msg(&stream)?.ok_or(WireError::Malformed("closed before Hello"))?;
    let Msg::Hello {
        role,
        port,
        capacity,
    } = first
    else {
        return Err(WireError::Malformed("the first message must be Hello").into());
    };
    let addr = SocketAddrV4::new(v4(&stream)?, port);
    stream.set_read_timeout(Some(silence))?;
    let writer = stream.try_clone()?;
    writer.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let conn = ids.fetch_add(1, Ordering::SeqCst);
    events.send(Event::Joined {
        conn,
        addr,
        role,
        capacity,
        writer,
        outgoing: false,
    })?;
    read_loop(conn, stream, events)
}

/// Dials another leader, says Hello as `role`, waits for its Welcome, and serves the
/// link on a thread registered in `conns`.
pub fn link_out(
    to: SocketAddr,
    my_port: u16,
    role: Role,
    conns: &Conns,
    events: Sender<Event>,
    ids: Arc<AtomicU64>,
    silence: Duration,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let stream = net::connect(to, Some(HELLO_TIMEOUT))?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let hello = Msg::Hello {
        role,
        port: my_port,
        capacity: 0,
    };
    send(&stream, &hello)?;
    match read_msg(&stream)? {
        Some(Msg::Welcome(_)) => {}
        _ => return Err(WireError::Malformed("a leader must answer Hello with Welcome").into()),
    }
    let SocketAddr::V4(addr) = to else {
        return Err("leaders are reached over IPv4".into());
    };
    stream.set_read_timeout(Some(silence))?;
    let conn = ids.fetch_add(1, Ordering::SeqCst);
    events.send(Event::Joined {
        conn,
        addr,
        role: Role::Leader,
        capacity: 0,
        writer: stream.try_clone()?,
        outgoing: true,
    })?;
    conns.spawn(format!("kazaa-link-{to}"), stream, move |s| {
        read_loop(conn, s, events)
    })?;
    Ok(())
}

/// Frames in, events out, until the peer closes, says Bye or breaks a rule. The
/// coordinator always hears that the peer is gone, whatever the reason.
fn read_loop(conn: ConnId, stream: TcpStream, events: Sender<Event>) -> ConnResult {
    let result = loop {
        match read_msg(&stream) {
            Ok(None) | Ok(Some(Msg::Bye)) => break Ok(()),
            Ok(Some(msg)) => {
                if events.send(Event::Frame { conn, msg }).is_err() {
                    break Ok(()); // the leader is stopping
                }
            }
            Err(e) => break Err(e),
        }
    };
    let why = match &result {
        Ok(()) => "closed".to_string(),
        Err(e) => e.to_string(),
    };
    let _ = events.send(Event::Gone { conn, why });
    result.map_err(Into::into)
}
