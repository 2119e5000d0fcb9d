//! The node's tracker thread (`bt-announce`): join the torrent, find peers, say goodbye.
//!
//! ```text
//!   started ─► peers ─► connect to a random subset ─► wait `interval`
//!      ─► periodic ... ─► completed (when the last piece is verified) ... ─► stopped
//! ```
//! A node that has fewer than `neighbours` peers while it still downloads (at the
//! start, or after neighbours left: churn 扰动) asks again after [`REFILL`] (scaled),
//! and calls new ones in place of the dead.

use super::announce::{announce, Announce, Event, Reply, TrackerError};
use super::client::dial;
use super::state::Shared;
use crate::net::Conns;
use crossbeam_channel::{select, Receiver};
use log::{info, warn};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// While a download has no peers, ask the tracker again this often.
pub const STARVED_REANNOUNCE: Duration = Duration::from_secs(2);
/// While a download has fewer peers than it wants, ask again this often (× time_scale).
pub const REFILL: Duration = Duration::from_secs(5);

/// Talks to the tracker: `started`, then periodically (sooner while we have no
/// peers), `completed` when the download ends, `stopped` when the node stops.
pub(super) fn announcer(
    shared: &Arc<Shared>,
    conns: &Conns,
    completed: &Receiver<()>,
    stop: &Receiver<()>,
) {
    let url = shared.meta.announce.clone().unwrap_or_default();
    let mut event = Event::Started;
    loop {
        let mut wait = STARVED_REANNOUNCE;
        match tell(shared, &url, event) {
            Ok(reply) => {
                info!(
                    "tracker: {} peers (seeds {:?}, leechers {:?})",
                    reply.peers.len(),
                    reply.complete,
                    reply.incomplete
                );
                event = Event::Periodic;
                wait = reply.interval;
                // A random subset: a tracker may list thousands, and peers that all
                // called the same first few would make a lopsided overlay.
                let mut list = reply.peers;
                let mut have = {
                    let mut st = shared.lock();
                    st.dial_rng.shuffle(&mut list);
                    st.peers.len()
                };
                let want = shared.policy.neighbours.min(shared.max_peers);
                for addr in list {
                    // Handshakes finish on the new threads: count our calls ourselves.
                    if have >= want {
                        break;
                    }
                    if shared.lock().dialed.contains(&addr) || is_self(shared.listen(), addr) {
                        continue; // opentracker lists the announcing peer too
                    }
                    match dial(shared, conns, addr) {
                        Ok(()) => have += 1,
                        Err(e) => info!("cannot connect to {addr}: {e}"),
                    }
                }
            }
            Err(e) => warn!("tracker {url}: {e}"),
        }
        if !shared.is_complete() {
            let have = shared.lock().peers.len();
            if have == 0 {
                wait = wait.min(STARVED_REANNOUNCE.min(shared.scaled(REFILL)));
            } else if have < shared.policy.neighbours.min(shared.max_peers) {
                wait = wait.min(shared.scaled(REFILL));
            }
        }
        select! {
            recv(completed) -> _ => event = Event::Completed,
            recv(stop) -> _ => break,
            default(wait) => {}
        }
    }
    if !shared.silent.load(Ordering::Relaxed) {
        let _ = tell(shared, &url, Event::Stopped);
    }
}

fn tell(shared: &Shared, url: &str, event: Event) -> Result<Reply, TrackerError> {
    let a = Announce {
        info_hash: shared.info_hash(),
        peer_id: shared.peer_id,
        port: shared.listen().port(),
        uploaded: shared.uploaded.load(Ordering::Relaxed),
        downloaded: shared.downloaded.load(Ordering::Relaxed),
        left: shared.left(),
        event,
        numwant: 50,
    };
    announce(url, &a)
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
