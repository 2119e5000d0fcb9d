//! The BT website (BT网站, notes 6.5): how a newcomer finds a torrent. The notes' story
//! starts here: a site lists torrents; the user takes a torrent file from it, which names
//! the tracker; the peer announces and receives peers. `p2plab bt tracker` serves that
//! site on the tracker's own port, next to `/announce` and `/scrape`.
//!
//! ```text
//!   GET  /                           every torrent: name, size, pieces, seeders/leechers/
//!                                    completed (the swarm table), .torrent and magnet links
//!   GET  /torrent/<hex>              one swarm: its peers and their progress (from `left`),
//!                                    reloading itself every PAGE_REFRESH seconds
//!   GET  /torrent/<hex>.torrent      the file exactly as it was published
//!   POST /publish                    a .torrent as the body (`bt make FILE --publish URL`)
//! ```
//!
//! | file | role |
//! |---|---|
//! | `catalog.rs` | what was published: the exact bytes and a summary; bounded, refuses when full |
//! | `html.rs` | the pages, as pure functions of what the coordinator saw; every network text escaped |
//! | `serve.rs` | the request side: route, read an upload (capped, checked), write the answer |
//! | `publish.rs` | the client side: POST a `.torrent` to a site |
//!
//! The request thread reads and checks (the same strict decoder as `bt get`,
//! `Metainfo::from_bytes`); the tracker's coordinator, which owns both the swarm table
//! and the catalog, lists the torrent or builds a page's rows; the thread renders and
//! writes. An upload must arrive whole within the listener's opening deadline, like a
//! request head, and is refused beyond [`MAX_UPLOAD`] before a byte of it is read.
//!
//! Simplified here: the body of a POST is the raw `.torrent` (no HTML form, which would
//! need a multipart parser); anyone may publish (a real site has accounts); pages are
//! built per request, without a cache; the page reloads itself rather than using script.

pub mod catalog;
pub mod html;
pub mod publish;
pub mod serve;

use crate::bittorrent::metainfo::InfoHash;
use crate::bittorrent::msg::handshake::PeerId;
use catalog::Summary;
use std::net::SocketAddr;
use std::time::Duration;

/// Largest `.torrent` the site takes. 2 MiB holds the piece hashes of a 25 GiB torrent
/// in 256 KiB pieces; a bigger upload is refused (413) before it is read.
pub const MAX_UPLOAD: u64 = 2 * 1024 * 1024;
/// Seconds between two reloads of a swarm page (its `<meta http-equiv="refresh">`).
pub const PAGE_REFRESH: u32 = 5;
/// Rows on the front page and peers on a swarm page, at most: the table holds up to
/// 10,000 torrents and 5,000 peers each, and a page must stay a page.
pub const MAX_ROWS: usize = 500;
pub const MAX_PEERS_SHOWN: usize = 500;

/// One torrent on the front page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub hash: InfoHash,
    /// Known only for a published torrent; an announced one is just its info-hash.
    pub summary: Option<Summary>,
    pub seeds: u64,
    pub leechers: u64,
    /// Finished downloads seen (`event=completed`), as scrape's `downloaded`.
    pub completed: u64,
}

/// The front page, as the coordinator saw the tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexPage {
    pub rows: Vec<Row>,
    /// Torrents beyond [`MAX_ROWS`].
    pub hidden: usize,
    pub registered_only: bool,
}

/// One peer of a swarm, as it last announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRow {
    pub addr: SocketAddr,
    pub id: PeerId,
    pub left: u64,
    pub heard_ago: Duration,
}

/// One torrent's page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmPage {
    pub row: Row,
    pub peers: Vec<PeerRow>,
    /// Peers beyond [`MAX_PEERS_SHOWN`].
    pub hidden: usize,
}
