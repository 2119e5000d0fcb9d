//! The coordinator (`bt-coord`): the one thread that owns a node's [`State`] and makes
//! every decision: which block to ask each peer for (`policy/pick.rs`), whom to unchoke
//! (`policy/choke.rs`, every 10 s × `time_scale`, the optimistic slot every 30 s),
//! which requests to answer, whom to tell `have`, whom to call, whom to drop.
//!
//! ```text
//!   connections ──Event (Up, Msgs, Down)──┐
//!   bt-verify   ──Verdict─────────────────┤
//!   handle, announcer ──Cmd───────────────┼──► select! ──► State ──► Out ──try_send──► writers
//!   tick (rechoke period) ────────────────┘
//! ```
//! It never touches a socket: it hands messages to each connection's bounded queue with
//! `try_send`, and a peer whose queue is full (it stopped reading) is dropped. Its
//! download side (requests, verdicts) is in `download.rs`.

use super::api::{peer_stats, ClientConfig, Cmd, Inputs, NodeEvent, Published};
use crate::bittorrent::conn::{self, Ctx, Event, In, Out, PeerKey};
use crate::bittorrent::policy::choke::{
    rechoke, Unchoke, OPTIMISTIC_PERIOD, RECHOKE_PERIOD, SNUB_PERIOD,
};
use crate::bittorrent::state::pieces::Finished;
use crate::bittorrent::state::{Sends, State};
use crossbeam_channel::{select, Sender, TrySendError};
use log::{debug, info};
use std::collections::BTreeMap;
use std::net::Shutdown;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Items one turn of the loop handles at most before it writes (see `drain`).
const DRAIN: usize = 64;

pub struct Coordinator {
    pub ctx: Arc<Ctx>,
    pub st: State,
    pub cfg: ClientConfig,
    pub published: Arc<Published>,
    pub verify_tx: Sender<Finished>,
    /// Pieces handed to the verifier and not answered yet.
    pub verifying: usize,
    /// Dropped when the download completes: wakes `wait_complete`.
    pub done_tx: Option<Sender<()>>,
    /// Tells the announcer to announce `completed`.
    pub completed_tx: Sender<()>,
    /// Some peer's requests were released: every pipeline may have room.
    pub refill: bool,
    /// Our small messages to each peer in this turn of the loop (haves, requests),
    /// written together at its end: one write, one wake-up of the peer's reader.
    pub corked: BTreeMap<PeerKey, Vec<u8>>,
}

impl Coordinator {
    /// A period of the notes (10 s, 30 s) scaled by the node's `time_scale`.
    pub(super) fn scaled(&self, d: Duration) -> Duration {
        d.mul_f64(self.cfg.scale()).max(Duration::from_millis(20))
    }

    /// Runs until the node stops. Rechokes every [`RECHOKE_PERIOD`] (scaled); every
    /// third rechoke moves the optimistic slot ([`OPTIMISTIC_PERIOD`]).
    pub fn run(mut self, inputs: Inputs) {
        let period = self.scaled(RECHOKE_PERIOD);
        let every = (OPTIMISTIC_PERIOD.as_secs_f64() / RECHOKE_PERIOD.as_secs_f64())
            .round()
            .max(1.0) as u64;
        let (mut round, mut next_tick) = (0u64, Instant::now() + period);
        if self.st.pieces.is_complete() {
            self.done_tx.take();
        }
        loop {
            let wait = next_tick.saturating_duration_since(Instant::now());
            select! {
                recv(inputs.stop) -> _ => break,
                recv(inputs.events) -> e => match e {
                    Ok(e) => self.on_event(e),
                    Err(_) => break,
                },
                recv(inputs.verdicts) -> v => match v {
                    Ok(v) => self.on_verdict(v),
                    Err(_) => break,
                },
                recv(inputs.cmds) -> c => match c {
                    Ok(c) => self.on_cmd(c),
                    Err(_) => break,
                },
                default(wait) => {}
            }
            self.drain(&inputs);
            if Instant::now() >= next_tick {
                round += 1;
                self.expire_requests();
                self.mark_useful_peers();
                self.rechoke_round(round.is_multiple_of(every));
                next_tick = Instant::now() + period;
            }
            if std::mem::take(&mut self.refill) {
                let keys: Vec<PeerKey> = self.st.peers.keys().copied().collect();
                keys.into_iter().for_each(|k| self.fill_pipeline(k));
            }
            self.uncork();
        }
        self.finish();
    }

