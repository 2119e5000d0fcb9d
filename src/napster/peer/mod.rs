//! The client side: a Napster peer, with a session to the directory and a file server
//! of its own.
//!
//! ```text
//!   Session  ── login, share, search, download request ──►  directory server
//!   Peer     = Session + shared folder served over HTTP (src/share)
//!   download:  search (200) → pick a result → download request (203)
//!              → ack (204) with ip:port → HTTP GET straight from that peer
//! ```
//!
//! | file | role |
//! |---|---|
//! | `mod.rs` | [`Peer`]: the folder, its file server and a session, started and stopped together |
//! | `session.rs` | [`Session`]: one connection to the directory, one request at a time |

mod session;

pub use session::{NapsterError, SearchHit, Session, ANSWER_TIMEOUT};

use crate::locate::Traffic;
use crate::napster::msg::FileMeta;
use crate::net::TokenBucket;
use crate::share::{fetch, ids, Download, Folder, HttpConfig, ShareServer};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a peer needs to start.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    pub server: SocketAddr,
    pub nick: String,
    /// The folder to share; downloads may go elsewhere.
    pub share_dir: PathBuf,
    /// Where this peer's file server listens (port 0 picks one).
    pub listen: String,
    /// Upload cap of the file server in bytes/s (`None`: unlimited).
    pub upload_rate: Option<u64>,
}

/// A Napster peer: logged in, sharing its folder, serving it over HTTP.
pub struct Peer {
    nick: String,
    session: Session,
    folder: Arc<Folder>,
    files: ShareServer,
}

impl Peer {
    /// Scans the folder, starts the file server, logs in and shares every file.
    pub fn start(cfg: PeerConfig) -> Result<Peer, NapsterError> {
        Peer::start_metered(cfg, Traffic::new())
    }

    /// [`Peer::start`], counting the session's traffic into `traffic`.
    pub fn start_metered(cfg: PeerConfig, traffic: Traffic) -> Result<Peer, NapsterError> {
        let folder = Arc::new(Folder::scan(&cfg.share_dir)?);
        let http = HttpConfig {
            rate: cfg.upload_rate.map(TokenBucket::new),
            ..HttpConfig::default()
        };
        let files = ShareServer::start(folder.clone(), &cfg.listen, http)?;
        let port = files.local_addr().port();
        let mut session = Session::login_metered(cfg.server, &cfg.nick, port, traffic)?;
        for f in folder.files() {
            if f.name.contains('"') {
                continue; // cannot be written inside Napster's quotes
            }
            session.share(&FileMeta {
                name: f.name.clone(),
                md5: ids::to_hex(&f.sha1),
                size: f.size,
                bitrate: 0,
                freq: 0,
                seconds: 0,
            })?;
        }
        Ok(Peer {
            nick: cfg.nick,
            session,
            folder,
            files,
        })
    }

    pub fn nick(&self) -> &str {
        &self.nick
    }

    pub fn folder(&self) -> &Folder {
        &self.folder
    }

    /// Address of this peer's file server.
    pub fn data_addr(&self) -> SocketAddr {
        self.files.local_addr()
    }

    pub fn search(&mut self, words: &str, max: u32) -> Result<Vec<SearchHit>, NapsterError> {
        self.session.search(words, max)
    }

    /// Asks the directory where the file is, then fetches it straight from that peer.
    /// The directory is needed only for the first step: once the transfer has begun,
    /// the directory going down does not stop it.
    pub fn download(
        &mut self,
        hit: &SearchHit,
        out_dir: &Path,
        progress: &mut dyn FnMut(u64),
    ) -> Result<PathBuf, NapsterError> {
        let (addr, md5) = self.session.locate(&hit.nick, &hit.file.name)?;
        let sha1 = ids::sha1_from_hex(&md5)
            .ok_or_else(|| NapsterError::Refused(format!("content id {md5:?} is not a SHA-1")))?;
        let d = Download::by_sha1(SocketAddr::V4(addr), &hit.file.name, hit.file.size, sha1);
        fetch(&d, out_dir, progress).map_err(NapsterError::Fetch)
    }

    /// Waits until the directory lists our last shared file. Shares get no answer, so
    /// the peer asks for that file (203): the directory answers (204) only after every
    /// earlier request on this connection, so then it lists them all.
    pub fn confirm_shared(&mut self) -> Result<(), NapsterError> {
        let Some(last) = self
            .folder
            .files()
            .iter()
            .rev()
            .find(|f| !f.name.contains('"'))
        else {
            return Ok(()); // nothing shared, nothing to confirm
        };
        let name = last.name.clone();
        self.session.locate(&self.nick, &name).map(|_| ())
    }

    /// Leaves politely ([`Session::log_out`]: returns once the directory has dropped
    /// our files), then stops the file server.
    pub fn leave(&mut self) -> Result<(), NapsterError> {
        let out = self.session.log_out();
        self.files.stop();
        out
    }

    /// Logs out (the directory drops our files) and stops the file server.
    pub fn stop(&mut self) {
        self.session.close();
        self.files.stop();
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.stop();
    }
}
