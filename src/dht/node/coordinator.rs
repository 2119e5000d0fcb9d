//! The coordinator: one thread per node that owns its [`State`] and makes every decision.
//!
//! ```text
//!               reader ──Incoming───┐
//!   handle (Node) ──Command─────────┤
//!               workers ──Done──────┼──► select! ──► answer.rs / maintain.rs ──► state
//!   rounds due: stabilize, fingers, │         │
//!          check-pred, replicate ───┘         ├──reply (send_to, never waits)──► caller
//!                                             └──Job (try_send)──► a worker
//! ```
//!
//! It never blocks on a socket or on a full queue. A reply is one `send_to` with a send
//! timeout of `rpc::SEND_TIMEOUT`; one that does not fit is dropped and counted, and the
//! caller retries. A reply that waits for a job (a put's replicas, a hand-over) is sent
//! when the job is done, to the address and transaction id it answers. UDP keeps no
//! order between requests, so nothing else waits for it.

use super::answer::{answer, Answer};
use super::jobs::{Done, Job, Lazy};
use super::maintain::Rounds;
use crate::dht::id::Id;
use crate::dht::msg::{Entry, Reply, Request};
use crate::dht::policy::{next_step, NodeRef, Routing, Step};
use crate::dht::rpc::{Incoming, Replier};
use crate::dht::state::*;
use crossbeam_channel::{select, Receiver, Sender};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Base periods of the rounds, in the order `Coordinator::round` numbers them:
/// stabilize, fix-fingers, check-predecessor, replicate.
const ROUNDS: [Duration; 4] = [
    STABILIZE_EVERY,
    FIX_FINGERS_EVERY,
    CHECK_PREDECESSOR_EVERY,
    REPLICATE_EVERY,
];

/// What the public handle asks of its coordinator; each question carries its reply channel.
pub(crate) enum Command {
    Snapshot(Sender<Snapshot>),
    /// The values held here under a key, if the key is held at all.
    Holds(Vec<u8>, Sender<Option<BTreeSet<Vec<u8>>>>),
    /// Every entry held here (to list keys, or to hand over on leave).
    Entries(Sender<Vec<Entry>>),
    /// This node's own lookup step, where a lookup it starts begins.
    Step(Id, Routing, Sender<Step>),
    /// Nodes a lookup found dead.
    Forget(Vec<NodeRef>),
    /// We joined: `succ` owns our id; `bootstrap` is where to start again if all fail.
    Joined {
        bootstrap: SocketAddr,
        succ: NodeRef,
    },
}

/// The channels the coordinator listens on and the queues it feeds.
pub(crate) struct Wiring {
    pub incoming: Receiver<Incoming>,
    pub commands: Receiver<Command>,
    pub done: Receiver<Done>,
    pub maint: Sender<Job>,
    pub store: Sender<Job>,
    /// The thread that takes `store`'s jobs, started at the first.
    pub store_worker: Lazy,
    pub stop: Receiver<()>,
    /// The node's socket, to reply on.
    pub out: Replier,
}

pub(crate) struct Coordinator {
    me: NodeRef,
    cfg: Config,
    st: State,
    rounds: Rounds,
    w: Wiring,
}

impl Coordinator {
    pub fn new(me: NodeRef, cfg: Config, w: Wiring) -> Coordinator {
        Coordinator {
            me,
            st: State::new(cfg.bits, cfg.store_bytes),
            cfg,
            rounds: Rounds::default(),
            w,
        }
    }

    /// The loop: until the node stops. Each round kind is due at its own instant; the
    /// loop waits for a message or the next due round, whichever comes first.
    pub fn run(mut self) {
        let mut due = [Instant::now(); 4];
        for (k, d) in due.iter_mut().enumerate() {
            *d += self.period(k);
        }
        loop {
            let next = due.iter().min().copied().unwrap_or_else(Instant::now);
            let wait = next.saturating_duration_since(Instant::now());
            select! {
                recv(self.w.incoming) -> ev => match ev {
                    Ok(ev) => self.answer(ev),
                    Err(_) => return,
                },
                recv(self.w.commands) -> c => match c {
                    Ok(c) => self.on_command(c),
                    Err(_) => return, // the handle is gone
                },
                recv(self.w.done) -> d => if let Ok(d) = d {
                    self.on_done(d);
                },
                recv(self.w.stop) -> _ => return,
                default(wait) => {},
            }
            let now = Instant::now();
            for (k, d) in due.iter_mut().enumerate() {
                if now >= *d {
                    self.round(k);
                    *d = now + self.period(k);
                }
            }
        }
    }

