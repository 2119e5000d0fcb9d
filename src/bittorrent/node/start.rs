//! Starting a node: open the torrent's files, check what is already there, bind, and
//! start the coordinator, the verifier and the announcer (see `mod.rs` for the threads).

use super::announcer::Announcer;
use super::api::{new_peer_id, ClientConfig, Cmd, Inputs, Published};
use super::coordinator::Coordinator;
use super::{verify, Client};
use crate::bittorrent::conn::gate::OurPieces;
use crate::bittorrent::conn::{self, Ctx, EVENT_QUEUE, HANDSHAKE_TIMEOUT};
use crate::bittorrent::metainfo::Metainfo;
use crate::bittorrent::state::pieces::Pieces;
use crate::bittorrent::state::State;
use crate::bittorrent::storage::Storage;
use crate::bittorrent::utp_reset::{CallBack, UtpReset};
use crate::net::{Conns, Server, ServerConfig, TokenBucket};
use crate::rng::Rng;
use crossbeam_channel::{bounded, unbounded};
use log::{info, warn};
use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The whole BitTorrent handshake (68 bytes each way, plus the bitfield) must be over
/// this long after accept, however its bytes are paced (scaled by `time_scale`).
pub const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(10);
/// However small the time scale: a loaded machine must still finish a real handshake.
const MIN_HANDSHAKE_DEADLINE: Duration = Duration::from_secs(2);

impl Client {
    /// Opens the torrent's files at `paths` (`writable`: a download), checks what is
    /// already there (resume), listens, and announces to the tracker.
    pub fn start(
        meta: Metainfo,
        paths: &[PathBuf],
        writable: bool,
        cfg: ClientConfig,
    ) -> io::Result<Client> {
        let storage = Storage::open(&meta.info, paths, writable)?;
        let have = storage.check_existing()?;
        let peer_id = cfg.peer_id.unwrap_or_else(new_peer_id);
        let seed = cfg.rng_seed.unwrap_or_else(|| {
            peer_id
                .iter()
                .fold(0u64, |h, &b| h.rotate_left(8) ^ b as u64)
        });
        let (total, n) = (meta.info.total_length(), meta.info.num_pieces());
        // The picker, the choker and the dialer each draw from a stream of their own,
        // so that a rechoke timed differently cannot change which pieces are picked.
        let pieces = Pieces::new(
            &have,
            meta.info.piece_length,
            total,
            cfg.picker,
            Rng::new(seed),
        );
        let st = State::new(
            pieces,
            Rng::new(seed ^ 0xC0C0_C0C0),
            Rng::new(seed ^ 0xD1A1_D1A1),
        );
        let have_count = st.pieces.have_count;
        info!(
            "{}: {have_count} of {n} pieces already verified on disk",
            meta.info.name
        );
        let (events_tx, events) = bounded(EVENT_QUEUE);
        let (stop_tx, stop) = bounded::<()>(0);
        let conns = Conns::new();
        let ctx = Arc::new(Ctx {
            info_hash: meta.info_hash,
            peer_id,
            storage,
            upload_bucket: cfg.upload_rate.map(TokenBucket::new),
            download_bucket: cfg.download_rate.map(TokenBucket::new),
            uploaded: AtomicU64::new(0),
            downloaded: AtomicU64::new(0),
            corrupt: cfg.corrupt,
            events: events_tx,
            next_key: AtomicU64::new(0),
            conns: conns.clone(),
            stop: stop.clone(),
            blocks: Default::default(),
            encryption: cfg.encryption,
            mse_seed: seed ^ 0x3E5E_3E5E,
            metadata: conn::ext::metadata_of(&meta),
            ours: Arc::new(OurPieces::new(&have)),
        });
        let published = Arc::new(Published {
            have_count: AtomicUsize::new(have_count),
            peers: AtomicUsize::new(0),
            completed_at: OnceLock::new(),
            final_stats: OnceLock::new(),
        });
        let mut sc = ServerConfig::new("bt");
        sc.max_conns = cfg.max_peers;
        sc.read_timeout = Some(HANDSHAKE_TIMEOUT);
        // Slots are scarce (a thread each): the handshake has a deadline however it is
        // paced, one address holds at most `max_per_addr`, and a full node closes its
        // least useful connection (see `download.rs`) rather than refuse a newcomer.
        sc.opening_deadline = Some(
            HANDSHAKE_DEADLINE
                .mul_f64(cfg.scale())
                .max(MIN_HANDSHAKE_DEADLINE),
        );
        sc.max_per_addr = cfg.max_per_addr;
        sc.evict_when_full = true;
        let c = ctx.clone();
        let server = Server::bind_with(cfg.listen.as_str(), sc, conns.clone(), move |stream| {
            conn::serve(c.clone(), stream, None)
        })?;
        let listen = server.local_addr();
        let (verify_tx, verify_rx) = unbounded();
        let (verdict_tx, verdicts) = unbounded();
        let (cmds_tx, cmds) = unbounded();
        // Without it a real client waits seconds for uTP before trying TCP, and Transmission
        // never does: we call it back. A node that cannot bind UDP still serves TCP, so
        // this is worth a warning, not an error.
        let call = cmds_tx.clone();
        let call_back: CallBack = Box::new(move |a| {
            let _ = call.send(Cmd::Peers(vec![a]));
        });
        let utp_reset = UtpReset::start(listen, call_back)
            .map_err(|e| warn!("no uTP reset on udp {listen}: {e}"))
            .ok();
        let (done_tx, done) = bounded::<()>(0);
        let (completed_tx, completed_rx) = unbounded();
        let c = ctx.clone();
        conns.spawn_worker("bt-verify".into(), move || {
            verify::verifier(&c, &verify_rx, &verdict_tx)
        })?;
        let silent = Arc::new(AtomicBool::new(false));
        if cfg.use_tracker && meta.announce.is_some() {
            let a = Announcer {
                ctx: ctx.clone(),
                published: published.clone(),
                url: meta.announce.clone().unwrap_or_default(),
                listen,
                want: cfg.neighbours.max(1).min(cfg.max_peers),
                time_scale: cfg.scale(),
                cmds: cmds_tx.clone(),
                silent: silent.clone(),
            };
            let stop = stop.clone();
            conns.spawn_worker("bt-announce".into(), move || a.run(&completed_rx, &stop))?;
        }
        let coordinator = Coordinator {
            ctx: ctx.clone(),
            st,
            cfg,
            published: published.clone(),
            verify_tx,
            verifying: 0,
            done_tx: Some(done_tx),
            completed_tx,
            refill: false,
            corked: BTreeMap::new(),
        };
        let inputs = Inputs {
            events,
            cmds,
            verdicts,
            stop,
        };
        conns.spawn_worker("bt-coord".into(), move || coordinator.run(inputs))?;
        Ok(Client {
            ctx,
            published,
            cmds: cmds_tx,
            server,
            utp_reset,
            conns,
            stop_tx: Some(stop_tx),
            done,
            silent,
            total,
        })
    }
}
