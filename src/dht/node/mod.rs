//! A ring node: bind, the public handle ([`Node`]), stop.
//!
//! | file | role |
//! |---|---|
//! | `mod.rs` | [`Node`]: start (bind, spawn the threads) |
//! | `handle.rs` | join, put/get/lookup, snapshots: what the handle asks |
//! | `leave.rs` | leave (notices from the node's own socket), stop, drop |
//! | `coordinator.rs` | the one thread that owns the node's state: a `select!` over requests, commands, workers' results and rounds due |
//! | `answer.rs` | what the node answers to each request (state in, answer out) |
//! | `maintain.rs` | the rounds: stabilize, fix-fingers, check-predecessor, replicate |
//! | `jobs.rs` | the two workers that make the node's outgoing calls (the store worker started at its first job) |
//! | `fingers.rs` | the calls of a fix-fingers round: confirm, walk back, look up |
//!
//! ```text
//!   Node::start ─► bind one UDP socket (the node's address and id)
//!              ├─► reader "dht-recv-ADDR"        datagrams → requests (rpc/serve.rs)
//!              ├─► coordinator "dht-node-ADDR"   owns State, decides, replies
//!              └─► worker "dht-maint-ADDR" (blocking calls); "dht-store-ADDR"
//!                  is started by the coordinator at the first STORE job
//!   join(known) ─► lookup_via(known, my id) = my successor ─► stabilize now
//!   lookup(id)  ─► the coordinator's first step, then the walk on the caller's thread
//!   leave()     ─► keys to successor; stop the threads; both neighbours told from
//!                  the node's own socket (a notice counts only from the leaver)
//!   stop()      ─► a crash as the ring sees it: no goodbye, threads joined
//! ```

mod answer;
mod coordinator;
mod fingers;
mod handle;
mod jobs;
mod leave;
mod maintain;

use super::error::DhtError;
use super::id::{Id, MAX_BITS};
use super::policy::NodeRef;
use super::rpc::{self, Caller, Counters, Replier, SEND_TIMEOUT, STOP_CHECK};
use super::state::Config;
use crate::locate::Traffic;
use coordinator::{Command, Coordinator, Wiring};
use crossbeam_channel::{bounded, Sender};
use std::net::UdpSocket;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Requests received but not yet taken by the coordinator. The reader drops a datagram
/// that finds it full (the caller retries), as a busy UDP server does.
pub const EVENT_QUEUE: usize = 1024;
/// Longest wait for the coordinator to answer the handle. It answers in microseconds.
pub const ASK_TIMEOUT: Duration = Duration::from_secs(10);
/// Threads of one node: reader, coordinator, maintenance worker; a fourth, the store
/// worker, starts at the node's first STORE job (a ring without keys never has one).
/// Four from the start did not fit 4,096 nodes in one process: each thread takes four
/// memory maps (stack, its guard page, the signal stack and its guard), and 16,384
/// threads need 65,536 maps, above `vm.max_map_count` (65,530).
pub const THREADS_PER_NODE: usize = 3;
/// Stack of each of a node's threads. Measured with [`STACK_KIB_ENV`]: the lookup,
/// bad-input, paging and join/leave tests of `tests/dht.rs` (release build) pass with
/// 16 KiB, the smallest stack the platform gives a thread (PTHREAD_STACK_MIN); this is
/// four times that, for debug builds and deeper log formatting. Only touched pages
/// count as resident memory, so the size matters for address space and map count
/// (4,096 nodes: 16,384 stacks), hardly for RSS.
pub const STACK_SIZE: usize = 64 * 1024;
/// Environment variable that overrides [`STACK_SIZE`] (in KiB), to measure how small a
/// stack the node's threads survive on.
pub const STACK_KIB_ENV: &str = "P2PLAB_DHT_STACK_KIB";

