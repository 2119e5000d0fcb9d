//! What a connection tells its coordinator ([`Event`]), and the reader thread that
//! turns frames into events. Connection threads only read and write: they decide
//! nothing.

use super::writer::{self, Ending, Link};
use crate::kazaa::msg::{Msg, Role, MAX_FRAME};
use crate::locate::Traffic;
use crate::net::{ConnResult, Conns};
use crate::wire::{read_frame, Prefix, WireError};
use crossbeam_channel::Sender;
use std::io::Read;
use std::net::{SocketAddrV4, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Errors of the opening exchanges, whatever their layer.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A connection's number inside one node.
pub type ConnId = u64;

/// Events queued for one coordinator; when it is full, reader threads wait.
pub const EVENT_QUEUE: usize = 1024;

/// What connection threads tell their coordinator.
pub enum Event {
    /// The opening exchange is done; from now on the connection is served.
    Up(Opened),
    Frame {
        conn: ConnId,
        msg: Msg,
    },
    /// The connection ended (closed, Bye, silence, bad bytes, or we closed it).
    Gone {
        conn: ConnId,
        why: String,
    },
    /// A connection we dialled never finished its opening exchange.
    Failed {
        conn: ConnId,
        to: SocketAddrV4,
        why: String,
    },
}

/// A connection whose opening exchange is done.
pub struct Opened {
    pub conn: ConnId,
    /// The peer: its IP (from the socket) with the port it announced, or where we dialled.
    pub addr: SocketAddrV4,
    pub role: Role,
    /// Announced upload capacity (KiB/s); 0 for leaders.
    pub capacity: u32,
    /// True when we dialled it.
    pub outgoing: bool,
    /// The other leaders the peer named in its Welcome (and Leaders) while we opened.
    pub leaders: Vec<SocketAddrV4>,
    /// Promote or Redirect that arrived before the opening was over.
    pub early: Vec<Msg>,
    pub link: Link,
}

/// What every connection thread of one node shares.
#[derive(Clone)]
pub struct Ctx {
    /// Thread name prefix, e.g. `kazaa-leader`.
    pub name: String,
    pub events: Sender<Event>,
    pub conns: Conns,
    pub ids: Arc<AtomicU64>,
    /// A peer silent this long is dropped (the keep-alive period times the misses).
    pub silence: Duration,
    /// The node's message and byte counts (notes 6.4: who carries the load).
    pub traffic: Traffic,
}

impl Ctx {
    pub fn next_id(&self) -> ConnId {
        self.ids.fetch_add(1, Ordering::Relaxed)
    }
}

/// Reads one frame and decodes it; `Ok(None)` on a clean close between frames.
pub fn read_msg(r: &mut impl Read, traffic: &Traffic) -> Result<Option<Msg>, WireError> {
    match read_frame(r, Prefix::U32Be, MAX_FRAME)? {
        None => Ok(None),
        Some(body) => {
            traffic.received_as(Msg::is_upkeep(&body), 4 + body.len());
            Msg::decode(&body).map(Some)
        }
    }
}

/// Starts the writer and tells the coordinator the connection is up (the reader is
/// the calling thread: [`read_loop`] next). Fails, before telling anyone, only when
/// the node is stopping or the socket is already gone.
pub(super) fn up(
    stream: &TcpStream,
    ctx: &Ctx,
    opened: impl FnOnce(Link) -> Opened,
) -> Result<Reading, BoxError> {
    stream.set_read_timeout(Some(ctx.silence))?;
    let (link, ending) = writer::start(stream, &ctx.conns, &ctx.name, ctx.traffic.clone())?;
    let opened = opened(link);
    let conn = opened.conn;
    (ctx.events.send(Event::Up(opened))).map_err(|_| "the node is stopping")?;
    Ok(Reading {
        conn,
        ending,
        traffic: ctx.traffic.clone(),
    })
}

/// What the reader needs once the connection is up: its number, and its hold on the
/// writer.
pub(super) struct Reading {
    pub conn: ConnId,
    ending: Ending,
    traffic: Traffic,
}

/// Frames in, events out, until the peer closes, says Bye or breaks a rule. The
/// coordinator always hears that the peer is gone, whatever the reason.
pub(super) fn read_loop(reading: Reading, r: &mut impl Read, events: &Sender<Event>) -> ConnResult {
    let Reading {
        conn,
        ending,
        traffic,
    } = reading;
    let result = loop {
        if ending.closed() {
            break Ok("closed by us");
        }
        match read_msg(r, &traffic) {
            Ok(None) => break Ok("closed"),
            Ok(Some(Msg::Bye)) => break Ok("said Bye"),
            Ok(Some(msg)) => {
                if matches!(
                    msg,
                    Msg::Publish(_) | Msg::Query { .. } | Msg::Hits { .. } | Msg::Copy { .. }
                ) {
                    // What a leader serves peers for: evicted last when slots run out.
                    crate::net::useful();
                }
                if events.send(Event::Frame { conn, msg }).is_err() {
                    break Ok("node stopping");
                }
            }
            Err(e) => break Err(e),
        }
    };
    let why = match &result {
        Ok(why) => why.to_string(),
        Err(e) if e.is_timeout() => "silent for too long".to_string(),
        Err(e) => e.to_string(),
    };
    let _ = events.send(Event::Gone { conn, why });
    ending.end();
    result.map(|_| ()).map_err(Into::into)
}
