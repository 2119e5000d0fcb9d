//! The coordinator: one thread per node that owns its [`State`] and makes every decision.
//!
//! ```text
//!               readers ──Incoming──┐
//!   handle (Node) ──Command─────────┤
//!               workers ──Done──────┼──► select! ──► answer.rs / maintain.rs ──► state
//!   ticks: stabilize, fix-fingers,  │         │
//!          check-pred, replicate ───┘         ├──Out (try_send)──► a connection's writer
//!                                             └──Job (try_send)──► a worker
//! ```
//!
//! It never blocks on a socket or on a full queue. A reply goes to the connection's
//! bounded queue with `try_send`; a peer whose queue is full has stopped reading and is
//! dropped (logged), not waited for. Replies on one connection keep the order of its
//! requests: while a reply waits for a job (a put's replicas), that connection's next
//! requests wait here, in a bounded list of their own.

use super::answer::{answer, Answer};
use super::jobs::{Done, Job};
use super::maintain::Rounds;
use crate::dht::conn::{Incoming, Out, OUT_QUEUE};
use crate::dht::id::Id;
use crate::dht::msg::{encode_reply, Entry, Reply, Request};
use crate::dht::policy::{next_step, NodeRef, Routing, Step};
use crate::dht::state::*;
use crossbeam_channel::{select, tick, Receiver, Sender, TrySendError};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;

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
    pub stop: Receiver<()>,
}

/// One incoming connection, as the coordinator sees it.
struct Peer {
    addr: SocketAddr,
    out: Sender<Out>,
    /// To close the socket when the peer is dropped.
    stream: Arc<TcpStream>,
    /// A reply is waiting for a job; later requests wait in `held`.
    waiting: bool,
    held: VecDeque<Request>,
}

pub(crate) struct Coordinator {
    me: NodeRef,
    cfg: Config,
    st: State,
    rounds: Rounds,
    peers: HashMap<u64, Peer>,
    w: Wiring,
}

impl Coordinator {
    pub fn new(me: NodeRef, cfg: Config, w: Wiring) -> Coordinator {
        Coordinator {
            me,
            st: State::new(cfg.bits),
            cfg,
            rounds: Rounds::default(),
            peers: HashMap::new(),
            w,
        }
    }

    /// The loop: until the node stops.
    pub fn run(mut self) {
        let every = |base| tick(self.cfg.period(base));
        let (stab, fix) = (every(STABILIZE_EVERY), every(FIX_FINGERS_EVERY));
        let (check, repl) = (every(CHECK_PREDECESSOR_EVERY), every(REPLICATE_EVERY));
        loop {
            select! {
                recv(self.w.incoming) -> ev => match ev {
                    Ok(ev) => self.on_incoming(ev),
                    Err(_) => return,
                },
                recv(self.w.commands) -> c => match c {
                    Ok(c) => self.on_command(c),
                    Err(_) => return, // the handle is gone
                },
                recv(self.w.done) -> d => if let Ok(d) = d {
                    self.on_done(d);
                },
                recv(stab) -> _ => {
                    let job = self.rounds.stabilize(&self.me, &self.cfg, &mut self.st);
                    self.maint(job);
                },
                recv(fix) -> _ => {
                    let job = self.rounds.fix_fingers(&self.me, &self.cfg, &self.st);
                    self.maint(job);
                },
                recv(check) -> _ => {
                    let job = self.rounds.check_predecessor(&self.st);
                    self.maint(job);
                },
                recv(repl) -> _ => {
                    let job = self.rounds.replicate(&self.me, &self.cfg, &self.st);
                    self.maint(job);
                },
                recv(self.w.stop) -> _ => return,
            }
        }
    }

    fn on_incoming(&mut self, ev: Incoming) {
        match ev {
            Incoming::Up {
                conn,
                peer,
                out,
                stream,
            } => {
                let p = Peer {
                    addr: peer,
                    out,
                    stream,
                    waiting: false,
                    held: VecDeque::new(),
                };
                self.peers.insert(conn, p);
            }
            Incoming::Request { conn, req } => {
                let Some(p) = self.peers.get_mut(&conn) else {
                    return; // already dropped
                };
                if !p.waiting {
                    self.answer(conn, req);
                } else if p.held.len() < OUT_QUEUE {
                    p.held.push_back(req);
                } else {
                    self.drop_peer(conn, "sends requests faster than it reads replies");
                }
            }
            Incoming::Down { conn } => {
                self.peers.remove(&conn);
            }
        }
    }

    fn answer(&mut self, conn: u64, req: Request) {
        match answer(&self.me, &self.cfg, &mut self.st, req) {
            Answer::Reply(rep) => self.reply(conn, &rep),
            Answer::ReplyThen(rep, job) => {
                self.reply(conn, &rep);
                self.maint(Some(job));
            }
            Answer::After(Job::Store { to, entries, .. }) => {
                let job = Job::Store {
                    to,
                    entries,
                    answer: Some(conn),
                };
                match self.w.store.try_send(job) {
                    Ok(()) => {
                        if let Some(p) = self.peers.get_mut(&conn) {
                            p.waiting = true;
                        }
                    }
                    // Too busy to wait: answer now; replication rounds catch up.
                    Err(_) => self.reply(conn, &Reply::Ok),
                }
            }
            Answer::After(other) => {
                self.maint(Some(other));
                self.reply(conn, &Reply::Ok);
            }
            Answer::Refuse(e) => {
                log::info!("{}: refusing a request: {e}", self.me.addr);
                let text = encode_reply(&Reply::Error(e.to_string()));
                if let Some(p) = self.peers.remove(&conn) {
                    // The writer sends it, then closes; nothing more is read from it.
                    let _ = p.out.try_send(Out::Last(text));
                }
            }
        }
    }

    /// Queues a reply; a peer whose queue is full (or whose writer has ended) is dropped.
    fn reply(&mut self, conn: u64, rep: &Reply) {
        let Some(p) = self.peers.get(&conn) else {
            return;
        };
        match p.out.try_send(Out::Frame(encode_reply(rep))) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => self.drop_peer(conn, "stopped reading its replies"),
            Err(TrySendError::Disconnected(_)) => {
                self.peers.remove(&conn);
            }
        }
    }

    fn drop_peer(&mut self, conn: u64, why: &str) {
        if let Some(p) = self.peers.remove(&conn) {
            log::info!("{}: dropping {}: {why}", self.me.addr, p.addr);
            let _ = p.stream.shutdown(Shutdown::Both);
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
            Done::Stored { answer: Some(conn) } => {
                self.reply(conn, &Reply::Ok);
                // The connection's next requests were waiting for this reply.
                if let Some(p) = self.peers.get_mut(&conn) {
                    p.waiting = false;
                }
                while let Some(p) = self.peers.get_mut(&conn) {
                    if p.waiting {
                        break;
                    }
                    let Some(req) = p.held.pop_front() else { break };
                    self.answer(conn, req);
                }
            }
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
            Command::Forget(nodes) => nodes.iter().for_each(|n| st.forget(n)),
            Command::Joined { bootstrap, succ } => {
                st.bootstrap = Some(bootstrap);
                st.pred = None;
                if succ != self.me {
                    st.set_succs(vec![succ]);
                }
                // One stabilize round at once, so the successor learns of us (and hands
                // us our keys) without waiting for the timer.
                let job = self.rounds.stabilize(&self.me, &self.cfg, &mut self.st);
                self.maint(job);
            }
        }
    }
}
