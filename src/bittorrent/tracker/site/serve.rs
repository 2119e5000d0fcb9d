//! The site's side of a request, in the request's own thread: route a GET to a page or
//! a file, read and check a POSTed `.torrent`, ask the coordinator, answer in HTTP/1.0.
//!
//! An upload is refused before it is read when it is too large (413, [`MAX_UPLOAD`]) or
//! has no length (411); after it is read, when the strict decoder rejects it (400, with
//! the decoder's reason) or the catalog is full (507). A refusal changes nothing.

use super::catalog::Outcome;
use super::{html, MAX_UPLOAD};
use crate::bittorrent::metainfo::{InfoHash, Metainfo};
use crate::bittorrent::tracker::job::{ask, Answer, Ask, Job};
use crate::net;
use crate::share::ids::{sha1_from_hex, to_hex};
use crate::wire::{read_body, Head, WireError};
use crossbeam_channel::Sender;
use std::io::{self, BufRead, Read};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

/// After refusing an upload, bytes of its body still read and dropped, so that closing
/// with unread bytes (a TCP reset) does not destroy the answer before the client reads it.
pub const MAX_DRAIN: u64 = 2 * MAX_UPLOAD;
/// How long that draining may take.
pub const DRAIN_FOR: Duration = Duration::from_millis(500);

/// A whole HTTP/1.0 response.
pub fn response(code: u16, content_type: &str, extra: &str, body: &[u8]) -> Vec<u8> {
    let reason = match code {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Payload Too Large",
        503 => "Service Unavailable",
        507 => "Insufficient Storage",
        _ => "Error",
    };
    let mut out = format!(
        "HTTP/1.0 {code} {reason}\r\nServer: p2plab/0.1\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn text(code: u16, why: &str) -> Vec<u8> {
    response(
        code,
        "text/plain; charset=utf-8",
        "",
        format!("{why}\n").as_bytes(),
    )
}

fn busy() -> Vec<u8> {
    text(503, "tracker busy, try again later")
}

/// `http://HOST` as the client named us (the `Host` header, if it is a plain host:port),
/// else our own address: the links on the pages point back here.
pub fn base_url(head: &Head, local: SocketAddr) -> String {
    let plain = |h: &&str| {
        !h.is_empty()
            && h.len() <= 255
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
    };
    match head.get("Host").filter(plain) {
        Some(h) => format!("http://{h}"),
        None => format!("http://{local}"),
    }
}

/// `<40 hex>` → the info-hash.
fn hash_of(hex: &str) -> Option<InfoHash> {
    sha1_from_hex(hex)
}

/// A GET (or HEAD) for anything but `/announce` and `/scrape`.
pub fn get(method: &str, target: &str, base: &str, jobs: &Sender<Job>) -> Vec<u8> {
    let mut out = page(target, base, jobs);
    if method == "HEAD" {
        let end = out
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(out.len(), |i| i + 4);
        out.truncate(end);
    }
    out
}

fn page(target: &str, base: &str, jobs: &Sender<Job>) -> Vec<u8> {
    let path = target.split('?').next().unwrap_or("");
    let html_ok = |page: String| response(200, "text/html; charset=utf-8", "", page.as_bytes());
    if path == "/" || path == "/index.html" {
        return match ask(jobs, Ask::Index) {
            Some(Answer::Index(p)) => html_ok(html::index(&p, base)),
            _ => busy(),
        };
    }
    let Some(rest) = path.strip_prefix("/torrent/") else {
        return text(404, "no such page");
    };
    if let Some(hex) = rest.strip_suffix(".torrent") {
        let Some(hash) = hash_of(hex) else {
            return text(404, "not an info-hash");
        };
        return match ask(jobs, Ask::File(hash)) {
            Some(Answer::File(Some((name, bytes)))) => {
                // The name goes into a header: keep only characters that cannot end it.
                let safe: String = name
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                let disp =
                    format!("Content-Disposition: attachment; filename=\"{safe}.torrent\"\r\n");
                response(200, "application/x-bittorrent", &disp, &bytes)
            }
            Some(Answer::File(None)) => text(404, "this torrent was not published here"),
            _ => busy(),
        };
    }
    let Some(hash) = hash_of(rest) else {
        return text(404, "not an info-hash");
    };
    match ask(jobs, Ask::Swarm(hash)) {
        Some(Answer::Swarm(Some(p))) => html_ok(html::swarm(&p, base)),
        Some(Answer::Swarm(None)) => text(404, "the tracker knows no such torrent"),
        _ => busy(),
    }
}

/// A POST: the answer, and how many body bytes are still unread (to drain).
pub fn post<R: BufRead>(
    r: &mut R,
    target: &str,
    head: &Head,
    base: &str,
    jobs: &Sender<Job>,
) -> (Vec<u8>, u64) {
    let path = target.split('?').next().unwrap_or("");
    let len = head.get("Content-Length").map(|l| l.trim().parse::<u64>());
    if path != "/publish" {
        return (
            text(404, "POST goes to /publish"),
            len.and_then(Result::ok).unwrap_or(0),
        );
    }
    let len = match len {
        None => {
            return (
                text(
                    411,
                    "Content-Length required: the body is the .torrent file",
                ),
                0,
            )
        }
        Some(Err(_)) => return (text(400, "Content-Length is not a number"), 0),
        Some(Ok(n)) => n,
    };
    let body = match read_body(r, len, MAX_UPLOAD) {
        Ok(b) => b,
        Err(WireError::TooLong { len, max }) => {
            let why = format!("upload of {len} bytes refused: a .torrent here is at most {max} bytes (MAX_UPLOAD)");
            return (text(413, &why), len);
        }
        Err(e) => return (text(400, &format!("upload incomplete: {e}")), 0),
    };
    net::established();
    let meta = match Metainfo::from_bytes(&body) {
        Ok(m) => m,
        Err(e) => return (text(400, &format!("not a valid .torrent: {e}")), 0),
    };
    let hex = to_hex(&meta.info_hash);
    let page = format!("{base}/torrent/{hex}");
    let said = format!("{}\ninfo-hash {hex}\n{page}\n", meta.info.name);
    let answer = ask(
        jobs,
        Ask::Publish {
            meta: Box::new(meta),
            bytes: Arc::new(body),
        },
    );
    let out = match answer {
        Some(Answer::Published(Outcome::Listed)) => {
            let loc = format!("Location: {page}\r\n");
            response(
                201,
                "text/plain; charset=utf-8",
                &loc,
                format!("listed {said}").as_bytes(),
            )
        }
        Some(Answer::Published(Outcome::AlreadyListed)) => {
            text(200, &format!("already listed {said}"))
        }
        Some(Answer::Published(Outcome::Full(why))) => text(507, why),
        _ => busy(),
    };
    (out, 0)
}

/// After a refused upload: stop sending, then read (and drop) up to `unread` bytes of
/// the body, at most [`MAX_DRAIN`] for at most [`DRAIN_FOR`].
pub fn drain<R: Read>(stream: &TcpStream, r: &mut R, unread: u64) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(DRAIN_FOR));
    let _ = io::copy(&mut r.take(unread.min(MAX_DRAIN)), &mut io::sink());
}
