//! Gnutella behind the notes' common interface (6.4 分散: flooding), so a lab can set
//! it beside the directory, group leaders and the ring on one workload.
//!
//! Every verb is the real thing: one [`Servent`] per workload peer on 127.0.0.1, with
//! its shared folder on disk and its own file server.
//!
//! | verb | on the wire |
//! |---|---|
//! | join | the servent starts with `degree` live servents (drawn from the seed) as its host list; its dialer connects (handshake: CONNECT, 200 OK, OK) and Pings; `join` returns once it has its neighbours. Publishing costs nothing: the files stay in its own folder |
//! | search | a Query flooded with the TTL; every servent whose folder matches sends a QueryHit back along the reverse path. `search` returns when the flood is over (every copy sent has arrived, counted from the servents' traces) |
//! | leave | a Bye to every neighbour, then the servent stops |
//! | crash | the servent stops: its sockets close without a Bye |
//! | kill_special | nothing to kill: every servent is equal |
//! | traffic | `peer i`: each servent's descriptors and handshakes, sent and received |
//!
//! A departed servent's files vanish with it: nobody else answers for them, so there
//! is no index to go stale and the crash timeout is zero. `leave` and `crash` return
//! once every neighbour has dropped the closed connection, so that a later flood never
//! sends a copy into a dead socket (it would never arrive, and the flood never end).
//! The asker does not answer its own Query.

use super::{observe, Config, Servent, Trace, DEFAULT_TTL};
use crate::locate::folders::Scratch;
use crate::locate::Traffic;
use crate::locate::{Design, Killed, LocateError, NodeTraffic, PeerId, Provider, SharedFile};
use crate::rng::Rng;
use crate::share::ids;
use crossbeam_channel::{unbounded, Receiver, Sender};
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Neighbours a joining servent asks for: few, as the notes say (少于10个), yet
/// enough that a TTL-7 flood covers a lab's overlay of a few hundred.
pub const LOCATE_DEGREE: usize = 3;
/// A join must have its neighbours within this time; a servent that left or crashed
/// must be dropped by its neighbours within it (both take milliseconds on loopback).
pub const SETTLE_LIMIT: Duration = Duration::from_secs(10);
/// A flood that has not ended by then is cut short: its hits so far are the answer.
pub const SEARCH_LIMIT: Duration = Duration::from_secs(10);

/// How the overlay is built.
#[derive(Debug, Clone)]
pub struct NetOptions {
    pub degree: usize,
    /// TTL of every search's Query.
    pub ttl: u8,
    pub seed: u64,
}

impl Default for NetOptions {
    fn default() -> NetOptions {
        NetOptions {
            degree: LOCATE_DEGREE,
            ttl: DEFAULT_TTL,
            seed: 1,
        }
    }
}

/// Servents in one overlay, as one [`Design`].
pub struct GnutellaNet {
    opts: NetOptions,
    servents: BTreeMap<PeerId, Servent>,
    /// Each peer's counters, kept across leaves and re-joins.
    traffic: BTreeMap<PeerId, Traffic>,
    /// HTTP address (what a QueryHit carries) of every servent ever started → its peer.
    https: HashMap<SocketAddr, PeerId>,
    /// Every servent's trace events: how a search knows its flood is over.
    trace_tx: Sender<Trace>,
    trace: Receiver<Trace>,
    rng: Rng,
    joins: u64,
    scratch: Scratch,
}

impl GnutellaNet {
    pub fn new(opts: NetOptions) -> io::Result<GnutellaNet> {
        let (trace_tx, trace) = unbounded();
        Ok(GnutellaNet {
            rng: Rng::new(opts.seed),
            opts,
            servents: BTreeMap::new(),
            traffic: BTreeMap::new(),
            https: HashMap::new(),
            trace_tx,
            trace,
            joins: 0,
            scratch: Scratch::new("gnutella-locate")?,
        })
    }

    /// Waits until no servent has `gone` as a neighbour any more.
    fn forget(&self, peer: PeerId, gone: SocketAddr) -> Result<(), LocateError> {
        let dropped = crate::wait::until(SETTLE_LIMIT, || {
            self.servents
                .values()
                .all(|s| !s.neighbours().contains(&gone))
        });
        // Trace events of the departure are of no search's concern.
        self.trace.try_iter().for_each(drop);
        if dropped {
            Ok(())
        } else {
            Err(LocateError::Failed(format!(
                "{SETTLE_LIMIT:?} after peer {peer} went, a neighbour still lists it"
            )))
        }
    }
}