    /// Round kind `k`'s period now: its base ([`ROUNDS`]) at this node's time scale, for
    /// the ring's size as this node estimates it.
    fn period(&self, k: usize) -> Duration {
        let n = self.st.estimate_n(&self.me, self.cfg.bits);
        self.cfg.period(ROUNDS[k], n)
    }

    /// Starts round kind `k` (in [`ROUNDS`] order), if it is not sitting out.
    fn round(&mut self, k: usize) {
        let job = match k {
            0 => self.rounds.stabilize(&self.me, &self.cfg, &mut self.st),
            1 => self.rounds.fix_fingers(&self.cfg, &self.st),
            2 => self.rounds.check_predecessor(&self.st),
            _ => self.rounds.replicate(&self.me, &self.cfg, &self.st),
        };
        self.maint(job);
    }

    fn answer(&mut self, ev: Incoming) {
        let Incoming { from, head, req } = ev;
        if matches!(
            req,
            Request::PredLeaving { .. } | Request::SuccLeaving { .. }
        ) {
            self.rounds.churn(); // a neighbour changes: look again soon
        }
        let pred = self.st.pred;
        let a = answer(&self.me, &self.cfg, &mut self.st, from, req);
        if self.st.pred != pred {
            self.rounds.churn(); // a NOTIFY that changed our predecessor
        }
        match a {
            Answer::Reply(rep) => self.w.out.reply(from, head, &rep),
            Answer::ReplyThen(rep, job) => {
                self.w.out.reply(from, head, &rep);
                self.maint(Some(job));
            }
            Answer::After(Job::Store { to, entries, .. }) => {
                let job = Job::Store {
                    to,
                    entries,
                    answer: Some((from, head)),
                };
                if !self.w.store_worker.ensure() || self.w.store.try_send(job).is_err() {
                    // Too busy to wait: answer now; replication rounds catch up.
                    self.w.out.reply(from, head, &Reply::Ok);
                }
            }
            Answer::After(other) => {
                self.maint(Some(other));
                self.w.out.reply(from, head, &Reply::Ok);
            }
            Answer::Refuse(e) => self.w.out.refuse(from, head, &e),
        }
    }

    /// Hands a job to the maintenance worker, or skips it if the worker is behind.
    fn maint(&mut self, job: Option<Job>) {
        let Some(job) = job else { return };
        if let Err(e) = self.w.maint.try_send(job) {
            let job = e.into_inner();
            log::debug!("{}: maintenance worker busy, round skipped", self.me.addr);
            self.rounds.skipped(&job);
        }
    }

    fn on_done(&mut self, d: Done) {
        match d {
            Done::Stored {
                answer: Some((to, head)),
            } => self.w.out.reply(to, head, &Reply::Ok),
            d => self.rounds.finished(&self.me, &self.cfg, &mut self.st, d),
        }
    }

    fn on_command(&mut self, c: Command) {
        let st = &mut self.st;
        match c {
            Command::Snapshot(tx) => {
                let _ = tx.send(Snapshot {
                    me: self.me,
                    pred: st.pred,
                    succs: st.succs.clone(),
                    fingers: st.fingers.clone(),
                    keys: st.store.len(),
                    stored_bytes: st.store.bytes(),
                    evicted: st.store.evicted(),
                });
            }
            Command::Holds(key, tx) => {
                let _ = tx.send(st.store.contains(&key).then(|| st.store.get(&key)));
            }
            Command::Entries(tx) => {
                let _ = tx.send(st.store.all());
            }
            Command::Step(id, routing, tx) => {
                let step = next_step(
                    &self.me,
                    &st.succs,
                    &st.fingers,
                    &id,
                    routing,
                    crate::dht::lookup::STEP_NODES,
                );
                let _ = tx.send(step);
            }
            Command::Forget(nodes) => {
                nodes.iter().for_each(|n| st.forget(n));
                self.rounds.churn();
            }
            Command::Joined { bootstrap, succ } => {
                self.rounds.churn();
                st.bootstrap = Some(bootstrap);
                st.pred = None;
                if succ != self.me {
                    st.set_successors(&self.me, self.cfg.bits, vec![succ]);
                }
                // One stabilize round at once, so the successor learns of us (and hands
                // us our keys) without waiting for the timer.
                let job = self.rounds.stabilize(&self.me, &self.cfg, &mut self.st);
                self.maint(job);
            }
        }
    }
}
