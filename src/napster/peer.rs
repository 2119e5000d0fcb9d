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
//! A session is one request and its answer at a time on one socket, so its methods take
//! `&mut self`: no lock is needed, and none is held across a read or a write.

use super::msg::{read_msg, FileMeta, Msg, MAX_RESULTS};
use crate::net::{self, TokenBucket};
use crate::share::{fetch, ids, Download, FetchError, Folder, HttpConfig, ShareServer};
use crate::wire::WireError;
use std::fmt;
use std::io::{self, BufReader, BufWriter, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How long a peer waits for the directory to answer.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a Napster operation failed.
#[derive(Debug)]
pub enum NapsterError {
    Io(io::Error),
    Wire(WireError),
    /// The server said no (login error, error message, download error).
    Refused(String),
    /// The server answered with a message that does not fit the request.
    Unexpected(u16),
    Fetch(FetchError),
}

impl fmt::Display for NapsterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NapsterError::Io(e) => write!(f, "directory connection: {e}"),
            NapsterError::Wire(e) => write!(f, "directory sent {e}"),
            NapsterError::Refused(why) => write!(f, "directory refused: {why}"),
            NapsterError::Unexpected(t) => write!(f, "directory answered with type {t}"),
            NapsterError::Fetch(e) => write!(f, "download failed: {e}"),
        }
    }
}

impl std::error::Error for NapsterError {}

impl From<io::Error> for NapsterError {
    fn from(e: io::Error) -> Self {
        NapsterError::Io(e)
    }
}

impl From<WireError> for NapsterError {
    fn from(e: WireError) -> Self {
        match e {
            WireError::Io(e) => NapsterError::Io(e),
            e => NapsterError::Wire(e),
        }
    }
}

/// A search result as the directory gives it: no port yet (that comes with the
/// download ack, as in Napster).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    pub file: FileMeta,
    pub nick: String,
    pub ip: Ipv4Addr,
    pub link: u8,
}

/// One logged-in connection to a directory server.
pub struct Session {
    reader: BufReader<TcpStream>,
    writer: BufWriter<TcpStream>,
}

impl Session {
    /// Connects and logs in as `nick`, announcing `data_port` (0: firewalled).
    pub fn login(server: SocketAddr, nick: &str, data_port: u16) -> Result<Session, NapsterError> {
        let stream = net::connect(server, Some(ANSWER_TIMEOUT))?;
        let mut s = Session {
            reader: BufReader::new(stream.try_clone()?),
            writer: BufWriter::new(stream),
        };
        let login = Msg::Login {
            nick: nick.into(),
            password: "none".into(),
            port: data_port,
            client: "p2plab 0.1".into(),
            link: 10, // OpenNap's "unknown/T1": loopback is fast
        };
        s.send(&login)?;
        match s.recv()? {
            Msg::LoginAck { .. } => Ok(s),
            Msg::LoginError(why) | Msg::Error(why) => Err(NapsterError::Refused(why)),
            other => Err(NapsterError::Unexpected(other.kind())),
        }
    }

    fn send(&mut self, msg: &Msg) -> Result<(), NapsterError> {
        self.writer.write_all(&msg.encode()?)?;
        self.writer.flush()?;
        Ok(())
    }

    fn recv(&mut self) -> Result<Msg, NapsterError> {
        match read_msg(&mut self.reader)? {
            Some(m) => Ok(m),
            None => Err(NapsterError::Io(io::ErrorKind::UnexpectedEof.into())),
        }
    }

    /// Announces one file. The directory does not answer shares.
    pub fn share(&mut self, meta: &FileMeta) -> Result<(), NapsterError> {
        self.send(&Msg::Share(meta.clone()))
    }

    pub fn unshare(&mut self, name: &str) -> Result<(), NapsterError> {
        self.send(&Msg::Unshare { name: name.into() })
    }

    /// Asks the directory; reads results until the end-of-results message.
    pub fn search(&mut self, words: &str, max: u32) -> Result<Vec<SearchHit>, NapsterError> {
        self.send(&Msg::Search {
            words: words.into(),
            max: max.min(MAX_RESULTS),
        })?;
        let mut hits = Vec::new();
        loop {
            match self.recv()? {
                Msg::SearchResult {
                    file,
                    nick,
                    ip,
                    link,
                } => hits.push(SearchHit {
                    file,
                    nick,
                    ip,
                    link,
                }),
                Msg::SearchEnd => return Ok(hits),
                Msg::Error(why) => return Err(NapsterError::Refused(why)),
                other => return Err(NapsterError::Unexpected(other.kind())),
            }
        }
    }

    /// Asks where `nick` serves `name`: its address and the file's content id.
    pub fn locate(
        &mut self,
        nick: &str,
        name: &str,
    ) -> Result<(SocketAddrV4, String), NapsterError> {
        self.send(&Msg::DownloadRequest {
            nick: nick.into(),
            name: name.into(),
        })?;
        match self.recv()? {
            Msg::DownloadAck { ip, port, md5, .. } if port != 0 => {
                Ok((SocketAddrV4::new(ip, port), md5))
            }
            Msg::DownloadAck { .. } => Err(NapsterError::Refused(format!("{nick} is firewalled"))),
            Msg::DownloadError { .. } => Err(NapsterError::Refused(format!(
                "{nick} no longer shares {name}"
            ))),
            other => Err(NapsterError::Unexpected(other.kind())),
        }
    }

    /// Closes the connection: the directory forgets our files at once.
    pub fn close(&self) {
        let _ = self.writer.get_ref().shutdown(Shutdown::Both);
    }
}

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
        let folder = Arc::new(Folder::scan(&cfg.share_dir)?);
        let http = HttpConfig {
            rate: cfg.upload_rate.map(TokenBucket::new),
            ..HttpConfig::default()
        };
        let files = ShareServer::start(folder.clone(), &cfg.listen, http)?;
        let mut session = Session::login(cfg.server, &cfg.nick, files.local_addr().port())?;
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
