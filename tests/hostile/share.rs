//! The share server (HTTP GET of a shared folder) against slow senders.

use super::common::TempDir;
use super::*;
use p2plab::share::{Folder, HttpConfig, ShareLimits, ShareServer};
use std::sync::Arc;

pub fn server(dir: &TempDir, max_conns: usize, lim: ShareLimits) -> ShareServer {
    dir.file("song.mp3", 50_000, 3);
    let folder = Arc::new(Folder::scan(dir.path()).unwrap());
    let cfg = HttpConfig {
        max_conns,
        ..HttpConfig::default()
    };
    ShareServer::start_with(folder, "127.0.0.1:0", cfg, lim).unwrap()
}

/// GET `/get/0/song.mp3` from 127.0.0.1; the body.
pub fn download(addr: SocketAddr, timeout: Duration) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(timeout)).unwrap();
    s.write_all(b"GET /get/0/song.mp3 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let at = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    all.split_off(at + 4)
}

#[test]
fn slow_senders_neither_lock_out_a_downloader_nor_stay() {
    let dir = TempDir::new("hostile-share");
    let lim = ShareLimits {
        head_deadline: Duration::from_millis(300),
        ..ShareLimits::default()
    };
    let srv = server(&dir, 8, lim);
    let want = common::bytes(50_000, 3);
    // Four times the slots, each a request head stuck at its first byte.
    let mut attack = slow_senders(srv.local_addr(), 1, 32, b"G");
    assert_eq!(attack.len(), 32);
    let got = served("a download during the attack", |t| {
        download(srv.local_addr(), t)
    });
    assert_eq!(got, want);
    // The deadline, not the 10 s per-read timeout, closes every slow sender.
    for s in &mut attack {
        assert!(closed_within(s, Duration::from_secs(5)));
    }
    let got = served("a download after the attack", |t| {
        download(srv.local_addr(), t)
    });
    assert_eq!(got, want);
}

#[test]
fn one_address_holds_at_most_its_share_of_slots() {
    let dir = TempDir::new("hostile-share-addr");
    let lim = ShareLimits {
        head_deadline: Duration::from_secs(20),
        max_per_addr: 4,
    };
    let srv = server(&dir, 64, lim);
    let SocketAddr::V4(to) = srv.local_addr() else {
        unreachable!()
    };
    let from = Ipv4Addr::new(127, 2, 0, 9);
    let mut held: Vec<TcpStream> = (0..4)
        .map(|_| connect_from(from, to, Some(LIMIT)).unwrap())
        .collect();
    // The accept loop takes connections in order: the four are in its table when
    // the fifth comes.
    let mut fifth = connect_from(from, to, Some(LIMIT)).unwrap();
    assert!(
        closed_within(&mut fifth, Duration::from_secs(5)),
        "a fifth connection from one address is refused"
    );
    assert_eq!(still_open(&mut held), 4, "the first four are still served");
    let got = served("a download from another address", |t| {
        download(srv.local_addr(), t)
    });
    assert_eq!(got, common::bytes(50_000, 3));
}
