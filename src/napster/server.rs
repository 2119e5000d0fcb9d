//! The directory server: one thread per logged-in peer, one shared [`Directory`].
//!
//! ```text
//!   peer ──login(2)──► conn thread ──► Directory (RwLock) ◄── other conn threads
//!        ◄─ack(3)────        │ share(100) / search(200) / download request(203)
//!   connection closes ──► logout: every file of the peer leaves the directory
//! ```
//!
//! The server only ever answers the peer that asked, on that peer's own connection:
//! no thread writes to another's socket, and the directory lock is never held while
//! reading or writing a socket.

use super::directory::{Directory, PeerId, PeerInfo};
use super::msg::{read_msg, Msg};
use crate::net::{ConnResult, Server, ServerConfig};
use crate::wire::WireError;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Default port of a Napster server, as OpenNap used.
pub const DEFAULT_PORT: u16 = 8888;
/// Longest accepted nick.
pub const MAX_NICK: usize = 32;

/// How the server treats its peers.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Peers served at once.
    pub max_conns: usize,
    /// A connection must log in within this time, or it is dropped: a client that
    /// connects and never speaks must not hold a thread for ever.
    pub login_timeout: Duration,
    /// A logged-in peer silent this long is dropped (and its files with it).
    pub idle_timeout: Duration,
}

impl Default for ServerOptions {
    fn default() -> ServerOptions {
        ServerOptions {
            max_conns: 4096,
            login_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(600),
        }
    }
}

/// Counters the labs print: how much work the center did.
#[derive(Debug, Default)]
pub struct Stats {
    pub logins: AtomicU64,
    pub searches: AtomicU64,
    /// Bytes of Napster messages received and sent: the directory's traffic, which the
    /// lab compares with the file bytes that never pass through here.
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
}

struct Shared {
    dir: RwLock<Directory>,
    next_id: AtomicU64,
    stats: Stats,
    opts: ServerOptions,
}

/// A running directory server; dropping it stops it.
pub struct DirectoryServer {
    server: Server,
    shared: Arc<Shared>,
}

impl DirectoryServer {
    pub fn start(listen: &str, opts: ServerOptions) -> io::Result<DirectoryServer> {
        let mut cfg = ServerConfig::new("napster-server");
        cfg.max_conns = opts.max_conns;
        cfg.read_timeout = Some(opts.login_timeout);
        let shared = Arc::new(Shared {
            dir: RwLock::new(Directory::new()),
            next_id: AtomicU64::new(1),
            stats: Stats::default(),
            opts,
        });
        let s = shared.clone();
        let server = Server::bind(listen, cfg, move |stream| serve(stream, &s))?;
        Ok(DirectoryServer { server, shared })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    pub fn stats(&self) -> &Stats {
        &self.shared.stats
    }

    /// Peers logged in and files in the directory right now.
    pub fn counts(&self) -> (usize, usize) {
        let d = self.shared.dir.read().unwrap_or_else(|p| p.into_inner());
        (d.peer_count(), d.file_count())
    }

    /// Stops accepting and drops every peer: the single point of failure, on purpose.
    pub fn stop(&mut self) {
        self.server.stop();
    }
}

/// Counts bytes read, for [`Stats::bytes_in`].
struct Counting<'a, R> {
    inner: R,
    count: &'a AtomicU64,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Logs the peer out when its thread ends, however it ends.
struct Logout<'a>(&'a Shared, PeerId);

impl Drop for Logout<'_> {
    fn drop(&mut self) {
        self.0
            .dir
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .logout(self.1);
    }
}

fn send<W: Write>(w: &mut W, sh: &Shared, msg: &Msg) -> io::Result<()> {
    let bytes = msg.encode().map_err(io::Error::other)?;
    sh.stats
        .bytes_out
        .fetch_add(bytes.len() as u64, Ordering::Relaxed);
    w.write_all(&bytes)
}

/// Sends an error message naming what was wrong, then ends the connection.
fn refuse<W: Write>(w: &mut W, sh: &Shared, msg: Msg, why: String) -> ConnResult {
    let _ = send(w, sh, &msg).and_then(|_| w.flush());
    Err(why.into())
}

