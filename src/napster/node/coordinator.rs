//! The coordinator: the one thread that owns the directory and answers every request.
//!
//! ```text
//!   conn readers ──Event──►  ┌─────────────────────────────┐ ──push──► outboxes
//!   tick ────────────────►   │ select!  Directory (state)  │          (try_send; a
//!   stop (handle) ───────►   │          policy::*          │           full queue
//!                            └─────────────────────────────┘           drops the peer)
//! ```
//!
//! Login, share, unshare, search and download request are all decided here, one at a
//! time, so the directory needs no lock. This is 6.4's performance bottleneck (性能瓶颈)
//! made plain: every search of every peer passes through this one loop. It never
//! blocks on a socket: a reply goes to the peer's [`Outbox`], which writes it at once if
//! the socket takes it and queues it for the peer's writer otherwise.

use crate::locate::Traffic;
use crate::napster::conn::{ConnId, Event};
use crate::napster::msg::Msg;
use crate::napster::policy;
use crate::napster::state::{Directory, PeerInfo, Refused};
use crate::net::{Conns, Outbox, Pushed};
use crossbeam_channel::{select, tick, Receiver};
use log::{debug, info, warn};
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Events handled in a row before the coordinator looks at its tick and stop channels.
const BATCH: usize = 256;

/// Counters the labs print: how much work the center did. The coordinator writes them,
/// the handle reads them.
#[derive(Debug, Default)]
pub struct Stats {
    pub logins: AtomicU64,
    pub searches: AtomicU64,
    /// Bytes of Napster messages received and sent: the directory's traffic, which the
    /// lab compares with the file bytes that never pass through here.
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    /// Peers dropped because their reply queue was full (they stopped reading).
    pub slow_dropped: AtomicU64,
    /// Peers logged in and files in the directory, after the last event.
    pub peers: AtomicUsize,
    pub files: AtomicUsize,
}

/// One connection as the coordinator sees it.
struct Link {
    out: Outbox,
    ip: Ipv4Addr,
    since: Instant,
    /// `None` until the login is accepted.
    nick: Option<String>,
}

pub struct Coordinator {
    dir: Directory,
    links: HashMap<ConnId, Link>,
    stats: Arc<Stats>,
    /// The server's messages and bytes; replies count as sent once their outbox took them.
    traffic: Traffic,
    login_timeout: Duration,
    search_end: Vec<u8>,
    /// The server's connections: a login accepted here ends the listener's deadline.
    conns: Conns,
}

impl Coordinator {
    pub fn new(
        stats: Arc<Stats>,
        login_timeout: Duration,
        traffic: Traffic,
        conns: Conns,
    ) -> Coordinator {
        Coordinator {
            dir: Directory::new(),
            links: HashMap::new(),
            stats,
            traffic,
            login_timeout,
            search_end: Msg::SearchEnd.encode().unwrap_or_default(),
            conns,
        }
    }

