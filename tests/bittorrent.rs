//! BitTorrent on 127.0.0.1: transfers through our tracker, resume, and every kind of
//! bad input the issue names (a corrupted piece, a 2^32-1 length, another info-hash,
//! bencode bombs), each answered by a clear error and a closed connection.

mod common;

use common::TempDir;
use p2plab::bittorrent::bencode::{self, BencodeError};
use p2plab::bittorrent::make::make_torrent;
use p2plab::bittorrent::metainfo::{Metainfo, MetainfoError};
use p2plab::bittorrent::msg::handshake::Handshake;
use p2plab::bittorrent::msg::{decode, encode_into, split_frame, Message};
use p2plab::bittorrent::node::{download_paths, seed_paths, Client, ClientConfig};
use p2plab::bittorrent::tracker::msg::{announce, scrape, Announce, Event};
use p2plab::bittorrent::tracker::{Tracker, TrackerConfig};
use p2plab::share::ids::sha1_file;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

/// Generous: two cores shared with other builds.
const LIMIT: Duration = Duration::from_secs(60);

fn direct() -> ClientConfig {
    ClientConfig {
        use_tracker: false,
        ..ClientConfig::default()
    }
}

/// A torrent of `len` bytes with `piece` byte pieces, and a seed serving it.
fn seed(
    dir: &TempDir,
    len: usize,
    piece: u64,
    announce: Option<String>,
) -> (Metainfo, PathBuf, Client) {
    let src = dir.file("data.bin", len, 7);
    let meta = make_torrent(&src, piece, announce).unwrap();
    let cfg = ClientConfig {
        use_tracker: meta.announce.is_some(),
        ..ClientConfig::default()
    };
    let client = Client::start(meta.clone(), &seed_paths(&meta, &src), false, cfg).unwrap();
    assert!(client.progress().complete);
    (meta, src, client)
}

#[test]
fn leecher_finds_the_seed_through_our_tracker() {
    let dir = TempDir::new("bt-tracker");
    let mut tracker = Tracker::start("127.0.0.1:0", TrackerConfig::default()).unwrap();
    // 1 MiB + 1000 bytes: the last piece is short.
    let (meta, src, mut seeder) = seed(
        &dir,
        (1 << 20) + 1000,
        256 * 1024,
        Some(tracker.announce_url()),
    );
    assert!(common::eventually(LIMIT, || tracker
        .counts(&meta.info_hash)
        == (1, 0)));
    let out = dir.sub("out");
    let cfg = ClientConfig::default();
    let mut leecher = Client::start(meta.clone(), &download_paths(&meta, &out), true, cfg).unwrap();
    assert!(leecher.wait_complete(LIMIT), "download did not finish");
    assert_eq!(
        sha1_file(&out.join("data.bin")).unwrap(),
        sha1_file(&src).unwrap()
    );
    let p = leecher.progress();
    assert_eq!((p.pieces, p.left, p.downloaded), (5, 0, (1 << 20) + 1000));
    // The leecher announced `completed`: the tracker now counts two seeds.
    assert!(common::eventually(LIMIT, || tracker
        .counts(&meta.info_hash)
        == (2, 0)));
    leecher.stop();
    seeder.stop();
    // Both announced `stopped` on the way out.
    assert_eq!(tracker.counts(&meta.info_hash), (0, 0));
    tracker.stop();
}

#[test]
fn multi_file_torrent_pieces_straddle_files() {
    let dir = TempDir::new("bt-multi");
    let folder = dir.sub("album");
    std::fs::create_dir_all(folder.join("cd2")).unwrap();
    std::fs::write(folder.join("a.bin"), common::bytes(70_000, 1)).unwrap();
    std::fs::write(folder.join("cd2/b.bin"), common::bytes(100_001, 2)).unwrap();
    let meta = make_torrent(&folder, 32 * 1024, None).unwrap();
    assert_eq!(meta.info.files.len(), 2);
    let seeder = Client::start(meta.clone(), &seed_paths(&meta, &folder), false, direct()).unwrap();
    let out = dir.sub("out");
    let leecher =
        Client::start(meta.clone(), &download_paths(&meta, &out), true, direct()).unwrap();
    leecher.connect(seeder.local_addr()).unwrap();
    assert!(leecher.wait_complete(LIMIT));
    for f in ["a.bin", "cd2/b.bin"] {
        assert_eq!(
            sha1_file(&out.join("album").join(f)).unwrap(),
            sha1_file(&folder.join(f)).unwrap()
        );
    }
}

