//! Sockets and threads: the layer every node stands on.
//!
//! p2plab uses plain blocking `std::net` sockets and one OS thread per connection, as a
//! first networking course draws it: a listening socket, an accept loop, and a thread
//! that reads, decides and writes for one peer. No async runtime hides the control flow.
//!
//! - [`Server`]: bind (port 0 picks a free port), accept, one named thread per
//!   connection, a connection cap, read/write timeouts, and [`Server::stop`], which
//!   unblocks accept, shuts every connection down and joins every thread.
//! - [`Conns`]: the registry behind it, also used for outgoing connections and a node's
//!   worker threads, so that stopping a node leaves no thread behind. A registry made
//!   with [`Conns::with_stack`] gives every thread it starts a small named stack, so a
//!   thousand nodes' threads fit in one process (issue #16).
//! - [`TokenBucket`]: an upload rate limit in bytes/s shared by all of a node's
//!   connections: the `u_s` and `u_i` of the notes' distribution-time formula (6.2).
//!
//! - Slots are scarce with a thread per connection, so the server can defend them
//!   (`slot.rs`): an opening deadline that a peer cannot stretch by trickling bytes, a
//!   cap per source address, and, when full, evicting the least useful peer rather than
//!   refusing the newcomer. A connection thread reports progress with [`established`]
//!   and [`useful`]; each listener chooses its defences in its [`ServerConfig`].
//!
//! - [`Outbox`]: how a coordinator writes to a peer without ever waiting for it: at
//!   once when the socket takes the bytes, else through the connection's writer thread
//!   and its bounded queue (a full queue means: drop the peer).
//! - [`connect_from`]: a connection from a chosen 127.x.y.z, so that labs and tests
//!   exercise per-address rules on one machine.
//!
//! Where to look first: `server.rs`, then `conns.rs`, then `slot.rs`.

mod conns;
mod from;
mod outbox;
mod rate;
mod server;
mod slot;

pub use conns::{ConnResult, Conns};
pub use from::connect_from;
pub use outbox::{outbox, send_now, Direct, Outbox, Pushed, Writer};
pub use rate::{LimitedWriter, TokenBucket};
pub use server::{Server, ServerConfig};
pub use slot::{established, least_useful, useful, SlotMark};

use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long an outgoing connection attempt may take. Everything in p2plab runs on
/// loopback, where a connect either succeeds at once or is refused.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Connects with [`CONNECT_TIMEOUT`], turns Nagle off (our messages are small and
/// latency is what the labs measure) and sets the read timeout.
pub fn connect(addr: impl ToSocketAddrs, read_timeout: Option<Duration>) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::InvalidInput, "address resolved to nothing");
    for a in addr.to_socket_addrs()? {
        match TcpStream::connect_timeout(&a, CONNECT_TIMEOUT) {
            Ok(s) => {
                s.set_nodelay(true)?;
                s.set_read_timeout(read_timeout)?;
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Parses `host:port`, with a message that names the offending text.
pub fn parse_addr(text: &str) -> io::Result<SocketAddr> {
    text.to_socket_addrs()?.next().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cannot resolve '{text}'"),
        )
    })
}