    /// Handles what else is already waiting, up to [`DRAIN`] items, before this turn's
    /// messages go out: a `have` and the requests that follow a verdict then leave in
    /// one write, and the peer's reader wakes once, not twice.
    fn drain(&mut self, inputs: &Inputs) {
        for _ in 0..DRAIN {
            if let Ok(v) = inputs.verdicts.try_recv() {
                self.on_verdict(v);
            } else if let Ok(e) = inputs.events.try_recv() {
                self.on_event(e);
            } else {
                return;
            }
        }
    }

    /// Hands messages to the connections' queues; a full queue drops that peer.
    /// Encoded messages wait in `corked` until the end of this turn of the loop; a
    /// `Serve` or `Counters` goes after what is corked for its peer, in order.
    pub(super) fn send(&mut self, sends: Sends) {
        let mut now = Vec::new();
        for (key, out) in sends {
            match out {
                Out::Bytes(b) => self.corked.entry(key).or_default().extend_from_slice(&b),
                out => {
                    if let Some(b) = self.corked.remove(&key) {
                        now.push((key, Out::Bytes(b)));
                    }
                    now.push((key, out));
                }
            }
        }
        self.push(now);
    }

    /// Writes what was corked in this turn of the loop.
    fn uncork(&mut self) {
        let corked = std::mem::take(&mut self.corked);
        self.push(
            corked
                .into_iter()
                .map(|(k, b)| (k, Out::Bytes(b)))
                .collect(),
        );
    }

