//! The opening exchanges, on the connection's own thread (registered in the node's
//! `Conns`, so that stopping the node interrupts them), each within [`HELLO_TIMEOUT`]:
//!
//! ```text
//!   accept          <- Hello(role, port, capacity)     (the coordinator answers Welcome)
//!   dial, Link      -> Hello(leader | promoted)  <- Welcome(other leaders)
//!   dial, Attach    -> Hello(node)  <- Welcome(other leaders)
//!                   -> Publish ... (the whole list)  <- Indexed ... (one per Publish)
//! ```
//!
//! Once open, the connection is served by `reader.rs` and `writer.rs`: this thread
//! becomes the reader.

use super::reader::{read_loop, read_msg, up, BoxError, ConnId, Ctx, Event, Opened};
use super::writer::frame;
use crate::kazaa::msg::{FileDesc, Msg, Role, MAX_PUBLISH};
use crate::kazaa::{HELLO_TIMEOUT, WRITE_TIMEOUT};
use crate::locate::Traffic;
use crate::net::{self, ConnResult};
use crate::wait::remaining;
use crate::wire::WireError;
use crossbeam_channel::Sender;
use std::io::{self, BufReader, BufWriter, Write};
use std::net::{IpAddr, SocketAddrV4, TcpStream};
use std::time::Instant;

/// What the dialling side says first, and what it waits for.
pub enum Opening {
    /// A leader linking to another: Hello as `role`, then the other's Welcome.
    Link { role: Role, port: u16 },
    /// A child attaching to a leader: Hello, Welcome, its whole list in Publish frames,
    /// and one Indexed per Publish. `capacity` 0 says "I cannot lead".
    Attach {
        port: u16,
        capacity: u32,
        files: Vec<FileDesc>,
    },
}

/// What the dialled peer said while we opened: the leaders it named, and a Promote or
/// Redirect that came early.
type Said = (Vec<SocketAddrV4>, Vec<Msg>);

/// An accepted connection: the first frame must be a Hello, within [`HELLO_TIMEOUT`].
pub fn accept(stream: TcpStream, ctx: &Ctx) -> ConnResult {
    stream.set_read_timeout(Some(HELLO_TIMEOUT))?;
    let mut r = BufReader::new(stream.try_clone()?);
    let (role, port, capacity) = match read_msg(&mut r, &ctx.traffic)? {
        Some(Msg::Hello {
            role,
            port,
            capacity,
        }) => (role, port, capacity),
        None => return Err(WireError::Malformed("closed before Hello").into()),
        Some(_) => return Err(WireError::Malformed("the first message must be Hello").into()),
    };
    // The opening phase is over: the server's Hello deadline no longer applies.
    net::established();
    let addr = SocketAddrV4::new(v4(&stream)?, port);
    let conn = ctx.next_id();
    let reading = up(&stream, ctx, |link| Opened {
        conn,
        addr,
        role,
        capacity,
        outgoing: false,
        leaders: Vec::new(),
        early: Vec::new(),
        link,
    })?;
    read_loop(reading, &mut r, &ctx.events)
}

