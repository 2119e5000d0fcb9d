//! The node's tracker thread (`bt-announce`): join the torrent, find peers, say goodbye.
//!
//! ```text
//!   started ─► peers ─► connect to each ─► wait `interval` (2 s while we have no peer)
//!      ─► periodic ... ─► completed (when the last piece is verified) ... ─► stopped
//! ```

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
                // A tracker may list thousands: call no more than we may keep.
                let room = shared.max_peers.saturating_sub(shared.lock().peers.len());
                for addr in reply.peers.into_iter().take(room) {
                    if is_self(shared.listen(), addr) {
                        continue; // opentracker lists the announcing peer too
                    }
                    if let Err(e) = dial(shared, conns, addr) {
                        info!("cannot connect to {addr}: {e}");
                    }
                }
            }
            Err(e) => warn!("tracker {url}: {e}"),
        }
        if !shared.is_complete() && shared.lock().peers.is_empty() {
            wait = wait.min(STARVED_REANNOUNCE);
        }
        select! {
            recv(completed) -> _ => event = Event::Completed,
            recv(stop) -> _ => break,
            default(wait) => {}
        }
    }
    let _ = tell(shared, &url, Event::Stopped);
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
