//! The thread-per-connection server (the Rust Book's last chapter, grown up a little).
//!
//! ```text
//!   accept thread ──accept()──► spawn "<name>-conn-127.0.0.1:40112" ──► handler(stream)
//!         │                                    ... one thread per peer ...
//!   stop(): flag + shutdown(listener) ─► accept returns ─► shut sockets ─► join all
//! ```
//!
//! `std::net::TcpListener` has no way to interrupt a blocked `accept`. `stop` sets a
//! flag and shuts the listening socket down (`shutdown(2)`, the one system call std
//! lacks): accept returns, sees the flag, and ends.

use super::conns::{ConnResult, Conns};
use crossbeam_channel::{bounded, RecvTimeoutError, Sender};
use log::{debug, info, warn};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// A handler for a connection refused because the server is full (a Gnutella servent
/// answers `503` with other addresses to try). It runs on the accept thread: keep it short.
pub type OnFull = Arc<dyn Fn(TcpStream) + Send + Sync>;

/// How a server treats its connections.
#[derive(Clone)]
pub struct ServerConfig {
    /// Prefix of every thread name, e.g. `napster-server`.
    pub name: String,
    /// Connections served at once; one more is refused (closed, or given to `on_full`).
    pub max_conns: usize,
    /// A peer silent for this long is dropped. `None` only for protocols with no silence
    /// limit of their own, and then their threads still end at `stop`.
    pub read_timeout: Option<Duration>,
    /// A peer that stops reading for this long is dropped.
    pub write_timeout: Option<Duration>,
    /// The opening phase (a request head, a handshake, a login) must be over this long
    /// after accept, however the peer paces its bytes; the connection thread says it is
    /// over with [`established`](super::established). `None`: no opening deadline.
    pub opening_deadline: Option<Duration>,
    /// Connections one source address may hold at once; one more is refused.
    pub max_per_addr: usize,
    /// When full, close the least useful connection ([`least_useful`](super::least_useful))
    /// to admit the newcomer, instead of refusing the newcomer.
    pub evict_when_full: bool,
    pub on_full: Option<OnFull>,
}

impl ServerConfig {
    /// Defaults: 1024 connections, 60 s read and write timeouts; no opening deadline,
    /// no per-address cap, and a full server refuses (each listener opts in to the defences).
    pub fn new(name: &str) -> ServerConfig {
        ServerConfig {
            name: name.to_string(),
            max_conns: 1024,
            read_timeout: Some(Duration::from_secs(60)),
            write_timeout: Some(Duration::from_secs(60)),
            opening_deadline: None,
            max_per_addr: usize::MAX,
            evict_when_full: false,
            on_full: None,
        }
    }
}

/// A listening socket and the threads serving it. Dropping it stops it.
pub struct Server {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    conns: Conns,
    accept: Option<JoinHandle<()>>,
    /// The listening socket, shared with the accept thread: `stop` shuts it down.
    listener: TcpListener,
    /// Dropping it ends the opening-deadline watchdog.
    watchdog: Option<Sender<()>>,
}

impl Server {
    /// Binds `addr` (port 0 picks a free port) and starts accepting. Each connection
    /// runs `handler` on its own thread.
    pub fn bind<H>(addr: impl ToSocketAddrs, cfg: ServerConfig, handler: H) -> io::Result<Server>
    where
        H: Fn(TcpStream) -> ConnResult + Send + Sync + 'static,
    {
        Server::bind_with(addr, cfg, Conns::new(), handler)
    }

    /// Like [`Server::bind`], registering the connections in `conns`, so that a node's
    /// incoming and outgoing connections are stopped together.
    pub fn bind_with<H>(
        addr: impl ToSocketAddrs,
        cfg: ServerConfig,
        conns: Conns,
        handler: H,
    ) -> io::Result<Server>
    where
        H: Fn(TcpStream) -> ConnResult + Send + Sync + 'static,
    {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let stopping = Arc::new(AtomicBool::new(false));
        let handler = Arc::new(handler);
        let watchdog = match cfg.opening_deadline {
            Some(limit) => Some(watch_openings(&cfg.name, limit, &conns)?),
            None => None,
        };
        let (flag, registry) = (stopping.clone(), conns.clone());
        let own = listener.try_clone()?;
        let mut accept = thread::Builder::new().name(format!("{}-accept-{}", cfg.name, addr));
        if let Some(bytes) = conns.stack() {
            accept = accept.stack_size(bytes);
        }
        let accept = accept.spawn(move || accept_loop(listener, cfg, flag, registry, handler))?;
        Ok(Server {
            addr,
            stopping,
            conns,
            accept: Some(accept),
            listener: own,
            watchdog,
        })
    }

