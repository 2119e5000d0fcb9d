//! The node's periodic announcer (`bt-announce`): join the torrent, find peers, say goodbye.
//!
//! ```text
//!   started ─► peers ─► connect to a random subset ─► wait `interval`
//!      ─► periodic ... ─► completed (when the last piece is verified) ... ─► stopped
//! ```
//! A node that has fewer than `neighbours` peers while it still downloads (at the
//! start, or after neighbours left: churn 扰动) asks again after [`REFILL`] (scaled),
//! and the coordinator calls new ones in place of the dead (it picks whom).

use super::api::{Cmd, Published};
use crate::bittorrent::conn::Ctx;
use crate::bittorrent::tracker::msg::{announce, Announce, Event, Reply, TrackerError};
use crossbeam_channel::{select, Receiver, Sender};
use log::{info, warn};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// While a download has no peers, ask the tracker again this often.
pub const STARVED_REANNOUNCE: Duration = Duration::from_secs(2);
/// While a download has fewer peers than it wants, ask again this often (× time_scale).
pub const REFILL: Duration = Duration::from_secs(5);

/// What the announcer needs of its node.
pub struct Announcer {
    pub ctx: Arc<Ctx>,
    pub published: Arc<Published>,
    pub url: String,
    pub listen: SocketAddr,
    /// Neighbours wanted (the smaller of `neighbours` and `max_peers`).
    pub want: usize,
    pub time_scale: f64,
    /// The coordinator decides whom of the list to call.
    pub cmds: Sender<Cmd>,
    /// Stop without telling the tracker (a killed peer).
    pub silent: Arc<AtomicBool>,
}

impl Announcer {
    /// Talks to the tracker: `started`, then periodically (sooner while we have few
    /// peers), `completed` when the download ends, `stopped` when the node stops.
    pub fn run(&self, completed: &Receiver<()>, stop: &Receiver<()>) {
        let mut event = Event::Started;
        loop {
            let mut wait = STARVED_REANNOUNCE;
            match self.tell(event) {
                Ok(reply) => {
                    info!(
                        "tracker: {} peers (seeds {:?}, leechers {:?})",
                        reply.peers.len(),
                        reply.complete,
                        reply.incomplete
                    );
                    event = Event::Periodic;
                    wait = reply.interval;
                    // opentracker lists the announcing peer too.
                    let list: Vec<SocketAddr> = reply
                        .peers
                        .into_iter()
                        .filter(|&a| !is_self(self.listen, a))
                        .collect();
                    let _ = self.cmds.send(Cmd::Peers(list));
                }
                Err(e) => warn!("tracker {}: {e}", self.url),
            }
            if !self.ctx.ours.is_complete() {
                let refill = REFILL
                    .mul_f64(self.time_scale)
                    .max(Duration::from_millis(20));
                let have = self.published.peers.load(Ordering::Relaxed);
                if have == 0 {
                    wait = wait.min(STARVED_REANNOUNCE.min(refill));
                } else if have < self.want {
                    wait = wait.min(refill);
                }
            }
            select! {
                recv(completed) -> _ => event = Event::Completed,
                recv(stop) -> _ => break,
                default(wait) => {}
            }
        }
        if !self.silent.load(Ordering::Relaxed) {
            let _ = self.tell(Event::Stopped);
        }
    }

    fn tell(&self, event: Event) -> Result<Reply, TrackerError> {
        let a = Announce {
            info_hash: self.ctx.info_hash,
            peer_id: self.ctx.peer_id,
            port: self.listen.port(),
            uploaded: self.ctx.uploaded.load(Ordering::Relaxed),
            downloaded: self.ctx.downloaded.load(Ordering::Relaxed),
            left: left(&self.ctx),
            event,
            numwant: 50,
        };
        announce(&self.url, &a)
    }
}

/// Bytes still missing, for the tracker's `left`.
pub fn left(ctx: &Ctx) -> u64 {
    (0..ctx.num_pieces())
        .filter(|&i| !ctx.ours.has(i))
        .map(|i| ctx.storage.piece_size(i) as u64)
        .sum()
}

fn is_self(listen: SocketAddr, addr: SocketAddr) -> bool {
    let local = |ip: IpAddr| ip.is_loopback() || ip.is_unspecified();
    addr.port() == listen.port()
        && (addr.ip() == listen.ip() || (local(addr.ip()) && local(listen.ip())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_address_is_skipped() {
        let me: SocketAddr = "127.0.0.1:6881".parse().unwrap();
        assert!(is_self(me, me));
        // opentracker may list us as 127.0.0.1 while we listen on 0.0.0.0.
        assert!(is_self("0.0.0.0:6881".parse().unwrap(), me));
        assert!(!is_self(me, "127.0.0.1:6882".parse().unwrap()));
        assert!(!is_self(me, "10.0.0.1:6881".parse().unwrap()));
    }
}
