//! The coordinator's download side: which blocks to ask a peer for next, and what the
//! verifier's answer on a finished piece changes. Part of `bt-coord` (`coordinator.rs`).
//!
//! A peer's pipeline is refilled as soon as a block arrives. Refilling only once a
//! quarter of it was free saved wake-ups, but with it the free-rider of
//! `tests/bittorrent_swarm.rs` finished ahead of contributors in 2 of 5 runs (0 of 10
//! without), so it went. While the verifier is [`VERIFY_QUEUE`] pieces behind, no new requests go out: finished pieces
//! wait in memory for it, and that bounds how many (4 MiB by default).
//!
//! What a peer claims is checked here: a block we did not ask that peer for is dropped
//! and not credited ([`State::block`]); a peer that leaves our requests unanswered past
//! [`REQUEST_DEADLINE`] has them taken back for others and is snubbed (one request at
//! a time until it sends a block). Slots are scarce (one thread per peer), so a full
//! node closes the least useful peer to admit a newcomer: neither interested in us nor
//! sending blocks we asked for, for longest (a peer's `last_useful`); the listener's
//! own eviction ranks connections by the same figure (`net::Conns::mark_useful`).

use super::api::{NodeEvent, VERIFY_QUEUE};
use super::coordinator::Coordinator;
use super::verify::Verdict;
use crate::bittorrent::conn::{Link, Out, PeerKey};
use crate::bittorrent::msg::{encode_into, Message};
use crate::bittorrent::policy::pipeline::depth;
use crate::bittorrent::state::{Sends, State};
use log::{debug, info, warn};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// A peer that unchoked us and sends no block for this long (scaled by `time_scale`)
/// has its requests taken back: they go to the pool, for whoever is faster.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(30);
/// However small the time scale: the coordinator's generic 20 ms floor would snub a
/// sound peer whose thread a loaded machine left unscheduled for a moment, and its
/// requests would bounce between peers. One second is many round trips on any link
/// the labs use.
pub const MIN_REQUEST_DEADLINE: Duration = Duration::from_secs(1);
/// A peer useful within this long (scaled) is reported useful to the listener at each
/// rechoke: one rechoke period.
const USEFUL_GRACE: Duration = crate::bittorrent::policy::choke::RECHOKE_PERIOD;

impl Coordinator {
    /// Keeps requests outstanding at `key` for about [`QUEUE_TIME`] of its rate (at most
    /// `pipeline`), as the picker decides.
    ///
    /// [`QUEUE_TIME`]: crate::bittorrent::policy::pipeline::QUEUE_TIME
    pub(super) fn fill_pipeline(&mut self, key: PeerKey) {
        if self.verifying >= VERIFY_QUEUE {
            return; // the verifier is behind: back-pressure instead of buffering
        }
        let State { peers, pieces, .. } = &mut self.st;
        let Some(p) = peers.get_mut(&key) else {
            return;
        };
        // A snubbed peer gets one request at a time until it sends a block again.
        let pipeline = if p.snubbed {
            1
        } else {
            let down = p.counters.down.load(Ordering::Relaxed);
            depth(p.down_meter.update(down, Instant::now()), self.cfg.pipeline)
        };
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
        if p.requests.is_empty() {
            p.waiting_since = Some(Instant::now());
        }
        p.requests.extend(reqs);
        for (piece, reason) in picked {
            self.emit(NodeEvent::Picked { piece, reason });
        }
        self.send(vec![(key, Out::Bytes(b))]);
    }

    /// A block arrived: kept and credited only if we asked this peer for it.
    pub(super) fn on_block(
        &mut self,
        key: PeerKey,
        index: usize,
        begin: u32,
        data: Vec<u8>,
    ) -> Sends {
        let len = data.len() as u64;
        let Some((sends, finished)) = self.st.block(key, index, begin, data) else {
            let addr = self.st.peers.get(&key).map(|p| p.link.addr);
            debug!("dropping an unrequested block {index}+{begin} from {addr:?}");
            return Vec::new();
        };
        self.ctx.downloaded.fetch_add(len, Ordering::Relaxed);
        if let Some(f) = finished {
            self.verifying += 1;
            let _ = self.verify_tx.send(f);
        }
        sends
    }

    /// Registers a peer whose handshake is done; when full, first closes the least
    /// useful peer (the listener did the same at accept, by the same figure).
    pub(super) fn register(&mut self, link: Link) -> Result<Sends, (Link, &'static str)> {
        if self.st.peers.len() >= self.cfg.max_peers {
            if let Some(key) = least_useful(&self.st) {
                self.drop_peer(key, "full, and it is the least useful peer");
            }
        }
        let stream = link.stream.try_clone().ok();
        let sends = self.st.register(link, self.cfg.max_peers)?;
        if let Some(s) = stream {
            self.ctx.conns.mark_useful(&s); // its handshake is over
        }
        Ok(sends)
    }

    /// Takes back the requests of peers that answered none for [`REQUEST_DEADLINE`].
    pub(super) fn expire_requests(&mut self) {
        let limit = self.scaled(REQUEST_DEADLINE).max(MIN_REQUEST_DEADLINE);
        let now = Instant::now();
        let State { peers, pieces, .. } = &mut self.st;
        for p in peers.values_mut() {
            let late = p
                .waiting_since
                .is_some_and(|t| now.duration_since(t) >= limit);
            if late && !p.requests.is_empty() {
                info!(
                    "{}: {} requests unanswered for {limit:?}: taken back, peer snubbed",
                    p.link.addr,
                    p.requests.len()
                );
                let reqs = std::mem::take(&mut p.requests);
                pieces.release(p.link.key, &reqs);
                (p.snubbed, p.waiting_since) = (true, None);
                self.refill = true;
            }
        }
    }

    /// Tells the listener which connections serve us now (interested in us, or sent
    /// a block lately), so that its eviction spares them.
    pub(super) fn mark_useful_peers(&self) {
        let since = Instant::now() - self.scaled(USEFUL_GRACE);
        for p in self.st.peers.values() {
            if p.interested || p.last_useful >= since {
                self.ctx.conns.mark_useful(&p.link.stream);
            }
        }
    }

    pub(super) fn on_verdict(&mut self, v: Verdict) {
        self.verifying = self.verifying.saturating_sub(1);
        self.refill = true;
        if v.written {
            let sends = self.st.we_have(v.index);
            self.ctx.ours.set(v.index);
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
        self.ctx.ours.set_complete();
        self.done_tx.take();
        let _ = self.completed_tx.send(());
        self.emit(NodeEvent::Completed);
    }
}

/// The peer to close for a newcomer: not interested in us, and whose last useful act
/// (a requested block, an Interested; its connect time if none) is oldest. `None`:
/// every peer wants our pieces (then the newcomer is refused).
pub fn least_useful(st: &State) -> Option<PeerKey> {
    st.peers
        .iter()
        .filter(|(_, p)| !p.interested)
        .min_by_key(|(_, p)| p.last_useful)
        .map(|(k, _)| *k)
}
