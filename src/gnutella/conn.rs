//! One neighbour connection: the handshake, then a reader thread and a writer thread.
//!
//! ```text
//!   socket ──read_descriptor──► "gnutella-peer-ADDR" ──Event──► coordinator
//!   socket ◄──── net::Outbox ◄──push── coordinator   (at once, or via "gnutella-send-ADDR")
//! ```
//!
//! The reader does no routing: it decodes, and anything malformed ends this one
//! connection (logged), never the servent. The coordinator writes through the
//! neighbour's [`Outbox`]: at once when the socket takes the bytes, else into the
//! writer's bounded queue ([`OUT_QUEUE`]), so descriptors are never interleaved; a
//! neighbour whose queue is full is dropped (a slow neighbour must not stall the flood
//! for everyone).
//!
//! Slots are scarce with a thread per connection, so the listener defends them: the
//! handshake must be over within `Config::handshake_deadline` ([`HANDSHAKE_DEADLINE`])
//! however it is paced, after which [`net::established`] is called; the reader calls
//! [`net::useful`] for each Pong or QueryHit, so a full listener closes the neighbour
//! that has answered nothing for longest; the coordinator does the same for neighbour
//! slots (`policy::evict_idle`) instead of answering 503 while idle sockets hold them.
//!
//! Neither thread decides anything: whether an incoming CONNECT is accepted is a
//! question to the coordinator ([`Event::Hello`]), answered on a channel.
//!
//! The reader and the handshake count what crosses the socket into the servent's
//! [`Traffic`]: bytes through [`Metered`], messages here (each descriptor, and each
//! handshake block: CONNECT, the answer, the final OK). Descriptors sent are counted by
//! the coordinator when an outbox takes them.

use super::event::{Admit, Event};
use super::msg::handshake::{self, Answer, Hello};
use super::msg::{read_descriptor, Descriptor, Payload};
use super::policy::PeerId;
use crate::locate::{Metered, Traffic};
use crate::net::{self, outbox, ConnResult, Conns, Direct};
use crate::wire::WireError;
use crossbeam_channel::{bounded, select, Receiver, Sender};
use log::{debug, info};
use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A silent connector is dropped after this long (per read: every byte resets it).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// The whole handshake, however it is paced (the listener's watchdog): three short
/// header blocks fit in a few segments, so a peer still at it after this is dawdling.
pub const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(5);
/// A neighbour silent this long is dropped; the coordinator pings every neighbour
/// well within it (`Config::keepalive`).
pub const READ_TIMEOUT: Duration = Duration::from_secs(90);
/// A neighbour that stops reading for this long is dropped.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Descriptors queued for one neighbour; when it is full, the neighbour is dropped.
pub const OUT_QUEUE: usize = 4096;

/// What the connection threads (and the dialer) of one servent share: channels, no state.
#[derive(Clone)]
pub struct Ctx {
    pub me: SocketAddr,
    pub events: Sender<Event>,
    pub conns: Conns,
    pub next_id: Arc<AtomicU64>,
    /// Never carries a message; it disconnects when the servent stops. Writer threads
    /// wait on it beside their queue: a queue's sender can outlive the coordinator
    /// (parked in the events channel's buffer), so "queue closed" alone may never come.
    pub stop: Receiver<()>,
    /// The servent's messages and bytes (`Config::traffic`).
    pub traffic: Traffic,
}

impl Ctx {
    fn bad_input(&self) {
        let _ = self.events.send(Event::BadInput);
    }

    fn metered(&self, stream: &TcpStream) -> std::io::Result<BufReader<Metered<TcpStream>>> {
        Ok(BufReader::new(Metered::new(
            stream.try_clone()?,
            self.traffic.clone(),
        )))
    }
}

/// The reading half of a neighbour's socket, counting into the servent's traffic.
type Reader = BufReader<Metered<TcpStream>>;

/// The accept path: read CONNECT, answer 200 (or 503 with other hosts), then serve.
pub fn serve_incoming(stream: TcpStream, ctx: Ctx) -> ConnResult {
    let peer = stream.peer_addr()?;
    let mut reader = ctx.metered(&stream)?;
    let hello = match handshake::server_read(&mut reader) {
        Ok(h) => {
            ctx.traffic.add_received(1, 0);
            h
        }
        Err(e) => {
            info!("{}: bad handshake from {peer}, closing: {e}", ctx.me);
            ctx.bad_input();
            return Err(e.into());
        }
    };
    let listen = hello.listen.unwrap_or(peer);
    let (reply, answer) = bounded(1);
    if ctx.events.send(Event::Hello { listen, reply }).is_err() {
        return Ok(()); // servent stopping
    }
    let x_try = match answer.recv_timeout(HANDSHAKE_TIMEOUT) {
        Ok(Admit::Accept { x_try }) => x_try,
        Ok(Admit::Refuse { why, x_try }) => {
            debug!("{}: 503 to {listen}: {why}", ctx.me);
            let mut w = Metered::new(&stream, ctx.traffic.clone());
            w.write_all(handshake::busy_text(&x_try).as_bytes())?;
            ctx.traffic.add_sent(1, 0);
            return Ok(());
        }
        Err(_) => return Ok(()), // servent stopping
    };
    let mut w = Metered::new(&stream, ctx.traffic.clone());
    let answered = handshake::server_answer(&mut reader, &mut w, ctx.me, &x_try);
    ctx.traffic.add_sent(1, 0);
    answered?;
    ctx.traffic.add_received(1, 0);
    run_neighbour(stream, reader, listen, false, hello, ctx, None)
}

