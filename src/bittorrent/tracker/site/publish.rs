//! The uploader's side (`p2plab bt make FILE --publish http://HOST:PORT/`): POST the
//! new `.torrent` to the site and report what it said.
//!
//! ```text
//!   POST /publish HTTP/1.0            Content-Type: application/x-bittorrent
//!   Content-Length: 312               <the .torrent's bytes>
//!   ◄── 201 Created   Location: http://HOST:PORT/torrent/<hex>    listed NAME ...
//!   ◄── 413 / 400 / 507 with the reason as text
//! ```

use crate::bittorrent::tracker::msg::{connect_http, split_url, TrackerError};
use crate::wire::{read_body, read_head};
use std::io::{BufReader, Read, Write};
use std::net::Shutdown;

/// Longest answer read from a site: a few lines of text.
pub const MAX_ANSWER: u64 = 64 * 1024;

/// POSTs `torrent` to the site at `site` (`http://HOST:PORT/`, its `/publish` page).
/// `Ok`: the site's text (it lists the torrent now). `Err(Failure)`: the site's refusal,
/// status line and reason.
pub fn publish(site: &str, torrent: &[u8]) -> Result<String, TrackerError> {
    let (host, path) = split_url(site)?;
    let path = match path.trim_end_matches('/') {
        p if p.ends_with("/publish") => p.to_string(),
        p => format!("{p}/publish"),
    };
    let mut stream = connect_http(host)?;
    let head = format!(
        "POST {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: p2plab/0.1\r\n\
         Content-Type: application/x-bittorrent\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        torrent.len()
    );
    // A site that refuses early (too large) answers before taking the body: a failed
    // write still leaves its answer to read.
    let sent = stream
        .write_all(head.as_bytes())
        .and_then(|_| stream.write_all(torrent));
    if sent.is_ok() {
        let _ = stream.shutdown(Shutdown::Write);
    }
    let mut r = BufReader::new(stream);
    let head = match read_head(&mut r, 8 * 1024, 64) {
        Ok(Some(h)) => h,
        Ok(None) => return Err(TrackerError::Http("closed without an answer".into())),
        Err(e) => {
            return Err(sent
                .err()
                .map_or(TrackerError::Http(e.to_string()), TrackerError::Io))
        }
    };
    let body = match head.get("Content-Length").map(str::parse::<u64>) {
        Some(Ok(n)) => {
            read_body(&mut r, n, MAX_ANSWER).map_err(|e| TrackerError::Http(e.to_string()))?
        }
        _ => {
            let mut b = Vec::new();
            r.take(MAX_ANSWER).read_to_end(&mut b)?;
            b
        }
    };
    let text = String::from_utf8_lossy(&body).trim_end().to_string();
    let status = head.start.split(' ').nth(1).unwrap_or("");
    if status.starts_with('2') {
        Ok(text)
    } else {
        Err(TrackerError::Failure(format!("{}: {text}", head.start)))
    }
}
