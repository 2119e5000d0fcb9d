//! Napster: the central directory (notes 6.3, 集中化目录; problems in 6.4).
//!
//! The notes in three lines:
//! - when a peer connects it tells the central server its IP address and its content
//!   (当对等方连接时，告知中心服务器：IP地址，内容);
//! - a user queries and gets a directory back (用户查询 → 获得目录);
//! - the file is requested from the peer that has it (从XX用户处请求文件), never from the server.
//!
//! ```text
//!                    ┌──────────────────────┐
//!      login, share  │  directory server    │  search → results
//!   peer A ─────────►│  nick → ip:port      │◄──────── peer B
//!                    │  keyword → files     │
//!                    └──────────────────────┘
//!   peer B ═══════════ HTTP GET, file bytes ═══════════► peer A   (straight, peer to peer)
//! ```
//!
//! 6.4 names the price: locating is centralized while transfer is spread out, so the
//! server is a single point of failure (单点故障) and a performance bottleneck (性能瓶颈).
//! `make lab-napster` measures both.
//!
//! Where to look first: [`directory`] (the index, plain data), then [`server`] (one thread
//! per peer around it), [`msg`] (the bytes), [`peer`] (the client).
//!
//! Simplified here:
//! - The `md5` field carries the file's SHA-1 in hex, so that the same content id serves
//!   the download check (OpenNap clients sent an MD5 of the first 300 KB).
//! - The file transfer is the HTTP GET of `src/share` (by `urn:sha1`), not Napster's own
//!   `GET` + `nick "name" offset` exchange; the point, peer to peer, is the same.
//! - On a download request the server answers the requester only; a real server also told
//!   the uploader (type 607) so that firewalled peers could push.
//! - No passwords, channels, chat, hotlists or server linking.

pub mod directory;
pub mod load;
pub mod msg;
pub mod peer;
pub mod server;

pub use directory::{Directory, Hit, PeerInfo};
pub use msg::{read_msg, FileMeta, Msg, MAX_DATA, MAX_RESULTS};
pub use peer::{NapsterError, Peer, PeerConfig, SearchHit, Session};
pub use server::{DirectoryServer, ServerOptions, Stats, DEFAULT_PORT};