#[test]
fn restarted_download_resumes_from_verified_pieces() {
    let dir = TempDir::new("bt-resume");
    let (meta, src, _seeder) = seed(&dir, 8 * 65536, 65536, None);
    let out = dir.sub("out");
    // A previous run left pieces 0-4 right and 5-7 damaged.
    let mut partial = std::fs::read(&src).unwrap();
    partial[5 * 65536..].fill(0xAA);
    std::fs::write(out.join("data.bin"), &partial).unwrap();
    let leecher =
        Client::start(meta.clone(), &download_paths(&meta, &out), true, direct()).unwrap();
    assert_eq!(leecher.progress().pieces, 5);
    leecher.connect(_seeder.local_addr()).unwrap();
    assert!(leecher.wait_complete(LIMIT));
    assert_eq!(
        sha1_file(&out.join("data.bin")).unwrap(),
        sha1_file(&src).unwrap()
    );
    // Only the 3 missing pieces crossed the network.
    assert_eq!(leecher.progress().downloaded, 3 * 65536);
}

/// A raw peer: handshake done, ready to send hand-made bytes.
fn raw_peer(addr: SocketAddr, info_hash: [u8; 20]) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    Handshake::new(info_hash, *b"-XX0001-rawrawrawraw")
        .write_to(&mut s)
        .unwrap();
    let theirs = Handshake::read_from(&mut s).unwrap();
    assert_eq!(theirs.info_hash, info_hash);
    s
}

/// Reads until the node closes the connection; panics if it stays open.
fn closed_by_node(s: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return got,
            Err(e) => panic!("connection still open: {e}"),
        }
    }
}

#[test]
fn hostile_peers_are_cut_off_and_the_seed_keeps_serving() {
    let dir = TempDir::new("bt-hostile");
    let (meta, src, seeder) = seed(&dir, 100_000, 16384, None);
    let addr = seeder.local_addr();
    let n = meta.info.num_pieces();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("length 2^32-1", vec![0xff, 0xff, 0xff, 0xff, 7]),
        // request index 0, begin 0, length 32 KiB: above the 16 KiB block.
        (
            "request above 16 KiB",
            vec![0, 0, 0, 13, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0],
        ),
        // 7 pieces: one byte of bitfield whose last spare bit is set.
        ("spare bit set", vec![0, 0, 0, 2, 5, 0x01]),
        ("have past the end", vec![0, 0, 0, 5, 4, 0, 0, 0, n as u8]),
        (
            "request outside the piece",
            vec![0, 0, 0, 13, 6, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0x40, 0],
        ),
    ];
    for (what, bytes) in cases {
        let mut s = raw_peer(addr, meta.info_hash);
        s.write_all(&bytes).unwrap();
        // The node may have sent its bitfield first; then it hangs up.
        let got = closed_by_node(&mut s);
        assert!(
            got.len() <= 4 + 1 + n.div_ceil(8),
            "{what}: node sent {} bytes",
            got.len()
        );
    }
    // Another torrent's info-hash: closed before the node says anything.
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    Handshake::new([0x66; 20], *b"-XX0001-rawrawrawraw")
        .write_to(&mut s)
        .unwrap();
    assert!(
        closed_by_node(&mut s).is_empty(),
        "answered a handshake for another torrent"
    );
    // Not BitTorrent at all (aria2c's encrypted handshake looks like this to us).
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    s.write_all(&[0x42; 68]).unwrap();
    assert!(closed_by_node(&mut s).is_empty());
    // After all that, an honest leecher still gets the file.
    let out = dir.sub("out");
    let leecher =
        Client::start(meta.clone(), &download_paths(&meta, &out), true, direct()).unwrap();
    leecher.connect(addr).unwrap();
    assert!(leecher.wait_complete(LIMIT));
    assert_eq!(
        sha1_file(&out.join("data.bin")).unwrap(),
        sha1_file(&src).unwrap()
    );
}

