//! Napster messages and their codec (OpenNap's `napster.txt`).
//!
//! Every message is a 4-byte header and a text payload:
//!
//! ```text
//!   byte 0-1  length of the data, u16 little-endian (the header is not counted)
//!   byte 2-3  message type, u16 little-endian
//!   byte 4..  data: fields separated by one space; file names in double quotes
//! ```
//!
//! For example a search for "abbey road", at most 10 results:
//!
//! ```text
//!   2d 00  c8 00  FILENAME CONTAINS "abbey road" MAX_RESULTS 10
//!   len 45 type 200
//! ```
//!
//! Types used here (the numbers are OpenNap's):
//!
//! | type | message | data |
//! |---|---|---|
//! | 0 | login error | text |
//! | 2 | login | `nick password port "client-info" link-type` (port 0: firewalled) |
//! | 3 | login ack | email |
//! | 100 | share a file | `"name" md5 size bitrate freq seconds` |
//! | 102 | unshare a file | `"name"` |
//! | 200 | search | `FILENAME CONTAINS "words" MAX_RESULTS n` |
//! | 201 | search result | `"name" md5 size bitrate freq seconds nick ip link-type` |
//! | 202 | end of search results | empty |
//! | 203 | download request | `nick "name"` |
//! | 204 | download ack | `nick ip port "name" md5 speed` |
//! | 206 | download error | `nick "name"` |
//! | 404 | error message | text |
//!
//! `ip` is a decimal u32 whose least significant byte is the first octet: OpenNap
//! printed the network-order word as an x86 integer, so 127.0.0.1 is `16777343`.
//! The `md5` field carries the file's SHA-1 in hex here (see "simplified here" in `mod.rs`).

use crate::wire::{read_body, read_exact_or_eof, WireError};
use byteorder::{ByteOrder, LittleEndian};
use fields::Fields;
use std::io::Read;
use std::net::Ipv4Addr;

mod fields;

/// Largest data part accepted. A share line with a 255-byte name needs about 350;
/// OpenNap itself refused long lines. A frame claiming more is refused unread.
pub const MAX_DATA: u64 = 4096;
/// Most results one search may return, as OpenNap capped it.
pub const MAX_RESULTS: u32 = 100;

/// What the directory knows of one shared file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMeta {
    pub name: String,
    /// Content id (OpenNap: an MD5; here the SHA-1 in hex).
    pub md5: String,
    pub size: u64,
    pub bitrate: u32,
    pub freq: u32,
    pub seconds: u32,
}

/// One Napster message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    LoginError(String),
    Login {
        nick: String,
        password: String,
        port: u16,
        client: String,
        link: u8,
    },
    LoginAck {
        email: String,
    },
    Share(FileMeta),
    Unshare {
        name: String,
    },
    Search {
        words: String,
        max: u32,
    },
    SearchResult {
        file: FileMeta,
        nick: String,
        ip: Ipv4Addr,
        link: u8,
    },
    SearchEnd,
    DownloadRequest {
        nick: String,
        name: String,
    },
    DownloadAck {
        nick: String,
        ip: Ipv4Addr,
        port: u16,
        name: String,
        md5: String,
        speed: u8,
    },
    DownloadError {
        nick: String,
        name: String,
    },
    Error(String),
}

/// OpenNap's integer form of an IPv4 address.
pub fn ip_to_napster(ip: Ipv4Addr) -> u32 {
    u32::from_le_bytes(ip.octets())
}

pub fn ip_from_napster(n: u32) -> Ipv4Addr {
    Ipv4Addr::from(n.to_le_bytes())
}

fn quote(name: &str) -> String {
    format!("\"{name}\"")
}

fn meta_fields(f: &FileMeta) -> String {
    let FileMeta {
        name,
        md5,
        size,
        bitrate,
        freq,
        seconds,
    } = f;
    format!("{} {md5} {size} {bitrate} {freq} {seconds}", quote(name))
}

impl Msg {
    /// The OpenNap type number.
    pub fn kind(&self) -> u16 {
        match self {
            Msg::LoginError(_) => 0,
            Msg::Login { .. } => 2,
            Msg::LoginAck { .. } => 3,
            Msg::Share(_) => 100,
            Msg::Unshare { .. } => 102,
            Msg::Search { .. } => 200,
            Msg::SearchResult { .. } => 201,
            Msg::SearchEnd => 202,
            Msg::DownloadRequest { .. } => 203,
            Msg::DownloadAck { .. } => 204,
            Msg::DownloadError { .. } => 206,
            Msg::Error(_) => 404,
        }
    }

