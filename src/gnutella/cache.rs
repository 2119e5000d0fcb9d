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
//! Simplified here: no GWebCache v2 `get=1`/`update=1` syntax, no list of other caches.

use super::hosts::Hosts;
use crate::net::{ConnResult, Server, ServerConfig};
use crate::wire::read_head;
use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Addresses handed out per `hostfile` request.
pub const HOSTFILE_LEN: usize = 20;

/// A running host cache; dropping it stops it.
pub struct HostCache {
    server: Server,
    hosts: Arc<Mutex<Hosts>>,
}

impl HostCache {
    pub fn start(listen: &str) -> std::io::Result<HostCache> {
        let hosts = Arc::new(Mutex::new(Hosts::default()));
        let mut cfg = ServerConfig::new("gnutella-cache");
        cfg.max_conns = 64;
        cfg.read_timeout = Some(Duration::from_secs(10));
        let h = hosts.clone();
        let server = Server::bind(listen, cfg, move |s| serve(s, &h))?;
        Ok(HostCache { server, hosts })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// The URL servents are given with `--cache`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.local_addr())
    }

    /// Addresses it would hand out now.
    pub fn hosts(&self) -> Vec<SocketAddr> {
        self.hosts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .to_vec()
    }

    /// Forgets an address (a lab removing a servent that left).
    pub fn forget(&self, addr: &SocketAddr) {
        self.hosts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(addr);
    }

    pub fn stop(&mut self) {
        self.server.stop();
    }
}

/// The answer to one request target: (status, body). A pure function.
pub fn answer(target: &str, hosts: &Mutex<Hosts>) -> (u16, String) {
    let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
    let mut hosts = hosts.lock().unwrap_or_else(|p| p.into_inner());
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("ip", v)) => {
                let v = v.replace("%3A", ":").replace("%3a", ":");
                return match v.parse::<SocketAddr>() {
                    Ok(a) if a.port() != 0 => {
                        hosts.add(a);
                        (200, "OK\n".into())
                    }
                    _ => (200, "ERROR bad ip:port\n".into()),
                };
            }
            Some(("hostfile", _)) => {
                let lines: String = hosts
                    .to_vec()
                    .iter()
                    .take(HOSTFILE_LEN)
                    .map(|a| format!("{a}\n"))
                    .collect();
                return (200, lines);
            }
            Some(("ping", _)) => return (200, "PONG p2plab/0.1\n".into()),
            _ => {}
        }
    }
    (
        400,
        "ERROR expected ?hostfile=1, ?ip=ip:port or ?ping=1\n".into(),
    )
}

fn serve(stream: TcpStream, hosts: &Mutex<Hosts>) -> ConnResult {
    let mut r = BufReader::new(stream.try_clone()?);
    let Some(head) = read_head(&mut r, 4096, 32)? else {
        return Ok(());
    };
    let target = head.start.split(' ').nth(1).unwrap_or("");
    let (code, body) = if head.start.starts_with("GET ") {
        answer(target, hosts)
    } else {
        (400, "ERROR only GET\n".into())
    };
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

    #[test]
    fn requests() {
        let hosts = Mutex::new(Hosts::default());
        assert_eq!(answer("/?ip=127.0.0.1:5", &hosts), (200, "OK\n".into()));
        assert_eq!(answer("/?ip=127.0.0.1%3A6", &hosts), (200, "OK\n".into()));
        assert!(answer("/?ip=nonsense", &hosts).1.starts_with("ERROR"));
        assert_eq!(
            answer("/?hostfile=1", &hosts).1,
            "127.0.0.1:6\n127.0.0.1:5\n"
        );
        assert!(answer("/?ping=1", &hosts).1.starts_with("PONG"));
        assert_eq!(answer("/", &hosts).0, 400);
    }
}
