//! What the threads of one servent say to each other. Every arrow ends at the
//! coordinator except its writes (through each neighbour's `net::Outbox`) and [`Job`]
//! (coordinator -> the dialer):
//!
//! ```text
//!   handle ──Command──►            ┌──push─► Outbox: the socket, or "gnutella-send-ADDR"
//!   readers ──Event───► coordinator┤
//!   dialer ──Event────►            └──Job──► "gnutella-join-ADDR"  (dials, asks the cache)
//! ```
//!
//! A question that needs an answer carries the channel to answer on (`reply`, `ack`,
//! `done`); the coordinator answers with a non-blocking send and never waits on it.

use super::msg::handshake::{Answer, Hello};
use super::msg::{Descriptor, Guid};
use super::policy::PeerId;
use crate::net::Outbox;
use crossbeam_channel::Sender;
use std::net::{Ipv4Addr, SocketAddr};

/// The coordinator's answer to an incoming CONNECT.
pub enum Admit {
    /// Answer 200 OK, offering these hosts in `X-Try`.
    Accept { x_try: Vec<SocketAddr> },
    /// Answer 503 with these hosts instead, for this reason (logged).
    Refuse {
        why: &'static str,
        x_try: Vec<SocketAddr>,
    },
}

/// What connection threads and the dialer tell the coordinator.
pub enum Event {
    /// An incoming connection sent CONNECT: may `listen` become a neighbour?
    Hello {
        listen: SocketAddr,
        reply: Sender<Admit>,
    },
    /// A handshake finished: a new neighbour, with its outbox.
    Up {
        id: PeerId,
        addr: SocketAddr,
        outgoing: bool,
        out: Outbox,
        /// Our address on this connection.
        local: Ipv4Addr,
        ack: Option<Sender<Result<Answer, String>>>,
        hello: Hello,
    },
    Descriptor {
        id: PeerId,
        d: Descriptor,
    },
    /// The connection ended (`bye`: the neighbour said it is leaving).
    Down {
        id: PeerId,
        why: String,
        bye: bool,
    },
    /// A peer broke a rule (counted in `Stats::bad_input`).
    BadInput,
    /// The dialer tried `addr`.
    Dialed {
        addr: SocketAddr,
        result: Result<Answer, String>,
    },
    /// The host cache answered `?hostfile=1` (or why not).
    CacheAnswered(Result<Vec<SocketAddr>, String>),
    /// The dialer finished its job and waits for the next.
    DialerIdle,
}

/// Things the handle asks the coordinator.
pub enum Command {
    Query {
        guid: Guid,
        text: String,
        ttl: u8,
    },
    Ping {
        guid: Guid,
        ttl: u8,
    },
    Push {
        guid: Guid,
        servent_id: Guid,
        index: u32,
    },
    /// Send a Bye to every neighbour; `done` gets a channel that closes once every
    /// writer has written its Bye (or failed).
    Leave {
        done: Sender<crossbeam_channel::Receiver<()>>,
    },
    SetDegree(usize),
    Neighbours(Sender<Vec<SocketAddr>>),
    KnownHosts(Sender<Vec<SocketAddr>>),
}

/// What the coordinator asks the dialer to do (one job at a time).
pub enum Job {
    /// Dial these hosts in order until `need` of them accept.
    Dial { hosts: Vec<SocketAddr>, need: usize },
    /// Ask the host cache for addresses.
    AskCache,
}
