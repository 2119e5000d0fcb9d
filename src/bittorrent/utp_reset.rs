//! Say "no uTP here" at once, so uTP-first clients fall back to TCP without waiting, and
//! call the client back over TCP, for those that never fall back (Transmission 3.00).
//!
//! Mainstream clients (libtorrent-based ones, Transmission) open a connection to a peer
//! as uTP (BEP 29, over UDP, on the same port number as the peer's TCP listener) and try
//! TCP only when the UDP attempt times out, after seconds. p2plab speaks BitTorrent over
//! TCP only, so it answers each uTP `ST_SYN` on its listening port's UDP twin with an
//! `ST_RESET` ("no such connection"): a libtorrent-based client gives the uTP attempt up
//! at once and calls again over TCP. Transmission 3.00 accepts the reset too (its libutp
//! reports ECONNRESET within a millisecond), but then gives up on the peer altogether, as
//! it does after a uTP timeout: see "Transmission" in the module doc of `bittorrent`. So
//! the twin also **calls back**: it hands the SYN's source address to the node, which
//! calls it over TCP. Clients send uTP from their listening port (BitTorrent's UDP and TCP
//! share one port number), so that address is where the client accepts TCP peers. (A
//! libtorrent-based client, which calls us over TCP after the reset as well, may then hold
//! two connections to us for a moment; each side keeps one per peer id, ours too.)
//!
//! The uTP header, 20 bytes, all big-endian:
//!
//! ```text
//!  0       4       8               16              24              32
//!  +-------+-------+---------------+---------------+---------------+
//!  | type  | ver=1 | extension     | connection_id                 |
//!  +-------+-------+---------------+---------------+---------------+
//!  | timestamp_microseconds                                        |
//!  | timestamp_difference_microseconds                             |
//!  | wnd_size                                                      |
//!  +---------------+---------------+---------------+---------------+
//!  | seq_nr                        | ack_nr                        |
//!  +---------------+---------------+---------------+---------------+
//! ```
//!
//! A SYN's `connection_id` is the id the initiator receives on, so the reset carries the
//! same id, and acknowledges the SYN's `seq_nr`. The answer is never larger than the
//! question, and only a well-formed SYN gets one: the twin cannot be used to amplify. A
//! SYN's source can be forged, so call-backs are rationed: one per address per
//! [`CALL_BACK_EVERY`], one in all per [`CALL_BACK_GAP`], from a bounded table; the node
//! calls each address once anyway, and no more peers than it has slots for.
//! Simplified here: no uTP itself — a real client would carry the whole transfer over it.

use log::debug;
use std::collections::VecDeque;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

pub const HEADER_LEN: usize = 20;
pub const VERSION: u8 = 1;
pub const ST_RESET: u8 = 3;
pub const ST_SYN: u8 = 4;
/// Largest datagram read: a SYN is 20 bytes plus a few of extensions.
const MAX_DATAGRAM: usize = 1500;
/// How long a blocked `recv` waits before looking at the stop flag (a fallback: `stop`
/// wakes it at once with an empty datagram, so a stopping node does not wait this out).
const STOP_POLL: Duration = Duration::from_millis(200);
/// A client that retries uTP within this long is not called back again.
pub const CALL_BACK_EVERY: Duration = Duration::from_secs(60);
/// At most one call-back this often in all: forged SYNs cannot make us call many hosts fast.
pub const CALL_BACK_GAP: Duration = Duration::from_millis(20);
/// Addresses remembered for [`CALL_BACK_EVERY`]; the oldest is forgotten first.
const MAX_REMEMBERED: usize = 64;

/// What the twin does with the address of a SYN it answered: the node calls it over TCP.
pub type CallBack = Box<dyn Fn(SocketAddr) + Send>;

/// Which SYN sources get called back (see the module doc).
#[derive(Default)]
pub struct CallBacks {
    recent: VecDeque<(SocketAddr, Instant)>,
    last: Option<Instant>,
}

impl CallBacks {
    /// Should a SYN from `from`, arriving at `now`, be called back? (`true` records it.)
    pub fn admit(&mut self, from: SocketAddr, now: Instant) -> bool {
        self.recent
            .retain(|&(_, t)| now.saturating_duration_since(t) < CALL_BACK_EVERY);
        if self.recent.iter().any(|&(a, _)| a == from)
            || self
                .last
                .is_some_and(|t| now.saturating_duration_since(t) < CALL_BACK_GAP)
        {
            return false;
        }
        if self.recent.len() == MAX_REMEMBERED {
            self.recent.pop_front();
        }
        self.recent.push_back((from, now));
        self.last = Some(now);
        true
    }
}

/// The reset answering `packet`, or `None` when `packet` is not a uTP v1 SYN.
pub fn reset_for(packet: &[u8], now_us: u32) -> Option<[u8; HEADER_LEN]> {
    if packet.len() < HEADER_LEN || packet[0] != (ST_SYN << 4 | VERSION) {
        return None;
    }
    let mut out = [0u8; HEADER_LEN];
    out[0] = ST_RESET << 4 | VERSION;
    out[1] = 0; // no extensions
    out[2..4].copy_from_slice(&packet[2..4]); // the initiator's receive id
    out[4..8].copy_from_slice(&now_us.to_be_bytes());
    // timestamp_difference and wnd_size stay 0; seq_nr is ours (0), ack_nr is theirs.
    out[18..20].copy_from_slice(&packet[16..18]);
    Some(out)
}