    /// The loop: until `stop` disconnects. Closes every connection on the way out.
    pub fn run(mut self, events: Receiver<Event>, stop: Receiver<()>) {
        let period =
            (self.login_timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
        let ticks = tick(period);
        loop {
            select! {
                recv(events) -> e => match e {
                    Ok(e) => self.on_event(e),
                    Err(_) => break,
                },
                recv(ticks) -> _ => self.expire_logins(),
                recv(stop) -> _ => break,
            }
            // Under load, take what is queued without going back through select!.
            for e in events.try_iter().take(BATCH) {
                self.on_event(e);
            }
            self.stats
                .peers
                .store(self.dir.peer_count(), Ordering::Relaxed);
            self.stats
                .files
                .store(self.dir.file_count(), Ordering::Relaxed);
        }
        for (_, link) in self.links.drain() {
            link.out.close();
        }
    }

    fn on_event(&mut self, e: Event) {
        match e {
            Event::Up { id, ip, out } => {
                let link = Link {
                    out,
                    ip,
                    since: Instant::now(),
                    nick: None,
                };
                self.links.insert(id, link);
            }
            Event::Msg { id, msg, bytes } => {
                self.stats.bytes_in.fetch_add(bytes, Ordering::Relaxed);
                match self.links.get(&id).map(|l| l.nick.is_some()) {
                    Some(false) => self.login(id, msg),
                    Some(true) => self.request(id, msg),
                    None => {} // already dropped
                }
            }
            Event::Bad { id, why } => {
                let logged_in = self.links.get(&id).is_some_and(|l| l.nick.is_some());
                let answer = if logged_in {
                    Msg::Error(format!("{why}; closing"))
                } else {
                    Msg::LoginError(why.clone())
                };
                self.refuse(id, answer, &why);
            }
            Event::Down { id, why } => {
                if self.links.contains_key(&id) {
                    debug!("napster peer {id} left: {why}");
                    self.drop_peer(id);
                }
            }
        }
    }

    fn login(&mut self, id: ConnId, msg: Msg) {
        let nick = match policy::first_message(&msg) {
            Ok(nick) => nick.to_string(),
            Err(why) => return self.refuse(id, Msg::LoginError(why.clone()), &why),
        };
        let (Msg::Login { port, link, .. }, Some(ip)) = (msg, self.links.get(&id).map(|l| l.ip))
        else {
            return;
        };
        let info = PeerInfo {
            nick: nick.clone(),
            ip,
            port,
            link,
        };
        if self.dir.login(id, info).is_err() {
            let why = format!("nick {nick} is in use");
            return self.refuse(id, Msg::LoginError(why.clone()), &why);
        }
        if let Some(l) = self.links.get_mut(&id) {
            l.nick = Some(nick);
            self.conns.mark_useful(l.out.stream());
        }
        self.stats.logins.fetch_add(1, Ordering::Relaxed);
        let ack = Msg::LoginAck {
            email: "anon@p2plab".into(),
        };
        self.send(id, &ack);
    }

    /// One request of a logged-in peer.
    fn request(&mut self, id: ConnId, msg: Msg) {
        if !policy::is_request(&msg) {
            let nick = self.links[&id].nick.clone().unwrap_or_default();
            let why = format!("{nick} sent type {}, which only a server sends", msg.kind());
            return self.refuse(id, Msg::Error(format!("{why}; closing")), &why);
        }
        match msg {
            Msg::Share(meta) => {
                let name = meta.name.len();
                match self.dir.share(id, meta) {
                    // Refused now, so that no search can ever match what no frame could
                    // carry. Logged only: the protocol has no answer to a share.
                    Err(Refused::TooLong) => info!(
                        "napster peer {id}: share of a {name}-byte name refused: \
                         its search result would not fit a frame"
                    ),
                    Err(e) => debug!("napster peer {id}: share refused: {e:?}"),
                    Ok(()) => {}
                }
            }
            Msg::Unshare { name } => {
                self.dir.unshare(id, &name);
            }
            Msg::Search { words, max } => self.search(id, &words, max),
            Msg::DownloadRequest { nick, name } => {
                let answer = match self.dir.locate(&nick, &name) {
                    Some((p, meta)) => Msg::DownloadAck {
                        nick: p.nick.clone(),
                        ip: p.ip,
                        port: p.port,
                        md5: meta.md5.clone(),
                        speed: p.link,
                        name,
                    },
                    None => Msg::DownloadError { nick, name },
                };
                self.send(id, &answer);
            }
            _ => {}
        }
    }

    /// The hot path: the reply is the matching files' result frames, made at share
    /// time, copied into one buffer with the end marker, for one write.
    fn search(&mut self, id: ConnId, words: &str, max: u32) {
        self.stats.searches.fetch_add(1, Ordering::Relaxed);
        let hits = policy::pick_hits(self.dir.matches(words), id, policy::result_limit(max));
        let len = hits.iter().map(|f| f.result.len()).sum::<usize>() + self.search_end.len();
        let mut reply = Vec::with_capacity(len);
        for f in &hits {
            reply.extend_from_slice(&f.result);
        }
        reply.extend_from_slice(&self.search_end);
        let msgs = hits.len() as u64 + 1;
        self.send_bytes(id, reply, msgs);
    }

    fn send(&mut self, id: ConnId, msg: &Msg) {
        match msg.encode() {
            Ok(bytes) => self.send_bytes(id, bytes, 1),
            Err(e) => warn!("napster: cannot encode type {}: {e}", msg.kind()),
        }
    }

    /// Hands bytes to the peer's writer. A full queue means the peer stopped reading:
    /// it is dropped, never waited for.
    fn send_bytes(&mut self, id: ConnId, bytes: Vec<u8>, msgs: u64) {
        let Some(link) = self.links.get(&id) else {
            return;
        };
        let len = bytes.len() as u64;
        match link.out.push(bytes) {
            Pushed::Taken => {
                self.stats.bytes_out.fetch_add(len, Ordering::Relaxed);
                self.traffic.add_sent(msgs, len);
            }
            Pushed::Full => {
                info!("napster peer {id} stopped reading (queue full), dropping it");
                self.stats.slow_dropped.fetch_add(1, Ordering::Relaxed);
                self.drop_peer(id);
            }
            Pushed::Closed => self.drop_peer(id),
        }
    }

    /// Sends a last message naming what was wrong, then lets the peer go; its writer
    /// closes the connection once the message is written.
    fn refuse(&mut self, id: ConnId, answer: Msg, why: &str) {
        info!("napster peer {id} refused: {why}");
        let Some(link) = self.links.remove(&id) else {
            return;
        };
        self.dir.logout(id);
        let bytes = answer.encode().unwrap_or_default();
        let len = bytes.len() as u64;
        if link.out.push_last(bytes, None) == Pushed::Taken {
            self.stats.bytes_out.fetch_add(len, Ordering::Relaxed);
            self.traffic.add_sent(1, len);
        } else {
            link.out.close();
        }
    }

    /// Logs the peer out (its files leave the directory at once) and closes its socket,
    /// which ends its reader and writer.
    fn drop_peer(&mut self, id: ConnId) {
        if let Some(link) = self.links.remove(&id) {
            self.dir.logout(id);
            link.out.close();
        }
    }

    /// Connections that have not logged in within the login timeout are dropped.
    fn expire_logins(&mut self) {
        let now = Instant::now();
        let late: Vec<ConnId> = self
            .links
            .iter()
            .filter(|(_, l)| l.nick.is_none())
            .filter(|(_, l)| policy::login_expired(l.since, now, self.login_timeout))
            .map(|(id, _)| *id)
            .collect();
        for id in late {
            info!("napster connection {id}: no login before the timeout, dropping it");
            self.drop_peer(id);
        }
    }
}