impl Design for GnutellaNet {
    fn name(&self) -> String {
        "flooding (Gnutella)".into()
    }

    fn join(&mut self, peer: PeerId, files: &[SharedFile]) -> Result<(), LocateError> {
        if self.servents.contains_key(&peer) {
            return Err(LocateError::Failed(format!("peer {peer} is already in")));
        }
        self.joins += 1;
        let failed = |e: io::Error| LocateError::Failed(format!("peer {peer} cannot start: {e}"));
        let folder = self
            .scratch
            .folder(&format!("s{peer}.{}", self.joins), files)
            .map_err(failed)?;
        let live: Vec<SocketAddr> = self.servents.values().map(Servent::addr).collect();
        let want = self.opts.degree.min(live.len());
        let mut cfg = Config::new(Arc::new(folder));
        cfg.peers = self
            .rng
            .sample(live.len(), want)
            .into_iter()
            .map(|i| live[i])
            .collect();
        cfg.degree = self.opts.degree;
        cfg.trace = Some(self.trace_tx.clone());
        cfg.traffic = self.traffic.entry(peer).or_default().clone();
        cfg.seed = self.opts.seed ^ self.joins.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let s = Servent::start(cfg).map_err(failed)?;
        self.https.insert(s.http_addr(), peer);
        let linked = crate::wait::until(SETTLE_LIMIT, || s.neighbours().len() >= want);
        self.servents.insert(peer, s);
        self.trace.try_iter().for_each(drop);
        if linked {
            Ok(())
        } else {
            Err(LocateError::Failed(format!(
                "peer {peer} found fewer than {want} neighbours in {SETTLE_LIMIT:?}"
            )))
        }
    }

    fn search(&mut self, from: PeerId, keyword: &str) -> Result<Vec<Provider>, LocateError> {
        let s = self
            .servents
            .get(&from)
            .ok_or(LocateError::UnknownPeer(from))?;
        if s.neighbours().is_empty() {
            return Ok(Vec::new()); // nobody to ask
        }
        s.hits().try_iter().for_each(drop); // late hits of an earlier, cut-short flood
        let guid = s.query(keyword, self.opts.ttl);
        if observe::collect(&self.trace, guid, SEARCH_LIMIT).is_err() {
            log::info!("peer {from}: the flood for {keyword:?} did not end in {SEARCH_LIMIT:?}");
        }
        let mut out = Vec::new();
        for hit in s.hits().try_iter().filter(|h| h.guid == guid) {
            let Some(&peer) = self.https.get(&hit.http) else {
                continue; // not one of ours
            };
            for r in &hit.results {
                let sha1 = r.extension.strip_prefix("urn:sha1:");
                if let Some(sha1) = sha1.and_then(ids::sha1_from_base32) {
                    out.push(Provider {
                        peer,
                        addr: hit.http,
                        sha1,
                        name: r.name.clone(),
                    });
                }
            }
        }
        Ok(out)
    }

    fn leave(&mut self, peer: PeerId) -> Result<(), LocateError> {
        let s = self
            .servents
            .remove(&peer)
            .ok_or(LocateError::UnknownPeer(peer))?;
        let addr = s.addr();
        s.leave();
        self.forget(peer, addr)
    }

    fn crash(&mut self, peer: PeerId) -> Result<(), LocateError> {
        let mut s = self
            .servents
            .remove(&peer)
            .ok_or(LocateError::UnknownPeer(peer))?;
        let addr = s.addr();
        s.stop();
        self.forget(peer, addr)
    }

    /// Zero: only a servent answers for its own files, so they go when it goes.
    fn crash_timeout(&self) -> Duration {
        Duration::ZERO
    }

    fn kill_special(&mut self) -> Result<Killed, LocateError> {
        Ok(Killed {
            what: "nothing: every servent is equal".into(),
            nodes: 0,
            peers: Vec::new(),
        })
    }

    fn traffic(&self) -> Vec<NodeTraffic> {
        self.traffic
            .iter()
            .map(|(p, t)| t.snapshot(&format!("peer {p}")))
            .collect()
    }

    fn stop(&mut self) {
        for (_, mut s) in std::mem::take(&mut self.servents) {
            s.stop();
        }
        self.trace.try_iter().for_each(drop);
    }
}

impl Drop for GnutellaNet {
    fn drop(&mut self) {
        self.stop();
    }
}