    fn push(&mut self, sends: Sends) {
        let mut dead = Vec::new();
        for (key, out) in sends {
            let Some(p) = self.st.peers.get(&key) else {
                continue;
            };
            match p.link.push(out) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => {
                    dead.push((key, "it stopped reading (send queue full)"))
                }
                Err(TrySendError::Disconnected(_)) => dead.push((key, "its writer has ended")),
            }
        }
        for (key, why) in dead {
            self.drop_peer(key, why);
        }
    }

    pub(super) fn drop_peer(&mut self, key: PeerKey, why: &str) {
        self.corked.remove(&key);
        if let Some(p) = self.st.unregister(key) {
            info!("dropping peer {}: {why}", p.link.addr);
            let _ = p.link.stream.shutdown(Shutdown::Both);
            self.published
                .peers
                .store(self.st.peers.len(), Ordering::Relaxed);
            self.refill = true;
        }
    }

    pub(super) fn emit(&self, e: NodeEvent) {
        if let Some(tx) = &self.cfg.events {
            let _ = tx.send((self.ctx.peer_id, e));
        }
    }

    fn on_event(&mut self, e: Event) {
        match e {
            Event::Up(link) => match self.register(*link) {
                Ok(sends) => {
                    self.published
                        .peers
                        .store(self.st.peers.len(), Ordering::Relaxed);
                    self.send(sends);
                }
                Err((link, why)) => {
                    info!("refusing peer {}: {why}", link.addr);
                    let _ = link.stream.shutdown(Shutdown::Both);
                }
            },
            Event::Msgs { key, batch } => {
                for m in batch {
                    if !self.st.peers.contains_key(&key) {
                        return; // dropped while handling this batch
                    }
                    self.on_msg(key, m);
                }
                self.fill_pipeline(key);
            }
            Event::Down {
                key,
                addr,
                outgoing,
                why,
            } => {
                if self.st.peers.contains_key(&key) {
                    debug!("peer {addr} gone: {why}");
                    self.drop_peer(key, &why);
                }
                if outgoing {
                    self.st.dialed.remove(&addr);
                }
            }
            Event::DialFailed(addr) => {
                self.st.dialed.remove(&addr);
            }
        }
    }

    fn on_msg(&mut self, key: PeerKey, m: In) {
        let sends = match m {
            In::Choke => {
                if let Some(p) = self.st.peers.get_mut(&key) {
                    p.peer_choking = true;
                    // The peer drops our pending requests: other peers may take them over.
                    let reqs = std::mem::take(&mut p.requests);
                    self.st.pieces.release(key, &reqs);
                    self.refill = true;
                }
                Vec::new()
            }
            In::Unchoke => {
                if let Some(p) = self.st.peers.get_mut(&key) {
                    p.peer_choking = false;
                }
                Vec::new()
            }
            In::Interested | In::NotInterested => {
                let yes = matches!(m, In::Interested);
                if let Some(p) = self.st.peers.get_mut(&key) {
                    p.interested = yes;
                    if yes {
                        p.last_useful = Instant::now();
                    }
                }
                let seeding = self.st.pieces.is_complete();
                let st = &mut self.st;
                if self.cfg.free_rider {
                    Vec::new()
                } else if yes {
                    let slots = (self.cfg.upload_slots, seeding);
                    st.slots
                        .on_interested(&mut st.peers, key, self.cfg.choker, slots)
                } else {
                    st.slots
                        .on_not_interested(&mut st.peers, key, self.cfg.choker, seeding)
                }
            }
            In::Have(i) => self.st.peer_has(key, i),
            In::Bitfield(b) => self.st.peer_bitfield(key, b),
            In::Block { index, begin, data } => self.on_block(key, index, begin, data),
        };
        self.send(sends);
    }

    /// One rechoke: rates over the period just ended, then the choker's decision.
    fn rechoke_round(&mut self, rotate: bool) {
        let seeding = self.st.pieces.is_complete();
        let (snub, new) = (self.scaled(SNUB_PERIOD), self.scaled(OPTIMISTIC_PERIOD));
        let State { peers, slots, .. } = &mut self.st;
        let views = slots.views(peers, snub, new);
        let u = if self.cfg.free_rider {
            Unchoke::default()
        } else {
            let (n, policy) = (self.cfg.upload_slots, self.cfg.choker);
            let opt = slots.optimistic;
            rechoke(&views, seeding, n, opt, rotate, policy, &mut slots.rng)
        };
        let sends = slots.set(peers, u);
        self.send(sends);
        let id = |k: &PeerKey| self.st.peers.get(k).map(|p| p.link.peer_id);
        let slots = &self.st.slots;
        let event = NodeEvent::Rechoke {
            seeding,
            regular: slots.regular.iter().filter_map(id).collect(),
            optimistic: slots.optimistic.as_ref().and_then(id),
        };
        self.emit(event);
    }

    fn on_cmd(&mut self, c: Cmd) {
        match c {
            Cmd::MayDial(addr, reply) => {
                let ok = !self.st.banned.contains(&addr) && self.st.dialed.insert(addr);
                let _ = reply.send(ok);
            }
            Cmd::Undial(addr) => {
                self.st.dialed.remove(&addr);
            }
            Cmd::Peers(list) => {
                let want = self.cfg.neighbours.max(1).min(self.cfg.max_peers);
                for addr in self.st.choose_calls(list, want) {
                    conn::dial(&self.ctx, addr);
                }
            }
            Cmd::PeerStats(reply) => {
                let _ = reply.send(peer_stats(&self.st, true));
            }
        }
    }

    /// The node stops: close every connection, leave the last figures.
    fn finish(mut self) {
        for p in std::mem::take(&mut self.st.peers).into_values() {
            let _ = p.link.stream.shutdown(Shutdown::Both);
        }
        self.published.peers.store(0, Ordering::Relaxed);
        let _ = self.published.final_stats.set(peer_stats(&self.st, false));
    }
}
