//! A host cache: a small GWebCache-style HTTP service (`p2plab gnutella cache`).
//!
//! The notes' "联系维持列表的Gnutella站点": when none of a newcomer's own hosts is
//! online, it asks a well-known web service for addresses. Three requests:
//!
//! ```text
//!   GET /?ip=127.0.0.1:40112   a servent announces itself   -> "OK"
//!   GET /?hostfile=1           addresses, newest first      -> "ip:port" lines
//!   GET /?ping=1               is the cache alive?          -> "PONG p2plab/0.1"
//! ```
//!
//! The project's one concurrency model, small: a request thread only reads the request
//! ([`parse`]) and writes the answer; one coordinator thread owns the [`Hosts`] and
//! answers ([`answer`]), one request at a time, so the list needs no lock. A request
//! thread hands it the parsed request with a channel for the answer; so does the handle.
//!
//! ```text
//!   "gnutella-cache-conn-ADDR" ──(Ask, reply)──► "gnutella-cache-coordinator" (owns Hosts)
//!   HostCache::hosts / forget ──Ask──────────►
//! ```
//!
//! Simplified here: no GWebCache v2 `get=1`/`update=1` syntax, no list of other caches.

use super::hosts::Hosts;
use crate::net::{ConnResult, Conns, Server, ServerConfig};
use crate::wire::read_head;
use crossbeam_channel::{bounded, select, Receiver, Sender};
use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Addresses handed out per `hostfile` request.
pub const HOSTFILE_LEN: usize = 20;
/// Requests waiting for the coordinator; a request thread finding it full waits.
pub const ASK_QUEUE: usize = 64;
/// A request must arrive whole, and the coordinator answer, within this time.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What a request (or the handle) asks the coordinator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// `?ip=ip:port`: remember this servent.
    Announce(SocketAddr),
    /// `?hostfile=1`: the newest addresses.
    Hostfile,
    /// `?ping=1`.
    Ping,
    /// A request we cannot serve: status and text of the answer.
    Bad(u16, &'static str),
    /// The handle: every address, one per line.
    All,
    /// The handle: forget this address.
    Forget(SocketAddr),
}

/// A running host cache; dropping it stops it.
pub struct HostCache {
    server: Server,
    asks: Sender<(Ask, Sender<String>)>,
    /// Dropped at stop: the coordinator sees it disconnect and ends.
    stop: Option<Sender<()>>,
}

impl HostCache {
    pub fn start(listen: &str) -> std::io::Result<HostCache> {
        let (asks, asks_rx) = bounded(ASK_QUEUE);
        let (stop, stop_rx) = bounded::<()>(0);
        let conns = Conns::new();
        conns.spawn_worker("gnutella-cache-coordinator".into(), move || {
            coordinate(asks_rx, stop_rx)
        })?;
        let mut cfg = ServerConfig::new("gnutella-cache");
        cfg.max_conns = 64;
        cfg.read_timeout = Some(REQUEST_TIMEOUT);
        let a = asks.clone();
        let server = match Server::bind_with(listen, cfg, conns.clone(), move |s| serve(s, &a)) {
            Ok(server) => server,
            Err(e) => {
                drop(stop); // ends the coordinator
                conns.join_all();
                return Err(e);
            }
        };
        Ok(HostCache {
            server,
            asks,
            stop: Some(stop),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// The URL servents are given with `--cache`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.local_addr())
    }

    /// Addresses it would hand out now, newest first (empty if it has stopped).
    pub fn hosts(&self) -> Vec<SocketAddr> {
        ask(&self.asks, Ask::All)
            .map(|text| text.lines().filter_map(|l| l.parse().ok()).collect())
            .unwrap_or_default()
    }

    /// Forgets an address (a lab removing a servent that left).
    pub fn forget(&self, addr: &SocketAddr) {
        let _ = ask(&self.asks, Ask::Forget(*addr));
    }

    pub fn stop(&mut self) {
        self.stop.take();
        self.server.stop();
    }
}

impl Drop for HostCache {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Sends `a` to the coordinator and waits for its answer (`None`: stopped or too slow).
fn ask(asks: &Sender<(Ask, Sender<String>)>, a: Ask) -> Option<String> {
    let (reply, answer) = bounded(1);
    asks.send_timeout((a, reply), REQUEST_TIMEOUT).ok()?;
    answer.recv_timeout(REQUEST_TIMEOUT).ok()
}

/// The coordinator: owns the host list, answers every ask until `stop` disconnects.
fn coordinate(asks: Receiver<(Ask, Sender<String>)>, stop: Receiver<()>) {
    let mut hosts = Hosts::default();
    loop {
        select! {
            recv(asks) -> a => match a {
                Ok((a, reply)) => {
                    // Never blocks: the channel has room for its one answer.
                    let _ = reply.try_send(answer(&a, &mut hosts).1);
                }
                Err(_) => return,
            },
            recv(stop) -> _ => return,
        }
    }
}

/// What a request target asks for. A pure function.
pub fn parse(target: &str) -> Ask {
    let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("ip", v)) => {
                let v = v.replace("%3A", ":").replace("%3a", ":");
                return match v.parse::<SocketAddr>() {
                    Ok(a) if a.port() != 0 => Ask::Announce(a),
                    _ => Ask::Bad(200, "ERROR bad ip:port\n"),
                };
            }
            Some(("hostfile", _)) => return Ask::Hostfile,
            Some(("ping", _)) => return Ask::Ping,
            _ => {}
        }
    }
    Ask::Bad(400, "ERROR expected ?hostfile=1, ?ip=ip:port or ?ping=1\n")
}

