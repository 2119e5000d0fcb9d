//! The dialer: joining and keeping the degree (notes: 对等方加入, 对等方离开).
//!
//! Connecting blocks (a TCP connect, a handshake, an HTTP request to the host cache),
//! and the coordinator must never block, so one thread per servent does it. The
//! coordinator decides (`policy::refill`) and hands it one [`Job`] at a time:
//!
//! ```text
//!   known hosts (disk list, X-Try, Pongs) ─► Job::Dial: one by one until enough accept
//!      │ none left and no neighbour at all ─► Job::AskCache (?hostfile=1)
//!      │ none left but some neighbours     ─► (the coordinator Pings: Pongs bring hosts)
//!   first neighbour of all ─► the coordinator Pings, so the Pongs bring the rest
//! ```
//!
//! Each result goes back as an [`Event`]; the coordinator forgets a host that refused
//! or did not answer, and learns the X-Try hosts of a 503.

use crate::gnutella::conn::{self, Ctx};
use crate::gnutella::event::{Event, Job};
use crate::gnutella::hosts::{cache_hostfile, cache_update};
use crate::gnutella::msg::handshake::Answer;
use crossbeam_channel::{select, Receiver, TryRecvError};
use log::info;

/// The dialer thread: tells the host cache we exist, then runs jobs until the servent stops.
pub fn run(ctx: Ctx, cache: Option<String>, jobs: Receiver<Job>) {
    if let Some(url) = &cache {
        // Tell the cache we exist, so that later newcomers find us.
        if let Err(e) = cache_update(url, ctx.me) {
            info!("{}: host cache {url}: {e}", ctx.me);
        }
    }
    loop {
        let job = select! {
            recv(jobs) -> j => match j {
                Ok(j) => j,
                Err(_) => return,
            },
            recv(ctx.stop) -> _ => return, // never a message: disconnected, stopping
        };
        match job {
            Job::Dial { hosts, need } => {
                let mut got = 0;
                for addr in hosts {
                    if got == need || is_stopping(&ctx) {
                        break;
                    }
                    let result = conn::dial(&ctx, addr);
                    if matches!(result, Ok(Answer::Accepted(_))) {
                        got += 1;
                    }
                    if ctx.events.send(Event::Dialed { addr, result }).is_err() {
                        return;
                    }
                }
            }
            Job::AskCache => {
                let answer = match &cache {
                    Some(url) => cache_hostfile(url).map_err(|e| format!("{url}: {e}")),
                    None => Err("no host cache configured".into()),
                };
                if ctx.events.send(Event::CacheAnswered(answer)).is_err() {
                    return;
                }
            }
        }
        if ctx.events.send(Event::DialerIdle).is_err() {
            return;
        }
    }
}

/// The handle dropped its end of the stop channel: the servent is stopping.
fn is_stopping(ctx: &Ctx) -> bool {
    matches!(ctx.stop.try_recv(), Err(TryRecvError::Disconnected))
}