/// The UDP twin of a TCP listening port, answering SYNs with resets (and calling their
/// senders back) until stopped.
pub struct UtpReset {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl UtpReset {
    /// Binds UDP on `addr` (the TCP listener's address, same port) and starts answering;
    /// `call_back` gets the source of each SYN that [`CallBacks::admit`] lets through.
    pub fn start(addr: SocketAddr, call_back: CallBack) -> io::Result<UtpReset> {
        let socket = UdpSocket::bind(addr)?;
        socket.set_read_timeout(Some(STOP_POLL))?;
        let addr = socket.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::Builder::new()
            .name(format!("bt-utp-reset-{addr}"))
            .spawn(move || answer(socket, &flag, &call_back))?;
        Ok(UtpReset {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops answering and joins the thread: at once, or within [`STOP_POLL`] if the
    /// wake-up datagram is lost. Idempotent.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let mut to = self.addr;
            if to.ip().is_unspecified() {
                to.set_ip(Ipv4Addr::LOCALHOST.into());
            }
            if let Ok(s) = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)) {
                let _ = s.send_to(&[], to); // wakes the blocked recv_from
            }
            let _ = t.join();
        }
    }
}

impl Drop for UtpReset {
    fn drop(&mut self) {
        self.stop();
    }
}

fn answer(socket: UdpSocket, stop: &AtomicBool, call_back: &CallBack) {
    let epoch = Instant::now();
    let mut buf = [0u8; MAX_DATAGRAM];
    let mut calls = CallBacks::default();
    while !stop.load(Ordering::SeqCst) {
        let Ok((n, from)) = socket.recv_from(&mut buf) else {
            continue; // the poll timeout, or an ICMP error from an earlier reply
        };
        if let Some(reset) = reset_for(&buf[..n], epoch.elapsed().as_micros() as u32) {
            debug!("uTP SYN from {from}: answered with ST_RESET, so it uses TCP");
            let _ = socket.send_to(&reset, from);
            if calls.admit(from, Instant::now()) {
                debug!("uTP SYN from {from}: calling it back over TCP");
                call_back(from);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A SYN as libutp sends it: type 4, version 1, no extension, connection_id 0x1234,
    /// timestamp 0x01020304, difference 0, wnd_size 0x00100000, seq_nr 0x0042, ack_nr 0.
    const SYN: [u8; 20] = [
        0x41, 0x00, 0x12, 0x34, // type=ST_SYN ver=1 | extension | connection_id
        0x01, 0x02, 0x03, 0x04, // timestamp_microseconds
        0x00, 0x00, 0x00, 0x00, // timestamp_difference_microseconds
        0x00, 0x10, 0x00, 0x00, // wnd_size
        0x00, 0x42, 0x00, 0x00, // seq_nr | ack_nr
    ];

    #[test]
    fn a_syn_gets_a_reset_for_its_own_connection() {
        let r = reset_for(&SYN, 0x0A0B_0C0D).unwrap();
        assert_eq!(
            r,
            [
                0x31, 0x00, 0x12, 0x34, // type=ST_RESET ver=1 | no extension | same id
                0x0A, 0x0B, 0x0C, 0x0D, // our timestamp
                0x00, 0x00, 0x00, 0x00, // difference
                0x00, 0x00, 0x00, 0x00, // wnd_size
                0x00, 0x00, 0x00, 0x42, // our seq_nr 0 | ack_nr = their seq_nr
            ]
        );
    }

    #[test]
    fn only_a_whole_v1_syn_is_answered() {
        let mut data = SYN;
        data[0] = 0x01; // ST_DATA
        assert_eq!(reset_for(&data, 0), None);
        let mut v2 = SYN;
        v2[0] = 0x42;
        assert_eq!(reset_for(&v2, 0), None);
        assert_eq!(reset_for(&SYN[..19], 0), None, "a short datagram");
        assert_eq!(
            reset_for(b"d1:ad2:id20:", 0),
            None,
            "a DHT query on the same port"
        );
    }

    #[test]
    fn call_backs_are_rationed() {
        let (a, b): (SocketAddr, SocketAddr) = (
            "10.0.0.1:51413".parse().unwrap(),
            "10.0.0.2:51413".parse().unwrap(),
        );
        let t0 = Instant::now();
        let mut c = CallBacks::default();
        assert!(c.admit(a, t0), "a first SYN is called back");
        assert!(!c.admit(a, t0 + CALL_BACK_GAP), "the same client again: no");
        assert!(!c.admit(b, t0), "another client within the gap: no");
        assert!(c.admit(b, t0 + CALL_BACK_GAP), "after the gap: yes");
        assert!(
            c.admit(a, t0 + CALL_BACK_EVERY),
            "the first one, a minute later"
        );
        for i in 0..200u32 {
            let forged = SocketAddr::from((i.to_be_bytes(), 6881));
            c.admit(forged, t0 + CALL_BACK_EVERY + CALL_BACK_GAP * (i + 1));
        }
        assert_eq!(
            c.recent.len(),
            MAX_REMEMBERED,
            "forged sources cannot grow the table"
        );
    }

    #[test]
    fn the_twin_answers_over_real_udp_and_stops() {
        let (called_tx, called) = crossbeam_channel::unbounded();
        let call_back: CallBack = Box::new(move |a| {
            let _ = called_tx.send(a);
        });
        let mut twin = UtpReset::start("127.0.0.1:0".parse().unwrap(), call_back).unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        client.send_to(&SYN, twin.local_addr()).unwrap();
        let mut buf = [0u8; 64];
        let (n, from) = client.recv_from(&mut buf).unwrap();
        assert_eq!(from, twin.local_addr());
        assert_eq!(n, HEADER_LEN);
        assert_eq!(buf[0], 0x31);
        assert_eq!(&buf[2..4], &[0x12, 0x34]);
        let back = called.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(
            back,
            client.local_addr().unwrap(),
            "the SYN's source is called back"
        );
        twin.stop();
    }
}
