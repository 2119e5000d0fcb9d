//! A connection slot, and how useful its peer has been.
//!
//! With one thread per connection, slots are scarce: a peer that connects and then
//! dawdles (one byte every few seconds), or finishes its handshake and then only keeps
//! alive, holds a thread and a slot that a real peer needs. So every slot records when
//! it opened, whether its peer finished the protocol's opening phase, and when the peer
//! last did something useful. A connection thread says so itself, without passing
//! anything around, by calling [`established`] or [`useful`] (the slot is found through
//! a thread-local set when the thread starts). The server then can
//!
//! - close a peer still in its opening phase past the phase's deadline (not a per-read
//!   timeout, which a peer resets with every byte), and
//! - when full, close the least useful peer to admit a newcomer ([`least_useful`]).

use std::cell::RefCell;
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One registered connection: its socket (a clone, to shut it down from outside) and its mark.
pub(super) struct Slot {
    stream: TcpStream,
    mark: SlotMark,
}

impl Slot {
    pub(super) fn new(stream: TcpStream) -> Slot {
        let peer = stream.peer_addr().ok().map(|a| a.ip());
        Slot {
            stream,
            mark: SlotMark(Arc::new(Mark {
                since: Instant::now(),
                peer,
                established: AtomicBool::new(false),
                useful_ms: AtomicU64::new(0),
                closed: AtomicBool::new(false),
            })),
        }
    }

    pub(super) fn mark(&self) -> SlotMark {
        self.mark.clone()
    }

    /// Whether this slot's socket joins `peer` and `local`.
    pub(super) fn is(&self, peer: SocketAddr, local: SocketAddr) -> bool {
        self.stream.peer_addr().ok() == Some(peer) && self.stream.local_addr().ok() == Some(local)
    }

    pub(super) fn peer_ip(&self) -> Option<IpAddr> {
        self.mark.0.peer
    }

    /// Shuts the socket down: the thread blocked on it wakes and ends.
    pub(super) fn close(&self) {
        self.mark.0.closed.store(true, Ordering::SeqCst);
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

/// What is known of a slot's peer; shared by the slot and its connection thread.
#[derive(Clone, Debug)]
pub struct SlotMark(Arc<Mark>);

#[derive(Debug)]
struct Mark {
    since: Instant,
    peer: Option<IpAddr>,
    established: AtomicBool,
    /// Milliseconds after `since` of the last useful act; 0 = none yet.
    useful_ms: AtomicU64,
    closed: AtomicBool,
}

thread_local! {
    static CURRENT: RefCell<Option<SlotMark>> = const { RefCell::new(None) };
}

impl SlotMark {
    /// Makes this the slot that [`established`] and [`useful`] mark on this thread.
    pub(super) fn install(&self) {
        CURRENT.with(|c| *c.borrow_mut() = Some(self.clone()));
    }

    pub fn since(&self) -> Instant {
        self.0.since
    }

    pub fn peer(&self) -> Option<IpAddr> {
        self.0.peer
    }

    pub fn is_established(&self) -> bool {
        self.0.established.load(Ordering::SeqCst)
    }

    /// When the peer last did something useful (its opening, if never).
    pub fn last_useful(&self) -> Instant {
        self.0.since + Duration::from_millis(self.0.useful_ms.load(Ordering::SeqCst))
    }

    fn is_closed(&self) -> bool {
        self.0.closed.load(Ordering::SeqCst)
    }

    /// [`established`] and [`useful`], from any thread.
    pub(super) fn mark_useful(&self) {
        self.0.established.store(true, Ordering::SeqCst);
        self.touch();
    }

    fn touch(&self) {
        let ms = self.0.since.elapsed().as_millis() as u64;
        self.0.useful_ms.fetch_max(ms.max(1), Ordering::SeqCst);
    }
}

/// Called by a connection thread when its peer has finished the protocol's opening
/// phase (a whole request head, a handshake, a login): the phase deadline no longer applies.
pub fn established() {
    CURRENT.with(|c| {
        if let Some(m) = c.borrow().as_ref() {
            m.0.established.store(true, Ordering::SeqCst);
            m.touch();
        }
    });
}

/// Called by a connection thread when its peer did something the node values (sent a
/// block we asked for, answered a query): it is the last to be evicted.
pub fn useful() {
    CURRENT.with(|c| {
        if let Some(m) = c.borrow().as_ref() {
            m.touch();
        }
    });
}

/// The slot to give up for a newcomer: a peer still in its opening phase before any
/// established one (oldest first: it has dawdled longest); among established peers,
/// the one whose last useful act is oldest. `None` when every slot is already closing.
pub fn least_useful(slots: &[(u64, SlotMark)]) -> Option<u64> {
    slots
        .iter()
        .filter(|(_, m)| !m.is_closed())
        .min_by_key(|(_, m)| (m.is_established(), m.last_useful()))
        .map(|(id, _)| *id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn slot() -> Slot {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        Slot::new(c)
    }

    #[test]
    fn a_dawdler_goes_before_an_established_peer() {
        let (old, young) = (slot(), slot());
        old.mark().install();
        established(); // on this thread, `old` finished its handshake
        let marks = vec![(1, old.mark()), (2, young.mark())];
        assert_eq!(least_useful(&marks), Some(2));
    }

    #[test]
    fn among_established_peers_the_longest_idle_goes() {
        let (a, b) = (slot(), slot());
        for s in [&a, &b] {
            s.mark().install();
            established();
        }
        std::thread::sleep(Duration::from_millis(5));
        a.mark().install();
        useful(); // `a` sent something useful just now; `b` did not since its handshake
        let marks = vec![(1, a.mark()), (2, b.mark())];
        assert_eq!(least_useful(&marks), Some(2));
    }

    #[test]
    fn a_closing_slot_is_not_chosen_twice() {
        let a = slot();
        a.close();
        assert_eq!(least_useful(&[(1, a.mark())]), None);
    }
}
