//! What a peer can still do once the directory is gone (6.4's 单点故障): nothing that
//! needs the center, which is everything but the transfers already under way.

use p2plab::napster::{Peer, PeerConfig};
use std::net::SocketAddr;
use std::path::Path;

/// A search and a login once the directory is gone: prints what happens, returns how
/// many of the two failed.
pub fn try_without_directory(asker: &mut Peer, center: SocketAddr, folder: &Path) -> u32 {
    let after_search = asker.search("love", 10);
    let after_login = Peer::start(PeerConfig {
        server: center,
        nick: "latecomer".into(),
        share_dir: folder.to_path_buf(),
        listen: "127.0.0.1:0".into(),
        upload_rate: None,
    });
    println!(
        "   {} searches \"love\": {}",
        asker.nick(),
        after_search
            .as_ref()
            .map(|h| format!("{} results", h.len()))
            .unwrap_or_else(|e| format!("fails: {e}"))
    );
    println!(
        "   a new peer tries to join: {}",
        after_login
            .as_ref()
            .map(|_| "joined".to_string())
            .unwrap_or_else(|e| format!("fails: {e}"))
    );
    after_search.is_err() as u32 + after_login.is_err() as u32
}