pub struct Node {
    me: NodeRef,
    cfg: Config,
    caller: Caller,
    commands: Sender<Command>,
    sock: Arc<UdpSocket>,
    traffic: Traffic,
    counters: Arc<Counters>,
    /// Tells the reader to end (it checks after each datagram and each `STOP_CHECK`).
    stopping: Arc<AtomicBool>,
    /// Dropping it tells the coordinator and the workers to end.
    stop_tx: Option<Sender<()>>,
    threads: Vec<JoinHandle<()>>,
    /// Threads started later by the coordinator (the store worker), joined after it.
    late: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

/// Spawns one of a node's threads, named, on a [`STACK_SIZE`] stack.
fn spawn(name: String, f: impl FnOnce() + Send + 'static) -> std::io::Result<JoinHandle<()>> {
    static STACK: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let stack = *STACK.get_or_init(|| {
        let kib = std::env::var(STACK_KIB_ENV)
            .ok()
            .and_then(|v| v.parse().ok());
        kib.map_or(STACK_SIZE, |k: usize| k * 1024)
    });
    std::thread::Builder::new()
        .name(name)
        .stack_size(stack)
        .spawn(f)
}

impl Node {
    /// Binds `listen` (port 0 picks one) as a ring of one. Its id is the hash of the
    /// address it is bound to, which is also what it tells other nodes to call: so
    /// `0.0.0.0` (every interface) is refused, as no other host could reach it there.
    pub fn start(listen: &str, cfg: Config) -> Result<Node, DhtError> {
        if cfg.bits == 0 || cfg.bits > MAX_BITS {
            return Err(DhtError::Config("bits must be 1..=160"));
        }
        let sock = UdpSocket::bind(listen)?;
        sock.set_read_timeout(Some(STOP_CHECK))?;
        sock.set_write_timeout(Some(SEND_TIMEOUT))?;
        let addr = sock.local_addr()?;
        if addr.ip().is_unspecified() {
            return Err(DhtError::Config(
                "bind a specific address (the host's own), not 0.0.0.0: a ring node's address is its id and what other nodes call",
            ));
        }
        let me = NodeRef {
            id: Id::of_addr(&addr, cfg.bits),
            addr,
        };
        let traffic = Traffic::new();
        let out = Replier {
            sock: Arc::new(sock),
            traffic: traffic.clone(),
            counters: Arc::new(Counters::default()),
        };
        let (stop_tx, stop) = bounded::<()>(0);
        let (events, incoming) = bounded(EVENT_QUEUE);
        let (commands, commands_rx) = bounded(64);
        let (done_tx, done) = bounded(64);
        let (maint, maint_rx) = bounded(jobs::MAINT_QUEUE);
        let (store, store_rx) = bounded(jobs::STORE_QUEUE);
        let caller = Caller::new(me, cfg.bits, cfg.pool, traffic.clone());
        // Built first, so that a failed spawn below drops it, which joins what started.
        let mut node = Node {
            me,
            cfg: cfg.clone(),
            caller: caller.clone(),
            commands,
            sock: out.sock.clone(),
            traffic,
            counters: out.counters.clone(),
            stopping: Arc::new(AtomicBool::new(false)),
            stop_tx: Some(stop_tx),
            threads: Vec::new(),
            late: Arc::default(),
        };
        let ctx = rpc::Ctx {
            out: out.clone(),
            bits: cfg.bits,
            events,
            stop: node.stopping.clone(),
        };
        node.threads
            .push(spawn(format!("dht-recv-{addr}"), move || rpc::reader(ctx))?);
        let worker = |name: &str, rx| {
            let (c, d, s) = (caller.clone(), done_tx.clone(), stop.clone());
            let name = format!("dht-{name}-{addr}");
            move || spawn(name, move || jobs::worker(c, rx, d, s))
        };
        node.threads.push(worker("maint", maint_rx)()?);
        let store_worker = jobs::Lazy {
            spawn: Some(Box::new(worker("store", store_rx))),
            started: node.late.clone(),
        };
        let w = Wiring {
            incoming,
            commands: commands_rx,
            done,
            maint,
            store,
            store_worker,
            stop,
            out,
        };
        let coordinator = Coordinator::new(me, cfg, w);
        node.threads
            .push(spawn(format!("dht-node-{addr}"), move || {
                coordinator.run()
            })?);
        Ok(node)
    }
}