    /// The bound address, with the real port when bound to port 0.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The registry of this server's connections.
    pub fn conns(&self) -> &Conns {
        &self.conns
    }

    /// Stops accepting, closes every connection and joins every thread. Idempotent.
    pub fn stop(&mut self) {
        let Some(accept) = self.accept.take() else {
            return;
        };
        self.stopping.store(true, Ordering::SeqCst);
        // Shutting a listening socket down makes a blocked accept() return (Linux). A
        // wake-up connect would do too, but not from another network namespace: a
        // testnet's nodes listen on addresses only their own host can reach.
        if !shutdown_listener(&self.listener) {
            let mut wake = self.addr;
            if wake.ip().is_unspecified() {
                wake.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
            }
            let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
        }
        let _ = accept.join();
        self.watchdog = None;
        self.conns.shutdown_all();
        self.conns.join_all();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `shutdown(2)` on the listening socket; false where it failed. std has no call for it.
fn shutdown_listener(l: &TcpListener) -> bool {
    use std::os::fd::AsRawFd;
    extern "C" {
        fn shutdown(fd: i32, how: i32) -> i32;
    }
    const SHUT_RDWR: i32 = 2;
    // SAFETY: the descriptor is owned by `l`, alive for the whole call.
    unsafe { shutdown(l.as_raw_fd(), SHUT_RDWR) == 0 }
}

fn accept_loop<H>(
    listener: TcpListener,
    cfg: ServerConfig,
    stopping: Arc<AtomicBool>,
    conns: Conns,
    handler: Arc<H>,
) where
    H: Fn(TcpStream) -> ConnResult + Send + Sync + 'static,
{
    for incoming in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        let stream = match incoming {
            Ok(s) => s,
            Err(e) => {
                // Out of file descriptors, usually: back off instead of spinning.
                warn!("{}: accept failed: {e}", cfg.name);
                thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let peer = match stream.peer_addr() {
            Ok(p) => p,
            Err(_) => continue, // gone already
        };
        if stream.set_read_timeout(cfg.read_timeout).is_err()
            || stream.set_write_timeout(cfg.write_timeout).is_err()
            || stream.set_nodelay(true).is_err()
        {
            continue;
        }
        if conns.count_from(peer.ip()) >= cfg.max_per_addr {
            warn!(
                "{}: {} already holds {} connections, refusing another",
                cfg.name,
                peer.ip(),
                cfg.max_per_addr
            );
            continue;
        }
        if conns.len() >= cfg.max_conns && cfg.evict_when_full {
            if let Some(gone) = conns.evict_least_useful() {
                info!(
                    "{}: full, closed {:?} (established: {}) to admit {peer}",
                    cfg.name,
                    gone.peer(),
                    gone.is_established()
                );
            }
        } else if conns.len() >= cfg.max_conns {
            warn!(
                "{}: full ({} connections), refusing {peer}",
                cfg.name, cfg.max_conns
            );
            if let Some(on_full) = &cfg.on_full {
                on_full(stream);
            }
            continue;
        }
        debug!("{}: accepted {peer}", cfg.name);
        let h = handler.clone();
        if let Err(e) = conns.spawn(format!("{}-conn-{peer}", cfg.name), stream, move |s| h(s)) {
            warn!("{}: cannot serve {peer}: {e}", cfg.name);
        }
    }
}

/// Starts the thread that closes connections whose opening phase outlived `limit`.
/// It checks a few times per deadline, so a dawdler is gone within 1¼ deadlines.
fn watch_openings(name: &str, limit: Duration, conns: &Conns) -> io::Result<Sender<()>> {
    let (stop, stopped) = bounded::<()>(0);
    let tick = (limit / 4).clamp(Duration::from_millis(5), Duration::from_millis(250));
    let (who, registry) = (name.to_string(), conns.clone());
    conns.spawn_worker(format!("{name}-deadline"), move || loop {
        match stopped.recv_timeout(tick) {
            Err(RecvTimeoutError::Timeout) => {
                let n = registry.close_overdue(limit);
                if n > 0 {
                    info!("{who}: closed {n} connections still opening after {limit:?}");
                }
            }
            _ => return,
        }
    })?;
    Ok(stop)
}
