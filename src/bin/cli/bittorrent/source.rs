//! What `bt get` is given (notes 6.5, joining a torrent): a `.torrent` file, an
//! `http://…/x.torrent` URL (the website, BT网站), or a magnet link (磁力链接), whose
//! info dict is fetched from the peers the link's trackers name (BEP 9), checked
//! against its info-hash, and parsed like a file.

use super::super::common::shown;
use super::load;
use p2plab::bittorrent::metadata::fetch::{fetch, metainfo_from, FetchConfig};
use p2plab::bittorrent::metadata::Magnet;
use p2plab::bittorrent::metainfo::{Metainfo, MAX_TORRENT_BYTES};
use p2plab::bittorrent::node::{new_peer_id, ClientConfig};
use p2plab::bittorrent::tracker::msg::{announce, Announce, Event};
use p2plab::share::ids::to_hex;
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

/// How long a magnet link's metadata is looked for.
const FETCH_FOR: Duration = Duration::from_secs(60);
/// Between two rounds of asking the trackers and their peers.
const RETRY: Duration = Duration::from_secs(2);

/// The torrent named by `source`. For a magnet link, `cfg.listen` is pinned to a
/// port (announced to the trackers before the node starts) and `peers` are asked too.
pub fn resolve(
    source: &str,
    cfg: &mut ClientConfig,
    peers: &[SocketAddr],
) -> Result<Metainfo, String> {
    if source.starts_with("magnet:") {
        return from_magnet(source, cfg, peers);
    }
    if source.starts_with("http://") {
        let bytes = p2plab::bittorrent::tracker::msg::get_file(source, MAX_TORRENT_BYTES)
            .map_err(|e| format!("cannot fetch {source}: {e}"))?;
        return Metainfo::from_bytes(&bytes).map_err(|e| format!("{source}: {e}"));
    }
    load(source)
}

fn from_magnet(
    link: &str,
    cfg: &mut ClientConfig,
    extra: &[SocketAddr],
) -> Result<Metainfo, String> {
    let m = Magnet::parse(link).map_err(|e| e.to_string())?;
    // The port we will listen on, so that the trackers' lists name it rightly.
    let port = {
        let l = TcpListener::bind(cfg.listen.as_str())
            .map_err(|e| format!("cannot listen on {}: {e}", cfg.listen))?;
        l.local_addr().map_err(|e| e.to_string())?
    };
    cfg.listen = port.to_string();
    let peer_id = cfg.peer_id.unwrap_or_else(new_peer_id);
    cfg.peer_id = Some(peer_id);
    // A magnet link may be opened before the seeds have announced: ask again, as the
    // trackers' lists change, until one peer gives the dict or we give up.
    let give_up = Instant::now() + FETCH_FOR;
    let info = loop {
        let peers = ask_trackers(&m, peer_id, port, extra);
        println!(
            "magnet {}: asking {} peer(s) for the metadata",
            to_hex(&m.info_hash),
            peers.len()
        );
        // A peer id of its own: the seeds may still hold the fetch's connection when
        // the node calls them, and refuse a second one from the same id.
        let fc = FetchConfig {
            peer_id: new_peer_id(),
            encryption: cfg.encryption,
            rng_seed: cfg.rng_seed.unwrap_or(u64::from(port.port())),
        };
        match fetch(&m.info_hash, &peers, &fc) {
            Ok(info) => break info,
            Err(e) if Instant::now() > give_up => return Err(e),
            Err(e) => eprintln!("{}; asking again in {RETRY:?}", shown(&e)),
        }
        std::thread::sleep(RETRY);
    };
    let meta = metainfo_from(&info, m.trackers.first().map(String::as_str))?;
    println!(
        "metadata: {} ({} bytes, verified against the info-hash)",
        shown(&meta.info.name),
        info.len()
    );
    Ok(meta)
}

/// Peers for the magnet link's torrent: the trackers' lists, and the ones given by hand.
fn ask_trackers(
    m: &Magnet,
    peer_id: [u8; 20],
    us: SocketAddr,
    extra: &[SocketAddr],
) -> Vec<SocketAddr> {
    let mut peers = extra.to_vec();
    for tr in &m.trackers {
        let a = Announce {
            info_hash: m.info_hash,
            peer_id,
            port: us.port(),
            uploaded: 0,
            downloaded: 0,
            left: 1, // unknown until the metadata is here; not a seed
            event: Event::Started,
            numwant: 50,
        };
        match announce(tr, &a) {
            Ok(r) => {
                for p in r.peers {
                    if p != us && !peers.contains(&p) {
                        peers.push(p);
                    }
                }
            }
            Err(e) => eprintln!("tracker {}: {}", shown(tr), shown(&e.to_string())),
        }
    }
    peers
}