/// Dials `to` and opens the connection on threads of its own; returns its number at
/// once. The outcome reaches the coordinator as [`Event::Up`] or [`Event::Failed`], and
/// `ack` (if given) as Ok or the reason.
pub fn dial(
    ctx: &Ctx,
    to: SocketAddrV4,
    opening: Opening,
    ack: Option<Sender<Result<(), String>>>,
) -> ConnId {
    let conn = ctx.next_id();
    let (c, a) = (ctx.clone(), ack.clone());
    let worker = move || {
        let spawned = match net::connect(to, Some(HELLO_TIMEOUT)) {
            Ok(s) => {
                let (c2, a2) = (c.clone(), a.clone());
                let name = format!("{}-conn-{to}", c.name);
                c.conns
                    .spawn(name, s, move |s| {
                        opened_by_us(s, to, conn, opening, &c2, a2)
                    })
                    .map_err(|e| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        };
        if let Err(why) = spawned {
            fail(&c, conn, to, why, a);
        }
    };
    if let Err(e) = ctx
        .conns
        .spawn_worker(format!("{}-dial-{to}", ctx.name), worker)
    {
        fail(ctx, conn, to, e.to_string(), ack);
    }
    conn
}

fn fail(
    ctx: &Ctx,
    conn: ConnId,
    to: SocketAddrV4,
    why: String,
    ack: Option<Sender<Result<(), String>>>,
) {
    if let Some(ack) = ack {
        let _ = ack.send(Err(why.clone()));
    }
    let _ = ctx.events.send(Event::Failed { conn, to, why });
}

fn opened_by_us(
    s: TcpStream,
    to: SocketAddrV4,
    conn: ConnId,
    opening: Opening,
    ctx: &Ctx,
    ack: Option<Sender<Result<(), String>>>,
) -> ConnResult {
    // Our own dial: `open` keeps its own deadline, the listener's does not apply.
    net::established();
    let mut r = match s.try_clone() {
        Ok(c) => BufReader::new(c),
        Err(e) => {
            fail(ctx, conn, to, e.to_string(), ack);
            return Err(e.into());
        }
    };
    let opened = open(&s, &mut r, opening, &ctx.traffic).and_then(|(leaders, early)| {
        up(&s, ctx, |link| Opened {
            conn,
            addr: to,
            role: Role::Leader,
            capacity: 0,
            outgoing: true,
            leaders,
            early,
            link,
        })
    });
    match opened {
        Ok(reading) => {
            if let Some(ack) = ack {
                let _ = ack.send(Ok(()));
            }
            read_loop(reading, &mut r, &ctx.events)
        }
        Err(e) => {
            fail(ctx, conn, to, e.to_string(), ack);
            Err(e)
        }
    }
}

/// Reads the next message before `end`: the whole exchange has one deadline,
/// [`HELLO_TIMEOUT`] from its start, so a leader that trickles Pings cannot hold us.
fn next(
    s: &TcpStream,
    r: &mut BufReader<TcpStream>,
    end: Instant,
    t: &Traffic,
) -> Result<Option<Msg>, BoxError> {
    s.set_read_timeout(Some(remaining(end, "the opening exchange")?))?;
    Ok(read_msg(r, t)?)
}

fn welcome(
    s: &TcpStream,
    r: &mut BufReader<TcpStream>,
    end: Instant,
    t: &Traffic,
) -> Result<Vec<SocketAddrV4>, BoxError> {
    match next(s, r, end, t)? {
        Some(Msg::Welcome(list)) => Ok(list),
        _ => Err("the leader did not answer Hello with Welcome".into()),
    }
}

fn open(
    s: &TcpStream,
    r: &mut BufReader<TcpStream>,
    opening: Opening,
    t: &Traffic,
) -> Result<Said, BoxError> {
    s.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let end = Instant::now() + HELLO_TIMEOUT;
    match opening {
        Opening::Link { role, port } => {
            let hello = Msg::Hello {
                role,
                port,
                capacity: 0,
            };
            send_now(s, &[hello], t)?;
            Ok((welcome(s, r, end, t)?, Vec::new()))
        }
        Opening::Attach {
            port,
            capacity,
            files,
        } => {
            let hello = Msg::Hello {
                role: Role::Node,
                port,
                capacity,
            };
            send_now(s, &[hello], t)?;
            let mut leaders = welcome(s, r, end, t)?;
            // An empty list is still published, so that an Indexed always comes back.
            let mut publish: Vec<Msg> = (files.chunks(MAX_PUBLISH))
                .map(|c| Msg::Publish(c.to_vec()))
                .collect();
            if publish.is_empty() {
                publish.push(Msg::Publish(Vec::new()));
            }
            send_now(s, &publish, t)?;
            let (mut acks, mut early) = (0, Vec::new());
            while acks < publish.len() {
                match next(s, r, end, t)?.ok_or("the leader closed while indexing")? {
                    Msg::Indexed(_) => acks += 1,
                    Msg::Ping => {}
                    Msg::Leaders(list) => leaders = list,
                    m @ (Msg::Promote(_) | Msg::Redirect(_)) => early.push(m),
                    _ => return Err("unexpected message while publishing".into()),
                }
            }
            Ok((leaders, early))
        }
    }
}

/// Writes straight to the socket: during the opening there is no writer thread yet.
fn send_now(s: &TcpStream, msgs: &[Msg], t: &Traffic) -> io::Result<()> {
    let mut w = BufWriter::new(s);
    for m in msgs {
        let f = frame(m);
        w.write_all(&f)?;
        t.sent_as(Msg::is_upkeep(&f[4..]), f.len());
    }
    w.flush()
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
