//! Joining and keeping the degree (notes: 对等方加入, 对等方离开).
//!
//! One thread per servent wakes on a tick, or when a neighbour leaves, and while the
//! servent has fewer neighbours than its target degree:
//!
//! ```text
//!   known hosts (disk list, X-Try, Pongs) ─► dial one by one until enough accept
//!      │ none left and no neighbour at all ─► ask the host cache (?hostfile=1)
//!      │ none left but some neighbours     ─► Ping: the Pongs bring new addresses
//!   first neighbour of all ─► Ping, so the Pongs bring the rest
//! ```
//!
//! A host that refuses or does not answer is forgotten; a 503 brings X-Try hosts.

use super::conn::{dial, Ctx, Event};
use super::handshake::Answer;
use super::hosts::{cache_hostfile, cache_update};
use super::servent::{Config, Trace};
use crossbeam_channel::{Receiver, RecvTimeoutError};
use log::{debug, info};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How often the degree is checked without being woken.
pub const JOIN_TICK: Duration = Duration::from_millis(200);
/// A servent below its degree with no address left pings at most this often.
pub const PING_RETRY: Duration = Duration::from_secs(2);
/// The host cache is asked at most this often.
pub const CACHE_RETRY: Duration = Duration::from_secs(2);

pub struct Connector {
    ctx: Ctx,
    cache: Option<String>,
    ping_ttl: u8,
    last_cache: Option<Instant>,
    last_ping: Option<Instant>,
}

impl Connector {
    pub fn new(cfg: &Config, ctx: Ctx) -> Connector {
        Connector {
            ctx,
            cache: cfg.cache.clone(),
            ping_ttl: cfg.ping_ttl,
            last_cache: None,
            last_ping: None,
        }
    }

    pub fn run(mut self, wake: Receiver<()>) {
        if let Some(url) = &self.cache {
            // Tell the cache we exist, so that later newcomers find us.
            if let Err(e) = cache_update(url, self.ctx.me) {
                info!("{}: host cache {url}: {e}", self.ctx.me);
            }
        }
        loop {
            match wake.recv_timeout(JOIN_TICK) {
                Err(RecvTimeoutError::Disconnected) => return,
                Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            }
            self.refill(&wake);
        }
    }

    /// (neighbours wanted, neighbours now, hosts to try)
    fn snapshot(&self) -> (usize, usize, Vec<SocketAddr>) {
        let sh = self.ctx.lock();
        let have = sh.neighbours.len();
        let mine: Vec<SocketAddr> = sh.neighbours.iter().map(|n| n.addr).collect();
        let candidates = sh
            .hosts
            .to_vec()
            .into_iter()
            .filter(|h| *h != self.ctx.me && !mine.contains(h))
            .collect();
        (sh.degree.saturating_sub(have), have, candidates)
    }

    fn refill(&mut self, wake: &Receiver<()>) {
        for round in 0..2 {
            let (need, have, candidates) = self.snapshot();
            if need == 0 {
                return;
            }
            let got = self.dial_some(need, have, candidates, wake);
            if got >= need {
                return;
            }
            let have = have + got;
            if round == 1 {
                return;
            }
            if have == 0 && self.cache.is_some() && due(self.last_cache, CACHE_RETRY) {
                self.ask_cache();
                continue; // dial what the cache gave
            }
            if have > 0 && due(self.last_ping, PING_RETRY) {
                self.ping();
            }
            return;
        }
    }

    fn dial_some(
        &mut self,
        need: usize,
        mut have: usize,
        candidates: Vec<SocketAddr>,
        wake: &Receiver<()>,
    ) -> usize {
        let mut got = 0;
        for addr in candidates {
            if got == need || is_stopping(wake) {
                break;
            }
            match dial(&self.ctx, addr) {
                Ok(Answer::Accepted(_)) => {
                    got += 1;
                    have += 1;
                    if have == 1 {
                        // Our first neighbour: a Ping brings Pongs, Pongs bring hosts.
                        self.ping();
                    }
                }
                Ok(Answer::Refused { code, x_try }) => {
                    debug!("{}: {addr} refused with {code}", self.ctx.me);
                    let mut sh = self.ctx.lock();
                    sh.hosts.remove(&addr);
                    for h in x_try.into_iter().filter(|h| *h != self.ctx.me) {
                        sh.hosts.add_old(h);
                    }
                }
                Err(why) => {
                    self.ctx.lock().hosts.remove(&addr);
                    self.ctx.trace(Trace::DialFailed {
                        at: self.ctx.me,
                        peer: addr,
                        why,
                    });
                }
            }
        }
        got
    }

    fn ask_cache(&mut self) {
        let Some(url) = self.cache.clone() else {
            return;
        };
        self.last_cache = Some(Instant::now());
        match cache_hostfile(&url) {
            Ok(list) => {
                let mut sh = self.ctx.lock();
                for h in list.iter().filter(|h| **h != self.ctx.me) {
                    sh.hosts.add_old(*h);
                }
                drop(sh);
                self.ctx.trace(Trace::CacheAsked {
                    at: self.ctx.me,
                    got: list.len(),
                });
            }
            Err(e) => info!("{}: host cache {url}: {e}", self.ctx.me),
        }
    }

    fn ping(&mut self) {
        self.last_ping = Some(Instant::now());
        let _ = self.ctx.events.send(Event::Ping { ttl: self.ping_ttl });
    }
}

fn due(last: Option<Instant>, every: Duration) -> bool {
    last.is_none_or(|t| t.elapsed() >= every)
}

/// The handle dropped its end of the wake channel: the servent is stopping.
fn is_stopping(wake: &Receiver<()>) -> bool {
    matches!(
        wake.try_recv(),
        Err(crossbeam_channel::TryRecvError::Disconnected)
    )
}