/// Connects to `addr` and completes the handshake on a registered connection thread,
/// so stopping the servent interrupts it. Returns once the coordinator has the
/// neighbour, or with the refusal. The wait also ends at once when the servent stops
/// (`Ctx::stop` disconnects), so that stopping a servent never waits on a dial.
pub fn dial(ctx: &Ctx, addr: SocketAddr) -> Result<Answer, String> {
    let stream = net::connect(addr, Some(HANDSHAKE_TIMEOUT)).map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(WRITE_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let (tx, rx) = bounded(1);
    let c = ctx.clone();
    ctx.conns
        .spawn(format!("gnutella-peer-{addr}"), stream, move |s| {
            outgoing(s, addr, c, tx)
        })
        .map_err(|e| e.to_string())?;
    let unfinished = || format!("{addr}: handshake did not finish");
    let stop = &ctx.stop;
    let deadline = Instant::now() + HANDSHAKE_TIMEOUT * 2;
    loop {
        select! {
            recv(rx) -> answer => return answer.map_err(|_| unfinished())?,
            recv(stop) -> woken => if woken.is_err() {
                return Err(format!("{addr}: servent stopping"));
            },
            default(deadline.saturating_duration_since(Instant::now())) => return Err(unfinished()),
        }
    }
}

fn outgoing(
    stream: TcpStream,
    addr: SocketAddr,
    ctx: Ctx,
    tell: Sender<Result<Answer, String>>,
) -> ConnResult {
    let mut reader = ctx.metered(&stream)?;
    let mut w = Metered::new(&stream, ctx.traffic.clone());
    match handshake::client(&mut reader, &mut w, ctx.me) {
        Ok(Answer::Accepted(hello)) => {
            ctx.traffic.add_sent(2, 0);
            ctx.traffic.add_received(1, 0);
            run_neighbour(stream, reader, addr, true, hello, ctx, Some(tell))
        }
        Ok(refused) => {
            ctx.traffic.add_sent(1, 0);
            ctx.traffic.add_received(1, 0);
            let _ = tell.send(Ok(refused));
            Ok(())
        }
        Err(e) => {
            let _ = tell.send(Err(format!("{addr}: {e}")));
            Err(e.into())
        }
    }
}

/// After the handshake: register with the coordinator, start the writer, read.
fn run_neighbour(
    stream: TcpStream,
    mut reader: Reader,
    addr: SocketAddr,
    outgoing: bool,
    hello: Hello,
    ctx: Ctx,
    ack: Option<Sender<Result<Answer, String>>>,
) -> ConnResult {
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    net::established(); // the handshake deadline no longer applies
    let id = ctx.next_id.fetch_add(1, Ordering::SeqCst);
    let (out, writer) = outbox(&stream, OUT_QUEUE, Direct::Never)?;
    let stop = ctx.stop.clone();
    ctx.conns
        .spawn_worker(format!("gnutella-send-{addr}"), move || {
            if let Err(e) = writer.run(&stop) {
                debug!("writer to {addr} ends: {e}");
            }
        })?;
    let local = match stream.local_addr()?.ip() {
        std::net::IpAddr::V4(ip) => ip,
        std::net::IpAddr::V6(_) => std::net::Ipv4Addr::UNSPECIFIED,
    };
    // The reader, the outbox and the registry each hold their own descriptor of the
    // socket: this one is spare. One fewer per neighbour is 4,000 fewer open files for
    // 1,000 servents, under a limit of 20,000 (`ulimit -n`).
    drop(stream);
    let up = Event::Up {
        id,
        addr,
        outgoing,
        out,
        local,
        ack,
        hello,
    };
    if ctx.events.send(up).is_err() {
        return Ok(()); // servent stopping
    }
    let (why, bye, result) = read_loop(&mut reader, &ctx, id, addr);
    let _ = ctx.events.send(Event::Down { id, why, bye });
    result
}

/// Reads until the peer closes, says Bye, or breaks a rule.
fn read_loop(
    reader: &mut Reader,
    ctx: &Ctx,
    id: PeerId,
    addr: SocketAddr,
) -> (String, bool, ConnResult) {
    loop {
        let read = read_descriptor(reader);
        if !matches!(read, Ok(None) | Err(WireError::Io(_))) {
            ctx.traffic.add_received(1, 0);
        }
        match read {
            Ok(Some(Descriptor {
                payload: Payload::Bye(b),
                ..
            })) => {
                debug!("{}: {addr} says bye: {} {}", ctx.me, b.code, b.text);
                return (format!("bye {} {}", b.code, b.text), true, Ok(()));
            }
            Ok(Some(d)) => {
                if matches!(d.payload, Payload::Pong(_) | Payload::QueryHit(_)) {
                    net::useful(); // answered a Ping, brought a hit: keep this slot
                }
                if ctx.events.send(Event::Descriptor { id, d }).is_err() {
                    return ("servent stopping".into(), false, Ok(()));
                }
            }
            Ok(None) => return ("closed".into(), false, Ok(())),
            Err(WireError::UnknownType(t)) => {
                info!(
                    "{}: {addr} sent unknown descriptor type {t:#04x}, skipped",
                    ctx.me
                );
            }
            Err(e) => {
                if !matches!(e, WireError::Io(_)) {
                    info!("{}: closing {addr}: {e}", ctx.me);
                    ctx.bad_input();
                }
                return (e.to_string(), false, Err(e.into()));
            }
        }
    }
}
