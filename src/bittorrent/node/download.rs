//! The coordinator's download side: which blocks to ask a peer for next, and what the
//! verifier's answer on a finished piece changes. Part of `bt-coord` (`coordinator.rs`).
//!
//! A peer's pipeline is refilled as soon as a block arrives. Refilling only once a
//! quarter of it was free saved wake-ups, but with it the free-rider of
//! `tests/bittorrent_swarm.rs` finished ahead of contributors in 2 of 5 runs (0 of 10
//! without), so it went. While the verifier is [`VERIFY_QUEUE`] pieces behind, no new requests go out: finished pieces
//! wait in memory for it, and that bounds how many (4 MiB by default).

use super::api::{NodeEvent, VERIFY_QUEUE};
use super::coordinator::Coordinator;
use super::verify::Verdict;
use crate::bittorrent::conn::{Out, PeerKey};
use crate::bittorrent::msg::{encode_into, Message};
use crate::bittorrent::state::State;
use log::{info, warn};
use std::sync::atomic::Ordering;
use std::time::Instant;

impl Coordinator {
    /// Keeps `pipeline` requests outstanding at `key`, as the picker decides.
    pub(super) fn fill_pipeline(&mut self, key: PeerKey) {
        if self.verifying >= VERIFY_QUEUE {
            return; // the verifier is behind: back-pressure instead of buffering
        }
        let State { peers, pieces, .. } = &mut self.st;
        let Some(p) = peers.get_mut(&key) else {
            return;
        };
        let pipeline = self.cfg.pipeline.max(1);
        let room = pipeline.saturating_sub(p.requests.len());
        if p.peer_choking || !p.am_interested || room == 0 {
            return;
        }
        let (reqs, picked) = pieces.next_requests(key, &p.has, room);
        if reqs.is_empty() {
            return;
        }
        let mut b = Vec::with_capacity(17 * reqs.len());
        for &(index, begin, length) in &reqs {
            encode_into(
                &Message::Request {
                    index,
                    begin,
                    length,
                },
                &mut b,
            );
        }
        p.requests.extend(reqs);
        for (piece, reason) in picked {
            self.emit(NodeEvent::Picked { piece, reason });
        }
        self.send(vec![(key, Out::Bytes(b))]);
    }

    pub(super) fn on_verdict(&mut self, v: Verdict) {
        self.verifying = self.verifying.saturating_sub(1);
        self.refill = true;
        if v.written {
            let sends = self.st.we_have(v.index);
            self.published.have[v.index].store(true, Ordering::Release);
            self.published
                .have_count
                .store(self.st.pieces.have_count, Ordering::Release);
            self.send(sends);
            if self.st.pieces.is_complete() {
                self.complete();
            }
            return;
        }
        self.st.pieces.verified(v.index, false);
        if v.ok {
            return; // a disk error: the piece will simply be fetched again
        }
        // Blame only a peer that sent the whole piece alone: in a piece two peers
        // filled (endgame, a choke mid-piece) we cannot tell who lied, so it is
        // simply fetched again and the liar is caught on one of its own pieces.
        let [from] = v.from[..] else {
            warn!("piece {} failed its SHA-1 check (several senders)", v.index);
            return;
        };
        if let Some(key) = self.st.bad_piece(from, v.index) {
            self.drop_peer(key, "sent too many bad pieces");
        }
    }

    fn complete(&mut self) {
        if let Err(e) = self.ctx.storage.finish() {
            warn!("all pieces verified, but the files keep their .part names: {e}");
        }
        let _ = self.published.completed_at.set(Instant::now());
        info!(
            "download complete: all {} pieces verified",
            self.st.pieces.len()
        );
        self.published.complete.store(true, Ordering::Release);
        self.done_tx.take();
        let _ = self.completed_tx.send(());
        self.emit(NodeEvent::Completed);
    }
}