/// Plays a seed that answers every request with wrong bytes, until it is dropped.
fn lying_seed(mut s: TcpStream, num_pieces: usize) -> usize {
    let mut bits = vec![0xffu8; num_pieces.div_ceil(8)];
    let spare = bits.len() * 8 - num_pieces;
    *bits.last_mut().unwrap() &= 0xffu8 << spare;
    let mut out = Vec::new();
    encode_into(&Message::Bitfield(&bits), &mut out);
    encode_into(&Message::Unchoke, &mut out);
    s.write_all(&out).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut lies = 0;
    loop {
        let n = match s.read(&mut chunk) {
            Ok(0) | Err(_) => return lies,
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        while let Some(total) = split_frame(&buf, 1 << 20).unwrap() {
            if let Ok(Message::Request {
                index,
                begin,
                length,
            }) = decode(&buf[4..total])
            {
                let junk = vec![0xEE; length as usize];
                let mut out = Vec::new();
                encode_into(
                    &Message::Piece {
                        index,
                        begin,
                        block: &junk,
                    },
                    &mut out,
                );
                if s.write_all(&out).is_err() {
                    return lies;
                }
                lies += 1;
            }
            buf.drain(..total);
        }
    }
}

/// `n` requests for the first block, again and again: every one is answerable.
fn requests(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..n {
        let r = Message::Request {
            index: 0,
            begin: 0,
            length: 16384,
        };
        encode_into(&r, &mut out);
    }
    out
}

#[test]
fn a_peer_that_stops_reading_is_dropped_and_the_others_are_still_served() {
    let dir = TempDir::new("bt-stall");
    let (meta, src, seeder) = seed(&dir, 1 << 20, 16384, None);
    let addr = seeder.local_addr();
    // A peer completes the handshake, says it is interested, asks for 1000 blocks
    // (16 MiB) and never reads again: the seed's writer for it blocks once the socket
    // buffers (a few MiB) are full, and the rest waits in its queue.
    let mut stalled = raw_peer(addr, meta.info_hash);
    let mut out = Vec::new();
    encode_into(&Message::Interested, &mut out);
    stalled.write_all(&out).unwrap();
    stalled.write_all(&requests(1000)).unwrap();
    // A fresh leecher asks the same seed: its first piece comes within a second.
    let out = dir.sub("out");
    let leecher =
        Client::start(meta.clone(), &download_paths(&meta, &out), true, direct()).unwrap();
    let asked = std::time::Instant::now();
    leecher.connect(addr).unwrap();
    let served = p2plab::wait::until(Duration::from_secs(1), || leecher.progress().pieces > 0);
    assert!(
        served,
        "no piece within 1 s of asking ({:?}): the seed waits for the stalled peer",
        asked.elapsed()
    );
    assert!(leecher.wait_complete(LIMIT));
    assert_eq!(
        sha1_file(&out.join("data.bin")).unwrap(),
        sha1_file(&src).unwrap()
    );
    // More requests than its queue holds: the seed drops the peer instead of waiting,
    // and the stalled peer's writes start failing (the seed closed the connection).
    let _ = stalled.write_all(&requests(4000));
    let dropped = p2plab::wait::until(LIMIT, || stalled.write_all(&[0, 0, 0, 0]).is_err());
    assert!(dropped, "the peer that stopped reading is still connected");
    assert!(p2plab::wait::until(LIMIT, || seeder.progress().peers == 1));
}

#[test]
fn corrupted_pieces_are_refetched_and_the_liar_dropped() {
    let dir = TempDir::new("bt-corrupt");
    let (meta, src, seeder) = seed(&dir, 20 * 16384, 16384, None);
    let out = dir.sub("out");
    let leecher =
        Client::start(meta.clone(), &download_paths(&meta, &out), true, direct()).unwrap();
    // The liar listens; the leecher calls it first, alone.
    let liar = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let liar_addr = liar.local_addr().unwrap();
    let (n, hash) = (meta.info.num_pieces(), meta.info_hash);
    let liar_thread = std::thread::spawn(move || {
        let (mut s, _) = liar.accept().unwrap();
        s.set_read_timeout(Some(LIMIT)).unwrap();
        Handshake::read_from(&mut s).unwrap();
        Handshake::new(hash, *b"-XX0001-liarliarliar")
            .write_to(&mut s)
            .unwrap();
        lying_seed(s, n)
    });
    leecher.connect(liar_addr).unwrap();
    // It is dropped after MAX_BAD_PIECES bad pieces: its thread sees the close.
    let lies = liar_thread.join().unwrap();
    assert!(lies >= 3, "only {lies} blocks sent before the drop");
    assert_eq!(leecher.progress().pieces, 0, "a bad piece was counted");
    // Banned: calling it again does nothing. The honest seed completes the file.
    leecher.connect(liar_addr).unwrap();
    leecher.connect(seeder.local_addr()).unwrap();
    assert!(leecher.wait_complete(LIMIT));
    assert_eq!(
        sha1_file(&out.join("data.bin")).unwrap(),
        sha1_file(&src).unwrap()
    );
}

#[test]
fn bencode_bombs_and_escaping_paths_are_refused() {
    // 10 000 nested lists and a 2^60-byte string: an error that says where.
    let mut deep = vec![b'l'; 10_000];
    deep.extend(vec![b'e'; 10_000]);
    let e = bencode::decode(&deep).unwrap_err();
    assert_eq!(e.at, bencode::MAX_DEPTH);
    assert_eq!(
        bencode::decode(b"d4:info1152921504606846976:xe").unwrap_err(),
        BencodeError {
            at: 7,
            why: "string length runs past the end of the input"
        }
    );
    assert!(matches!(
        Metainfo::from_bytes(&deep),
        Err(MetainfoError::Bencode(_))
    ));
    // A torrent whose file would land outside the download folder.
    let hash = "x".repeat(20);
    let evil = format!(
        "d4:infod5:filesld6:lengthi3e4:pathl2:..6:passwdeee4:name3:dir12:piece lengthi16384e6:pieces20:{hash}ee"
    );
    assert!(matches!(
        Metainfo::from_bytes(evil.as_bytes()),
        Err(MetainfoError::Invalid(_))
    ));
}

#[test]
fn tracker_events_counts_peer_lists_and_scrape() {
    let mut tracker = Tracker::start("127.0.0.1:0", TrackerConfig::default()).unwrap();
    let url = tracker.announce_url();
    let hash = [0x11; 20];
    let a = |id: u8, port, left, event| Announce {
        info_hash: hash,
        peer_id: [id; 20],
        port,
        uploaded: 0,
        downloaded: 0,
        left,
        event,
        numwant: 50,
    };
    let r = announce(&url, &a(1, 7001, 0, Event::Started)).unwrap();
    assert!(r.peers.is_empty(), "a peer is not told about itself");
    let r = announce(&url, &a(2, 7002, 500, Event::Started)).unwrap();
    assert_eq!(r.peers, ["127.0.0.1:7001".parse::<SocketAddr>().unwrap()]);
    assert_eq!((r.complete, r.incomplete), (Some(1), Some(1)));
    assert_eq!(r.interval, TrackerConfig::default().interval);
    announce(&url, &a(2, 7002, 0, Event::Completed)).unwrap();
    assert_eq!(scrape(&url, &hash).unwrap(), (2, 0, 1));
    announce(&url, &a(1, 7001, 0, Event::Stopped)).unwrap();
    assert_eq!(tracker.counts(&hash), (1, 0));
    // The dict form (compact=0), by hand: a list of {ip, peer id, port}.
    let q = format!(
        "/announce?info_hash={}&peer_id={}&port=7003&uploaded=0&downloaded=0&left=9&compact=0",
        "%11".repeat(20),
        "%03".repeat(20)
    );
    let body = http_get(tracker.local_addr(), &q);
    let v = bencode::decode(&body).unwrap();
    let peers = v.get("peers").unwrap().as_list().unwrap();
    assert_eq!(peers[0].get("port").unwrap().as_int(), Some(7002));
    assert_eq!(
        peers[0].get("peer id").unwrap().as_bytes(),
        Some(&[2u8; 20][..])
    );
    // Missing parameters: a bencoded failure reason, not a crash.
    let body = http_get(tracker.local_addr(), "/announce?info_hash=abc&port=1");
    let v = bencode::decode(&body).unwrap();
    assert!(v.get("failure reason").is_some());
    tracker.stop();
}

fn http_get(addr: SocketAddr, target: &str) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    write!(s, "GET {target} HTTP/1.0\r\n\r\n").unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let at = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    all.split_off(at + 4)
}

