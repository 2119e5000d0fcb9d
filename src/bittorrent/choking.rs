//! The node's side of choking: the `bt-choke` timer thread, which measures each peer's
//! rate over the last period, asks the pure [`choker`](super::choker) whom to unchoke,
//! and tells the connections that change. A newly interested peer does not wait for
//! the next period when a slot is free.

use super::choker::{
    rechoke, ChokePolicy, PeerView, OPTIMISTIC_PERIOD, RECHOKE_PERIOD, SNUB_PERIOD,
};
use super::state::{Cmd, NodeEvent, PeerKey, Shared, State};
use crossbeam_channel::{select, Receiver};
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Rechokes every [`RECHOKE_PERIOD`] (scaled); every third one moves the optimistic slot.
pub(crate) fn choker_thread(shared: &Shared, stop: &Receiver<()>) {
    let period = shared.scaled(RECHOKE_PERIOD);
    let every = (OPTIMISTIC_PERIOD.as_secs_f64() / RECHOKE_PERIOD.as_secs_f64())
        .round()
        .max(1.0) as u64;
    let mut round = 0u64;
    loop {
        select! {
            recv(stop) -> _ => return,
            default(period) => {}
        }
        round += 1;
        shared.rechoke_round(round.is_multiple_of(every));
    }
}

impl Shared {
    /// One rechoke: rates over the period just ended, then the choker's decision.
    pub fn rechoke_round(&self, rotate: bool) {
        let seeding = self.is_complete();
        let mut st = self.lock();
        let now = Instant::now();
        let secs = now.duration_since(st.last_rechoke).as_secs_f64().max(1e-3);
        st.last_rechoke = now;
        let (snub, new) = (self.scaled(SNUB_PERIOD), self.scaled(OPTIMISTIC_PERIOD));
        let mut views = Vec::with_capacity(st.peers.len());
        for (&key, p) in st.peers.iter_mut() {
            let down = p.counters.down.load(Ordering::Relaxed);
            let up = p.counters.up.load(Ordering::Relaxed);
            views.push(PeerView {
                key,
                interested: p.interested,
                down_rate: (down - p.last_down) as f64 / secs,
                up_rate: (up - p.last_up) as f64 / secs,
                snubbed: p.we_interested && now.duration_since(p.last_block) > snub,
                is_new: now.duration_since(p.connected_at) < new,
            });
            (p.last_down, p.last_up) = (down, up);
        }
        let u = if self.policy.free_rider {
            Default::default()
        } else {
            let opt = st.optimistic;
            rechoke(
                &views,
                seeding,
                self.upload_slots,
                opt,
                rotate,
                self.policy.choke,
                &mut st.choke_rng,
            )
        };
        st.regular = u.regular;
        st.optimistic = u.optimistic;
        apply(&mut st);
        let id = |k: &PeerKey| st.peers.get(k).map(|p| p.peer_id);
        let event = NodeEvent::Rechoke {
            seeding,
            regular: st.regular.iter().filter_map(id).collect(),
            optimistic: st.optimistic.as_ref().and_then(id),
        };
        drop(st);
        self.emit(event);
    }

    /// A peer became interested: unchoke it now if a slot is free. A seed fills its
    /// regular slots; a leecher only offers its optimistic slot (regular slots are
    /// earned by uploading, at the next rechoke).
    pub fn on_interested(&self, st: &mut State, key: PeerKey) {
        if self.policy.free_rider || st.regular.contains(&key) || st.optimistic == Some(key) {
            return;
        }
        if self.policy.choke == ChokePolicy::UnchokeAll
            || (self.is_complete() && st.regular.len() < self.upload_slots)
        {
            st.regular.push(key);
        } else if st.optimistic.is_none() {
            st.optimistic = Some(key);
        }
        apply(st);
    }
}

/// Sends Choke/Unchoke to the connections whose slot changed.
fn apply(st: &mut State) {
    let (regular, optimistic) = (&st.regular, st.optimistic);
    for (key, p) in st.peers.iter_mut() {
        let opt = optimistic == Some(*key);
        let want = opt || regular.contains(key);
        if want {
            // Also sent when only the kind of slot changes: the connection counts
            // bytes per kind, and repeats no unchoke on the wire.
            let _ = p.tx.send(Cmd::Unchoke { optimistic: opt });
        } else if p.unchoked {
            let _ = p.tx.send(Cmd::Choke);
        }
        p.unchoked = want;
    }
}
