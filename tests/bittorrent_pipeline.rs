//! Request pipelining (请求流水线) on the wire: a leecher sizes its queue of block
//! requests at a peer by the rate that peer sends (`policy/pipeline.rs`). A peer it
//! has not measured yet gets `MIN_DEPTH` requests, not the 64 of a fast loopback link,
//! and each block that arrives buys exactly one new request.

mod common;

use common::TempDir;
use p2plab::bittorrent::make::make_torrent;
use p2plab::bittorrent::msg::handshake::Handshake;
use p2plab::bittorrent::msg::{decode, encode_into, split_frame, Message};
use p2plab::bittorrent::node::{download_paths, Client, ClientConfig};
use p2plab::bittorrent::policy::pipeline::MIN_DEPTH;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// Reads until `want` requests in all have come; returns them.
fn requests(s: &mut TcpStream, buf: &mut Vec<u8>, want: usize) -> Vec<(u32, u32, u32)> {
    let (mut got, mut chunk) = (Vec::new(), [0u8; 4096]);
    loop {
        while let Some(total) = split_frame(buf, 1 << 20).unwrap() {
            if let Ok(Message::Request {
                index,
                begin,
                length,
            }) = decode(&buf[4..total])
            {
                got.push((index, begin, length));
            }
            buf.drain(..total);
        }
        if got.len() >= want {
            return got;
        }
        let n = s.read(&mut chunk).expect("the leecher went quiet");
        assert!(n > 0, "the leecher closed the connection");
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[test]
fn a_new_peer_gets_a_short_queue_and_one_request_per_block() {
    let dir = TempDir::new("bt-pipeline");
    let src = dir.file("data.bin", 4 << 20, 5);
    let data = std::fs::read(&src).unwrap();
    let meta = make_torrent(&src, 256 * 1024, None).unwrap();
    let cfg = ClientConfig {
        use_tracker: false,
        ..ClientConfig::default()
    };
    assert!(
        MIN_DEPTH < cfg.pipeline,
        "the test needs a cap above MIN_DEPTH"
    );
    let out = dir.sub("out");
    let leecher = Client::start(meta.clone(), &download_paths(&meta, &out), true, cfg).unwrap();
    // We play a seed the leecher calls: every piece, unchoked at once.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    leecher.connect(listener.local_addr().unwrap()).unwrap();
    let (mut s, _) = listener.accept().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    Handshake::read_from(&mut s).unwrap();
    Handshake::new(meta.info_hash, *b"-XX0001-rawseedrawse")
        .write_to(&mut s)
        .unwrap();
    let n = meta.info.num_pieces();
    let mut bits = vec![0xffu8; n.div_ceil(8)];
    *bits.last_mut().unwrap() &= 0xffu8 << (bits.len() * 8 - n);
    let mut hello = Vec::new();
    encode_into(&Message::Bitfield(&bits), &mut hello);
    encode_into(&Message::Unchoke, &mut hello);
    s.write_all(&hello).unwrap();

    // Nothing measured yet: MIN_DEPTH requests, and no more until a block comes.
    let mut buf = Vec::new();
    let first = requests(&mut s, &mut buf, MIN_DEPTH);
    assert_eq!(first.len(), MIN_DEPTH, "asked {first:?} at once");
    // One block answered: one more request, still MIN_DEPTH outstanding.
    let (index, begin, length) = first[0];
    let at = index as usize * 256 * 1024 + begin as usize;
    let mut block = Vec::new();
    let bytes = &data[at..at + length as usize];
    encode_into(
        &Message::Piece {
            index,
            begin,
            block: bytes,
        },
        &mut block,
    );
    s.write_all(&block).unwrap();
    let next = requests(&mut s, &mut buf, 1);
    assert_eq!(next.len(), 1, "one block bought {next:?}");
    assert!(!first.contains(&next[0]), "asked again for {:?}", next[0]);
    drop(leecher);
}
