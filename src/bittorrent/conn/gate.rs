//! The fast path for a peer's requests: the coordinator decides whom we serve, the
//! connection's reader applies that decision to each request without asking it.
//!
//! A 256 MiB download brings 16,384 requests. Sent through the coordinator, each batch
//! would cost two thread wake-ups on the seeder (reader → coordinator → writer) and
//! measurably slowed `bench-bittorrent` (issue 11). The rule itself needs no state
//! beyond two facts the coordinator publishes here: is the peer unchoked, and in
//! which slot ([`Gate`]), and do we have the piece ([`OurPieces`]). So the reader hands
//! a request straight to its writer when both say yes, and drops it otherwise, as
//! BEP 3 says of requests from a choked peer. The choice of whom to unchoke stays
//! with the coordinator (`policy/choke.rs`).

use super::Slot;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};

const CHOKED: u8 = 0;
const OPTIMISTIC: u8 = 1;
const REGULAR: u8 = 2;

/// One connection's gate: closed (the peer is choked) or open in one of our slots.
#[derive(Debug, Default)]
pub struct Gate {
    state: AtomicU8,
    /// Bumped at every choke: requests queued before it are skipped by the writer.
    gen: AtomicU64,
}

impl Gate {
    /// The coordinator unchoked the peer (or moved it between slots).
    pub fn open(&self, optimistic: bool) {
        let s = if optimistic { OPTIMISTIC } else { REGULAR };
        self.state.store(s, Ordering::Release);
    }

    /// The coordinator choked the peer: what it asked for so far is dropped.
    pub fn close(&self) {
        self.state.store(CHOKED, Ordering::Release);
        self.gen.fetch_add(1, Ordering::AcqRel);
    }

    /// The current generation (see [`Gate::close`]).
    pub fn gen(&self) -> u64 {
        self.gen.load(Ordering::Acquire)
    }

    /// The slot a request is answered in now, and its generation; `None`: choked.
    pub fn admit(&self, ours: &OurPieces) -> Option<(Slot, u64)> {
        let gen = self.gen();
        let slot = match self.state.load(Ordering::Acquire) {
            OPTIMISTIC => Slot::Optimistic,
            REGULAR if ours.is_complete() => Slot::RegularSeeding,
            REGULAR => Slot::RegularLeeching,
            _ => return None,
        };
        Some((slot, gen))
    }
}

/// Our bitmap (位图), published by the coordinator as pieces are verified: the readers
/// answer requests from it, the handle and the announcer report it.
#[derive(Debug)]
pub struct OurPieces {
    have: Vec<AtomicBool>,
    complete: AtomicBool,
}

impl OurPieces {
    pub fn new(have: &[bool]) -> OurPieces {
        OurPieces {
            have: have.iter().map(|&h| AtomicBool::new(h)).collect(),
            complete: AtomicBool::new(have.iter().all(|&h| h)),
        }
    }

    pub fn has(&self, i: usize) -> bool {
        self.have.get(i).is_some_and(|h| h.load(Ordering::Acquire))
    }

    pub fn is_complete(&self) -> bool {
        self.complete.load(Ordering::Acquire)
    }

    /// Only the coordinator calls these two.
    pub fn set(&self, i: usize) {
        self.have[i].store(true, Ordering::Release);
    }

    pub fn set_complete(&self) {
        self.complete.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_choked_peer_is_not_admitted_and_a_choke_starts_a_new_generation() {
        let (g, ours) = (Gate::default(), OurPieces::new(&[true, false]));
        assert_eq!(g.admit(&ours), None);
        g.open(true);
        assert_eq!(g.admit(&ours), Some((Slot::Optimistic, 0)));
        g.open(false);
        assert_eq!(g.admit(&ours), Some((Slot::RegularLeeching, 0)));
        g.close();
        assert_eq!(g.admit(&ours), None);
        g.open(false);
        ours.set(1);
        ours.set_complete();
        assert_eq!(g.admit(&ours), Some((Slot::RegularSeeding, 1)));
        assert!(ours.has(1) && !ours.has(2));
    }
}
