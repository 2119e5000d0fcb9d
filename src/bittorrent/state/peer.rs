//! One connected peer, as the coordinator sees it: what it has, what we asked it for,
//! who chokes whom, and the figures tit-for-tat ranks it by.

use crate::bittorrent::conn::{Link, Out, PeerCounters, Request};
use crate::bittorrent::msg::bitfield::Bitfield;
use crate::bittorrent::msg::{encode_into, Message};
use crate::bittorrent::policy::pipeline::RateMeter;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// One message, encoded for a writer's queue.
pub fn bytes(m: &Message<'_>) -> Out {
    let mut b = Vec::with_capacity(17);
    encode_into(m, &mut b);
    Out::Bytes(b)
}

pub struct PeerEntry {
    pub link: Link,
    pub counters: Arc<PeerCounters>,
    /// Its bitmap (位图).
    pub has: Bitfield,
    /// Pieces it has that we lack: we are interested while this is above 0.
    pub wanted: usize,
    pub am_interested: bool,
    /// It wants pieces we have.
    pub interested: bool,
    /// We unchoke it (regular or optimistic slot).
    pub unchoked: bool,
    pub optimistic_slot: bool,
    /// It chokes us: our requests will not be answered.
    pub peer_choking: bool,
    /// Our block requests it has not answered yet.
    pub requests: Vec<Request>,
    pub bad_pieces: u32,
    /// Counter values at the last rechoke: rates are the difference over the period.
    pub last_down: u64,
    pub last_up: u64,
    /// The rate it sends us, which sizes our request queue at it (`policy/pipeline.rs`).
    pub down_meter: RateMeter,
    pub connected_at: Instant,
    /// Last block it sent us, or when we became interested in it (for snubbing).
    pub last_block: Instant,
    /// Since when our oldest unanswered request has waited without any block from it.
    pub waiting_since: Option<Instant>,
    /// It left requests unanswered past the deadline: it gets one request at a time
    /// until it sends a block again.
    pub snubbed: bool,
    /// Last time it was interested in us or sent a block we asked for (connect time
    /// if never): a full node closes the peer whose figure is oldest.
    pub last_useful: Instant,
}

impl PeerEntry {
    /// A peer just after its handshake: choked both ways, nobody interested.
    pub fn new(link: Link, counters: Arc<PeerCounters>, num_pieces: usize) -> PeerEntry {
        let now = Instant::now();
        PeerEntry {
            has: Bitfield::new(num_pieces),
            wanted: 0,
            am_interested: false,
            interested: false,
            unchoked: false,
            optimistic_slot: false,
            peer_choking: true,
            requests: Vec::new(),
            bad_pieces: 0,
            last_down: counters.down.load(Ordering::Relaxed),
            last_up: counters.up.load(Ordering::Relaxed),
            down_meter: RateMeter::new(counters.down.load(Ordering::Relaxed)),
            counters,
            connected_at: now,
            last_block: now,
            waiting_since: None,
            snubbed: false,
            last_useful: now,
            link,
        }
    }

    /// Interested while it has a piece we lack: the message to send when that changes.
    pub fn interest(&mut self) -> Option<Out> {
        let want = self.wanted > 0;
        if want == self.am_interested {
            return None;
        }
        self.am_interested = want;
        if want {
            self.last_block = Instant::now(); // snubbed counts from now
            Some(bytes(&Message::Interested))
        } else {
            Some(bytes(&Message::NotInterested))
        }
    }

    /// Forgets our request `r` (answered or cancelled); `false` if it was not pending.
    pub fn take_request(&mut self, r: Request) -> bool {
        match self.requests.iter().position(|&q| q == r) {
            Some(pos) => {
                self.requests.swap_remove(pos);
                true
            }
            None => false,
        }
    }
}
