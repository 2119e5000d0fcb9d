//! What the coordinator holds of one connection ([`Link`]), and how it writes to it
//! without ever waiting: the writer's counted queue ([`OutQueue`]) and, on an idle
//! plaintext socket, a write at once ([`Link::push`]).

use super::gate::Gate;
use super::{Out, PeerKey};
use crate::bittorrent::msg::handshake::PeerId;
use crossbeam_channel::{Sender, TrySendError};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// What the coordinator keeps of a connection to talk to it and to end it.
pub struct Link {
    pub key: PeerKey,
    pub addr: SocketAddr,
    pub peer_id: PeerId,
    pub outgoing: bool,
    pub out: OutQueue,
    /// A clone of the socket: `shutdown` ends both threads at once.
    pub stream: TcpStream,
    /// Choked or unchoked, set by the coordinator; the reader answers requests by it.
    pub gate: Arc<Gate>,
    /// Plaintext: the coordinator may write our small messages itself.
    pub direct: bool,
}

/// A writer's bounded queue, counting what is handed to it and not yet on the wire.
#[derive(Clone)]
pub struct OutQueue {
    pub(super) tx: Sender<Out>,
    /// Items queued or being written. The writer subtracts them once written; while
    /// it is 0 the socket is idle, and [`Link::push`] may write itself.
    pub(super) queued: Arc<AtomicUsize>,
}

impl OutQueue {
    /// Queues `o` for the writer, never waiting.
    pub fn put(&self, o: Out) -> Result<(), TrySendError<Out>> {
        self.queued.fetch_add(1, Ordering::AcqRel);
        self.tx.try_send(o).inspect_err(|_| {
            self.queued.fetch_sub(1, Ordering::AcqRel);
        })
    }
}

impl Link {
    /// Hands `out` to the writer, never waiting. The fast path, kept for speed
    /// (`bench-bittorrent`): our own small messages (requests, haves) on a plaintext
    /// connection whose writer has nothing queued are written here at once with
    /// `MSG_DONTWAIT`, which saves the writer a wake-up per batch of requests (about
    /// 2,000 in a 256 MiB download). The count of queued items is the lock on the
    /// socket: we write only after taking it from 0 to 1, so our bytes never overtake
    /// queued ones; what the kernel does not take at once is queued, still holding
    /// that 1, which the writer gives back once it is written. An encrypted
    /// connection always goes through the writer, which owns the RC4 state.
    pub fn push(&self, out: Out) -> Result<(), TrySendError<Out>> {
        let q = &self.out;
        let claimed = matches!(out, Out::Bytes(_))
            && self.direct
            && q.queued
                .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire)
                .is_ok();
        let Out::Bytes(b) = out else {
            return q.put(out);
        };
        if !claimed {
            return q.put(Out::Bytes(b));
        }
        let sent = crate::net::send_now(&self.stream, &b).unwrap_or(0);
        if sent == b.len() {
            q.queued.fetch_sub(1, Ordering::AcqRel);
            return Ok(());
        }
        q.tx.try_send(Out::Bytes(b[sent..].to_vec())) // keeps the 1 we took
    }
}