/// The answer to one ask: (status, body). Pure but for `hosts`, which only the
/// coordinator holds.
pub fn answer(a: &Ask, hosts: &mut Hosts) -> (u16, String) {
    let lines = |list: Vec<SocketAddr>, n: usize| -> String {
        list.iter().take(n).map(|a| format!("{a}\n")).collect()
    };
    match a {
        Ask::Announce(addr) => {
            hosts.add(*addr);
            (200, "OK\n".into())
        }
        Ask::Hostfile => (200, lines(hosts.to_vec(), HOSTFILE_LEN)),
        Ask::Ping => (200, "PONG p2plab/0.1\n".into()),
        Ask::Bad(code, text) => (*code, text.to_string()),
        Ask::All => (200, lines(hosts.to_vec(), usize::MAX)),
        Ask::Forget(addr) => {
            hosts.remove(addr);
            (200, "OK\n".into())
        }
    }
}

/// A request thread: read the request, ask the coordinator, write its answer.
fn serve(stream: TcpStream, asks: &Sender<(Ask, Sender<String>)>) -> ConnResult {
    let mut r = BufReader::new(stream.try_clone()?);
    let Some(head) = read_head(&mut r, 4096, 32)? else {
        return Ok(());
    };
    let target = head.start.split(' ').nth(1).unwrap_or("");
    let a = if head.start.starts_with("GET ") {
        parse(target)
    } else {
        Ask::Bad(400, "ERROR only GET\n")
    };
    // Only the handle may list every address or forget one.
    let a = match a {
        Ask::All | Ask::Forget(_) => Ask::Bad(400, "ERROR not a request\n"),
        a => a,
    };
    let code = match a {
        Ask::Bad(code, _) => code,
        _ => 200,
    };
    let body = ask(asks, a).ok_or("host cache stopping")?;
    let reason = if code == 200 { "OK" } else { "Bad Request" };
    let msg = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    (&stream).write_all(msg.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(target: &str, hosts: &mut Hosts) -> (u16, String) {
        answer(&parse(target), hosts)
    }

    #[test]
    fn requests() {
        let hosts = &mut Hosts::default();
        assert_eq!(get("/?ip=127.0.0.1:5", hosts), (200, "OK\n".into()));
        assert_eq!(get("/?ip=127.0.0.1%3A6", hosts), (200, "OK\n".into()));
        assert!(get("/?ip=nonsense", hosts).1.starts_with("ERROR"));
        assert_eq!(get("/?hostfile=1", hosts).1, "127.0.0.1:6\n127.0.0.1:5\n");
        assert!(get("/?ping=1", hosts).1.starts_with("PONG"));
        assert_eq!(get("/", hosts).0, 400);
        assert_eq!(
            answer(&Ask::Forget("127.0.0.1:6".parse().unwrap()), hosts).0,
            200
        );
        assert_eq!(get("/?hostfile=1", hosts).1, "127.0.0.1:5\n");
    }

    #[test]
    fn the_coordinator_owns_the_list_and_stops() {
        let mut cache = HostCache::start("127.0.0.1:0").unwrap();
        let a: SocketAddr = "127.0.0.1:7".parse().unwrap();
        assert_eq!(ask(&cache.asks, Ask::Announce(a)), Some("OK\n".into()));
        assert_eq!(cache.hosts(), [a]);
        cache.forget(&a);
        assert!(cache.hosts().is_empty());
        cache.stop();
        assert!(cache.hosts().is_empty(), "a stopped cache answers nothing");
    }
}
