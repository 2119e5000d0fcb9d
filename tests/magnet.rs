//! Magnet links (issue 14, notes 6.5): our seed serves its info dict over the extension
//! protocol (BEP 10, BEP 9), a newcomer holding only the info-hash fetches it, checks it,
//! and downloads; peers that lie about the dict or its size are refused.

mod common;

use p2plab::bittorrent::make::make_torrent;
use p2plab::bittorrent::metadata::fetch::{fetch, metainfo_from, FetchConfig};
use p2plab::bittorrent::metadata::Magnet;
use p2plab::bittorrent::mse::Policy;
use p2plab::bittorrent::msg::extended::{self, ExtHandshake, Metadata};
use p2plab::bittorrent::msg::handshake::Handshake;
use p2plab::bittorrent::node::{download_paths, seed_paths, Client, ClientConfig};
use p2plab::share::ids::sha1_file;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::thread;
use std::time::Duration;

/// Each fetch is a newcomer of its own: a seed refuses a second connection from a peer
/// id it still holds.
fn fetch_cfg(encryption: Policy) -> FetchConfig {
    static N: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);
    let mut peer_id = *b"-PL0001-magnet-test0";
    peer_id[19] = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    FetchConfig {
        peer_id,
        encryption,
        rng_seed: 7,
    }
}

fn direct() -> ClientConfig {
    ClientConfig {
        use_tracker: false,
        encryption: Policy::Prefer,
        ..ClientConfig::default()
    }
}

#[test]
fn newcomer_with_a_magnet_link_fetches_the_dict_and_downloads() {
    let dir = common::TempDir::new("magnet");
    // 2930 pieces of 1 KiB: the dict (58 KB of hashes) spans four 16 KiB metadata blocks.
    let src = dir.file("data.bin", 3_000_000, 3);
    let meta = make_torrent(&src, 1024, Some("http://127.0.0.1:1/announce".into())).unwrap();
    let mut seed = Client::start(meta.clone(), &seed_paths(&meta, &src), false, direct()).unwrap();
    let link = Magnet {
        info_hash: meta.info_hash,
        name: None,
        trackers: vec!["http://127.0.0.1:1/announce".into()],
    }
    .to_link();
    let m = Magnet::parse(&link).unwrap();
    for policy in [Policy::Prefer, Policy::Require, Policy::Off] {
        let info = fetch(&m.info_hash, &[seed.local_addr()], &fetch_cfg(policy)).unwrap();
        assert!(
            info.len() > 2 * extended::METADATA_BLOCK,
            "{} bytes",
            info.len()
        );
        let got = metainfo_from(&info, m.trackers.first().map(String::as_str)).unwrap();
        assert_eq!(got, meta, "{policy:?}");
    }
    let got = metainfo_from(
        &fetch(
            &m.info_hash,
            &[seed.local_addr()],
            &fetch_cfg(Policy::Prefer),
        )
        .unwrap(),
        None,
    )
    .unwrap();
    let out = dir.sub("out");
    let paths = download_paths(&got, &out);
    let mut leech = Client::start(got, &paths, true, direct()).unwrap();
    leech.connect(seed.local_addr()).unwrap();
    assert!(leech.wait_complete(Duration::from_secs(60)));
    assert_eq!(
        sha1_file(&out.join("data.bin")).unwrap(),
        sha1_file(&src).unwrap()
    );
    leech.stop();
    seed.stop();
}

/// A peer that completes the handshakes, announces `size` bytes of metadata, and
/// answers every request with `dict`'s blocks (which may not be the real dict).
fn lying_peer(info_hash: [u8; 20], size: usize, dict: Vec<u8>) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let _ = Handshake::read_from(&mut s).unwrap();
        let mut ours = Handshake::new(info_hash, *b"-XX0001-lying-peer00");
        extended::set_extended(&mut ours.reserved);
        ours.write_to(&mut s).unwrap();
        let hs = ExtHandshake {
            ut_metadata: Some(3),
            metadata_size: Some(size),
            ..ExtHandshake::default()
        };
        let mut out = Vec::new();
        extended::encode_into(0, &hs.encode(), &mut out);
        s.write_all(&out).unwrap();
        // Read requests until the fetcher hangs up; answer each with our block.
        let mut len = [0u8; 4];
        while s.read_exact(&mut len).is_ok() {
            let mut body = vec![0; u32::from_be_bytes(len) as usize];
            if s.read_exact(&mut body).is_err() {
                return;
            }
            let Ok(Metadata::Request { piece }) = Metadata::decode(&body[2..]) else {
                continue; // its extended handshake
            };
            out.clear();
            let start = piece as usize * extended::METADATA_BLOCK;
            let end = (start + extended::METADATA_BLOCK).min(dict.len());
            let data = Metadata::Data {
                piece,
                total_size: dict.len(),
                block: &dict[start..end],
            };
            data.encode_into(1, &mut out);
            if s.write_all(&out).is_err() {
                return;
            }
        }
    });
    addr
}

#[test]
fn metadata_that_does_not_hash_to_the_info_hash_is_refused() {
    let ih = [0x5a; 20];
    let forged = b"d4:name3:abce".repeat(3000); // 39 KB, three blocks
    let peer = lying_peer(ih, forged.len(), forged);
    let err = fetch(&ih, &[peer], &fetch_cfg(Policy::Off)).unwrap_err();
    assert!(err.contains("does not hash to the info-hash"), "{err}");
}

#[test]
fn oversized_metadata_is_refused_before_allocating() {
    let ih = [0x5b; 20];
    let peer = lying_peer(ih, extended::MAX_METADATA_SIZE + 1, Vec::new());
    let err = fetch(&ih, &[peer], &fetch_cfg(Policy::Off)).unwrap_err();
    assert!(err.contains("exceeds"), "{err}");
}

#[test]
fn a_magnet_link_with_a_bad_hash_says_why() {
    let err = Magnet::parse("magnet:?xt=urn:btih:1234")
        .unwrap_err()
        .to_string();
    assert!(err.contains("4 characters"), "{err}");
    let err = fetch(&[1; 20], &[], &fetch_cfg(Policy::Off)).unwrap_err();
    assert!(err.contains("no peers"), "{err}");
}