fn serve(stream: TcpStream, sh: &Shared) -> ConnResult {
    let peer_ip = match stream.peer_addr()?.ip() {
        IpAddr::V4(ip) => ip,
        IpAddr::V6(_) => return Err("Napster addresses are IPv4".into()),
    };
    let mut r = BufReader::new(Counting {
        inner: stream.try_clone()?,
        count: &sh.stats.bytes_in,
    });
    let mut w = BufWriter::new(stream.try_clone()?);

    let first = match read_msg(&mut r) {
        Ok(Some(m)) => m,
        Ok(None) => return Ok(()),
        Err(e) if e.is_timeout() => return Err("no login before the timeout".into()),
        Err(e) => return refuse(&mut w, sh, Msg::LoginError(e.to_string()), e.to_string()),
    };
    let Msg::Login {
        nick, port, link, ..
    } = first
    else {
        let why = format!(
            "first message must be a login (type 2), got type {}",
            first.kind()
        );
        return refuse(&mut w, sh, Msg::LoginError(why.clone()), why);
    };
    if nick.len() > MAX_NICK {
        let why = format!("nick longer than {MAX_NICK} bytes");
        return refuse(&mut w, sh, Msg::LoginError(why.clone()), why);
    }
    let id = sh.next_id.fetch_add(1, Ordering::Relaxed);
    let info = PeerInfo {
        nick: nick.clone(),
        ip: peer_ip,
        port,
        link,
    };
    if sh
        .dir
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .login(id, info)
        .is_err()
    {
        let why = format!("nick {nick} is in use");
        return refuse(&mut w, sh, Msg::LoginError(why.clone()), why);
    }
    let _logout = Logout(sh, id);
    sh.stats.logins.fetch_add(1, Ordering::Relaxed);
    send(
        &mut w,
        sh,
        &Msg::LoginAck {
            email: "anon@p2plab".into(),
        },
    )?;
    w.flush()?;
    stream.set_read_timeout(Some(sh.opts.idle_timeout))?;

    loop {
        let msg = match read_msg(&mut r) {
            Ok(Some(m)) => m,
            Ok(None) => return Ok(()),
            Err(WireError::Io(e)) => return Err(e.into()),
            Err(e) => {
                return refuse(
                    &mut w,
                    sh,
                    Msg::Error(format!("{e}; closing")),
                    e.to_string(),
                )
            }
        };
        handle(&mut w, sh, id, &nick, msg)?;
        w.flush()?;
    }
}

/// One request of a logged-in peer.
fn handle<W: Write>(w: &mut W, sh: &Shared, id: PeerId, nick: &str, msg: Msg) -> ConnResult {
    let dir = || sh.dir.write().unwrap_or_else(|p| p.into_inner());
    match msg {
        Msg::Share(meta) => dir().share(id, meta),
        Msg::Unshare { name } => {
            dir().unshare(id, &name);
        }
        Msg::Search { words, max } => {
            sh.stats.searches.fetch_add(1, Ordering::Relaxed);
            let hits = {
                let d = sh.dir.read().unwrap_or_else(|p| p.into_inner());
                d.search(&words, max as usize, Some(id))
            };
            for h in hits {
                let m = Msg::SearchResult {
                    file: h.file,
                    nick: h.peer.nick,
                    ip: h.peer.ip,
                    link: h.peer.link,
                };
                send(w, sh, &m)?;
            }
            send(w, sh, &Msg::SearchEnd)?;
        }
        Msg::DownloadRequest { nick: owner, name } => {
            let found = sh
                .dir
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .locate(&owner, &name);
            let answer = match found {
                Some((p, meta)) => Msg::DownloadAck {
                    nick: p.nick,
                    ip: p.ip,
                    port: p.port,
                    name,
                    md5: meta.md5,
                    speed: p.link,
                },
                None => Msg::DownloadError { nick: owner, name },
            };
            send(w, sh, &answer)?;
        }
        other => {
            let why = format!(
                "{nick} sent type {}, which only a server sends",
                other.kind()
            );
            return refuse(w, sh, Msg::Error(format!("{why}; closing")), why);
        }
    }
    Ok(())
}