#[test]
fn a_small_swarm_completes_with_leechers_serving_each_other() {
    let dir = TempDir::new("bt-swarm");
    let mut tracker = Tracker::start("127.0.0.1:0", TrackerConfig::default()).unwrap();
    let (meta, src, seeder) = seed(&dir, 4 << 20, 65536, Some(tracker.announce_url()));
    let leechers: Vec<(PathBuf, Client)> = (0..3)
        .map(|i| {
            let out = dir.sub(&format!("out{i}"));
            let c = Client::start(
                meta.clone(),
                &download_paths(&meta, &out),
                true,
                ClientConfig::default(),
            )
            .unwrap();
            (out, c)
        })
        .collect();
    for (out, c) in &leechers {
        assert!(c.wait_complete(LIMIT), "a leecher did not finish");
        assert_eq!(
            sha1_file(&out.join("data.bin")).unwrap(),
            sha1_file(&src).unwrap()
        );
    }
    // Every byte a leecher verified was uploaded by someone: the seed or a leecher.
    let from_leechers: u64 = leechers.iter().map(|(_, c)| c.progress().uploaded).sum();
    let from_seed = seeder.progress().uploaded;
    assert!(from_leechers + from_seed >= 3 * (4 << 20));
    assert!(
        from_seed >= 4 << 20,
        "the seed must have sent each piece at least once"
    );
    drop(leechers);
    drop(seeder);
    tracker.stop();
}
