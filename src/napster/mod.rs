//! # Napster: the central directory (notes 6.3 集中化目录; its problems in 6.4 问题)
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
//! 6.4 names the price: locating content is centralized (定位内容是高度集中的) while
//! file transfer is spread out (文件传输是分散的), so the server is
//! - a single point of failure (单点故障): when it dies, no one can search or join,
//!   though transfers already under way finish;
//! - a performance bottleneck (性能瓶颈): every search and every login and logout of every
//!   peer lands on it. Here that is literal: one coordinator thread owns the directory
//!   and answers every request, one at a time.
//!
//! `make lab-napster` measures both.
//!
//! | file | role |
//! |---|---|
//! | `msg.rs` | the OpenNap frames and their codec (the field cursor in `msg/fields.rs`), byte-literal tests in `msg/tests.rs` |
//! | `conn.rs` | one peer's connection to the server: a reader thread, a writer thread fed by a bounded queue |
//! | `node/` | the directory server: bind, accept, the handle, stop (`node/mod.rs`); the coordinator loop (`node/coordinator.rs`) |
//! | `state.rs` | the directory, owned by the coordinator: the logged-in peers and their files; its inverted index, keyword → files, in `state/index.rs` |
//! | `policy.rs` | the decisions as pure functions: login rules, which hits a search returns, the login deadline |
//! | `peer/` | the client side: a [`Peer`] that logs in, shares, searches and downloads (`mod.rs`); its [`Session`] with the directory (`session.rs`) |
//! | `load.rs` | many searching peers at once, for the lab and `bench-napster` |
//! | `locate.rs` | [`NapsterNet`]: the directory and its peers behind `crate::locate::Design` (6.4), counting each node's messages and bytes |
//!
//! Where to look first: [`state`] (the index, plain data), then [`policy`] (what a
//! search returns), `node/coordinator.rs` (the one thread that answers), [`msg`] (the
//! bytes), [`peer`] (the client).
//!
//! Simplified here:
//! - The `md5` field carries the file's SHA-1 in hex, so that the same content id serves
//!   the download check (OpenNap clients sent an MD5 of the first 300 KB).
//! - The file transfer is the HTTP GET of `src/share` (by `urn:sha1`), not Napster's own
//!   `GET` + `nick "name" offset` exchange; the point, peer to peer, is the same.
//! - On a download request the server answers the requester only; a real server also told
//!   the uploader (type 607) so that firewalled peers could push.
//! - No passwords, channels, chat, hotlists or server linking.

mod conn;
pub mod load;
pub mod locate;
pub mod msg;
pub mod node;
pub mod peer;
pub mod policy;
pub mod state;

pub use locate::NapsterNet;
pub use msg::{read_msg, FileMeta, Msg, MAX_DATA, MAX_RESULTS};
pub use node::{DirectoryServer, ServerOptions, Stats, DEFAULT_PORT};
pub use peer::{NapsterError, Peer, PeerConfig, SearchHit, Session};
pub use policy::MAX_NICK;
pub use state::{Directory, PeerInfo};
