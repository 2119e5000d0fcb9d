//! One logged-in connection to the directory: login, share, search, locate, log out.
//!
//! A session is one request and its answer at a time on one socket, so its methods take
//! `&mut self`: no lock is needed, and none is held across a read or a write.

use crate::locate::{Metered, Traffic};
use crate::napster::msg::{read_msg, FileMeta, Msg, MAX_RESULTS};
use crate::net;
use crate::share::FetchError;
use crate::wire::WireError;
use std::fmt;
use std::io::{self, BufReader, BufWriter, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4, TcpStream};
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

/// One logged-in connection to a directory server. Its socket is [`Metered`]: the
/// session's [`Traffic`] counts every message and byte it exchanges with the directory.
pub struct Session {
    reader: BufReader<Metered<TcpStream>>,
    writer: BufWriter<Metered<TcpStream>>,
    traffic: Traffic,
}

impl Session {
    /// Connects and logs in as `nick`, announcing `data_port` (0: firewalled).
    pub fn login(server: SocketAddr, nick: &str, data_port: u16) -> Result<Session, NapsterError> {
        Session::login_metered(server, nick, data_port, Traffic::new())
    }

    /// [`Session::login`], counting into `traffic` (shared with the caller).
    pub fn login_metered(
        server: SocketAddr,
        nick: &str,
        data_port: u16,
        traffic: Traffic,
    ) -> Result<Session, NapsterError> {
        let stream = net::connect(server, Some(ANSWER_TIMEOUT))?;
        let mut s = Session {
            reader: BufReader::new(Metered::new(stream.try_clone()?, traffic.clone())),
            writer: BufWriter::new(Metered::new(stream, traffic.clone())),
            traffic,
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
        self.traffic.add_sent(1, 0);
        Ok(())
    }

    fn recv(&mut self) -> Result<Msg, NapsterError> {
        match read_msg(&mut self.reader)? {
            Some(m) => {
                self.traffic.add_received(1, 0);
                Ok(m)
            }
            None => Err(NapsterError::Io(io::ErrorKind::UnexpectedEof.into())),
        }
    }

    /// Messages and bytes this session has exchanged with the directory.
    pub fn traffic(&self) -> &Traffic {
        &self.traffic
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

    /// Closes the connection: the directory forgets our files at once. This is also
    /// how a crash looks to the directory (the kernel closes a dead client's socket).
    pub fn close(&self) {
        let _ = self.writer.get_ref().get_ref().shutdown(Shutdown::Both);
    }

    /// Logs out politely and waits until the directory has forgotten us. OpenNap has no
    /// logout message: a client closes its connection. Here it closes only its sending
    /// side and reads on; the directory drops our files first and closes its side
    /// after, so the end of the stream is the directory's word that we are gone.
    pub fn log_out(&mut self) -> Result<(), NapsterError> {
        self.writer.flush()?;
        self.writer.get_ref().get_ref().shutdown(Shutdown::Write)?;
        // Bounded: the socket's read timeout is ANSWER_TIMEOUT, and the directory
        // sends nothing unasked, so the first read brings the end of the stream.
        while read_msg(&mut self.reader)?.is_some() {
            self.traffic.add_received(1, 0);
        }
        self.close();
        Ok(())
    }
}
