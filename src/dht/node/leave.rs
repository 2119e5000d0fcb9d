//! Leaving and stopping: the graceful leave (对等方离开) and the crash.

use super::coordinator::Command;
use super::Node;
use crate::dht::msg::{encode_request, Head, Request, MAX_DATAGRAM};
use crate::dht::rpc::exchange;
use crate::dht::store::batches;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::Ordering;

impl Node {
    /// Graceful leave (对等方离开): give every key to the successor, stop the threads,
    /// then tell the successor who its new predecessor is and the predecessor who its
    /// new successors are. The notices go from the node's own socket: a node believes a
    /// leave notice only from the leaver's address.
    pub fn leave(mut self) {
        let s = self.snapshot();
        let all = self.ask(Command::Entries).unwrap_or_default();
        if let Some(succ) = s.succs.first() {
            for b in batches(all) {
                if let Err(e) = self.caller.call(succ, &Request::Store(b)) {
                    log::warn!("{}: hand-over to {} failed: {e}", self.me.addr, succ.addr);
                }
            }
        }
        self.halt();
        let mut notices = Vec::new();
        if let Some(succ) = s.succs.first() {
            let pred = s.pred;
            notices.push((
                *succ,
                Request::PredLeaving {
                    leaver: self.me,
                    pred,
                },
            ));
        }
        if let Some(p) = s.pred.filter(|p| *p != self.me) {
            let succs = s.succs;
            notices.push((
                p,
                Request::SuccLeaving {
                    leaver: self.me,
                    succs,
                },
            ));
        }
        let mut buf = vec![0u8; MAX_DATAGRAM + 1];
        for (i, (to, req)) in notices.into_iter().enumerate() {
            let body = encode_request(self.cfg.bits, &req);
            let r = exchange(
                &self.sock,
                &mut buf,
                to.addr,
                Head::call(i as u32),
                &body,
                &self.traffic,
            );
            if let Err(e) = r {
                log::info!("{}: leave notice to {} failed: {e}", self.me.addr, to.addr);
            }
        }
        self.stop();
    }

    /// Stops without a word to anyone (a crash, as the ring sees it): ends the reader,
    /// the coordinator and the workers, joins them, and closes the sockets.
    pub fn stop(&mut self) {
        self.caller.shut();
        self.halt();
        self.caller.close_all();
    }

    /// Makes this node's calls fail from now on (see `Caller::shut`): a ring stopping
    /// all its nodes does this first, so no worker waits on a node stopped before it.
    pub(crate) fn shut_calls(&self) {
        self.caller.shut();
    }

    /// Ends and joins every thread of the node; the socket stays open while `self` lives.
    fn halt(&mut self) {
        if self.threads.is_empty() {
            return;
        }
        self.stopping.store(true, Ordering::Relaxed);
        self.stop_tx.take();
        // Wakes the reader from `recv_from` at once (else it notices within STOP_CHECK).
        if let Ok(s) = UdpSocket::bind(SocketAddr::new(self.me.addr.ip(), 0)) {
            let _ = s.send_to(&[], self.me.addr);
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        // Started by the coordinator, which has ended: no more can come.
        let late: Vec<_> = self
            .late
            .lock()
            .map(|mut v| v.drain(..).collect())
            .unwrap_or_default();
        for t in late {
            let _ = t.join();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
    }
}