    /// The data part, as text.
    pub fn data(&self) -> String {
        match self {
            Msg::LoginError(t) | Msg::Error(t) => t.clone(),
            Msg::Login {
                nick,
                password,
                port,
                client,
                link,
            } => {
                format!("{nick} {password} {port} {} {link}", quote(client))
            }
            Msg::LoginAck { email } => email.clone(),
            Msg::Share(f) => meta_fields(f),
            Msg::Unshare { name } => quote(name),
            Msg::Search { words, max } => {
                format!("FILENAME CONTAINS {} MAX_RESULTS {max}", quote(words))
            }
            Msg::SearchResult {
                file,
                nick,
                ip,
                link,
            } => {
                format!("{} {nick} {} {link}", meta_fields(file), ip_to_napster(*ip))
            }
            Msg::SearchEnd => String::new(),
            Msg::DownloadRequest { nick, name } | Msg::DownloadError { nick, name } => {
                format!("{nick} {}", quote(name))
            }
            Msg::DownloadAck {
                nick,
                ip,
                port,
                name,
                md5,
                speed,
            } => format!(
                "{nick} {} {port} {} {md5} {speed}",
                ip_to_napster(*ip),
                quote(name)
            ),
        }
    }

    /// Header and data, ready for one `write_all`.
    pub fn encode(&self) -> Result<Vec<u8>, WireError> {
        let data = self.data();
        if data.len() as u64 > MAX_DATA {
            return Err(WireError::TooLong {
                len: data.len() as u64,
                max: MAX_DATA,
            });
        }
        let mut out = vec![0u8; 4];
        LittleEndian::write_u16(&mut out[0..2], data.len() as u16);
        LittleEndian::write_u16(&mut out[2..4], self.kind());
        out.extend_from_slice(data.as_bytes());
        Ok(out)
    }

    /// Parses the data of a message of type `kind`.
    pub fn decode(kind: u16, data: &[u8]) -> Result<Msg, WireError> {
        let text =
            std::str::from_utf8(data).map_err(|_| WireError::Malformed("data is not UTF-8"))?;
        let mut f = Fields::new(text);
        let msg = match kind {
            0 => Msg::LoginError(text.to_string()),
            2 => Msg::Login {
                nick: f.word()?,
                password: f.word()?,
                port: f.num()?,
                client: f.quoted()?,
                link: f.num()?,
            },
            3 => Msg::LoginAck {
                email: text.to_string(),
            },
            100 => Msg::Share(read_meta(&mut f)?),
            102 => Msg::Unshare { name: f.quoted()? },
            200 => read_search(&mut f)?,
            201 => Msg::SearchResult {
                file: read_meta(&mut f)?,
                nick: f.word()?,
                ip: ip_from_napster(f.num()?),
                link: f.num()?,
            },
            202 => Msg::SearchEnd,
            203 => Msg::DownloadRequest {
                nick: f.word()?,
                name: f.quoted()?,
            },
            204 => Msg::DownloadAck {
                nick: f.word()?,
                ip: ip_from_napster(f.num()?),
                port: f.num()?,
                name: f.quoted()?,
                md5: f.word()?,
                speed: f.num()?,
            },
            206 => Msg::DownloadError {
                nick: f.word()?,
                name: f.quoted()?,
            },
            404 => Msg::Error(text.to_string()),
            other => return Err(WireError::UnknownType(other as u32)),
        };
        if !matches!(
            msg,
            Msg::LoginError(_) | Msg::LoginAck { .. } | Msg::Error(_)
        ) {
            f.end()?;
        }
        Ok(msg)
    }
}

/// Reads one message. `Ok(None)` when the peer closed cleanly between messages.
/// The length is checked against [`MAX_DATA`] before the data is read.
pub fn read_msg<R: Read>(r: &mut R) -> Result<Option<Msg>, WireError> {
    let mut head = [0u8; 4];
    if !read_exact_or_eof(r, &mut head)? {
        return Ok(None);
    }
    let len = LittleEndian::read_u16(&head[0..2]) as u64;
    let kind = LittleEndian::read_u16(&head[2..4]);
    let data = read_body(r, len, MAX_DATA)?;
    Msg::decode(kind, &data).map(Some)
}

/// `"name" md5 size bitrate freq seconds`, as in a share (100) and a result (201).
fn read_meta(f: &mut Fields) -> Result<FileMeta, WireError> {
    Ok(FileMeta {
        name: f.quoted()?,
        md5: f.word()?,
        size: f.num()?,
        bitrate: f.num()?,
        freq: f.num()?,
        seconds: f.num()?,
    })
}

/// `FILENAME CONTAINS "words" MAX_RESULTS n`, in either order; nothing else.
fn read_search(f: &mut Fields) -> Result<Msg, WireError> {
    let (mut words, mut max) = (None, MAX_RESULTS);
    while !f.is_done() {
        match f.word()?.as_str() {
            "FILENAME" => {
                if f.word()? != "CONTAINS" {
                    return Err(WireError::Malformed("expected FILENAME CONTAINS"));
                }
                words = Some(f.quoted()?);
            }
            "MAX_RESULTS" => max = f.num::<u32>()?.min(MAX_RESULTS),
            _ => return Err(WireError::Malformed("unsupported search constraint")),
        }
    }
    let words = words.ok_or(WireError::Malformed("search without FILENAME CONTAINS"))?;
    Ok(Msg::Search { words, max })
}

#[cfg(test)]
mod tests;
