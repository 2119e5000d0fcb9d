//! BEP 10 / BEP 9 (issue 14): an info dict travels in ut_metadata blocks from a seeder's
//! bytes to an assembler that checks it against the info-hash, through the same frames
//! the peer wire carries; and, when aria2c is installed, aria2c fetches the metadata of
//! a magnet link from a minimal server built on these codecs (behind an MSE `accept`).

mod common;

use p2plab::bittorrent::bencode;
use p2plab::bittorrent::make::make_torrent;
use p2plab::bittorrent::metadata::{self, Assembler, Magnet, MetadataError};
use p2plab::bittorrent::metainfo::Metainfo;
use p2plab::bittorrent::mse::{self, Policy};
use p2plab::bittorrent::msg::extended::{self, ExtHandshake, Extended, Metadata};
use p2plab::bittorrent::msg::handshake::Handshake;
use p2plab::bittorrent::msg::split_frame;
use p2plab::rng::Rng;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A torrent whose info dict spans two metadata blocks: 1200 pieces of 1 KiB.
fn torrent(tag: &str, announce: &str) -> (common::TempDir, Metainfo, Vec<u8>) {
    let dir = common::TempDir::new(tag);
    let data = dir.file("two-blocks.bin", 1200 * 1024, 31);
    let meta = make_torrent(&data, 1024, Some(announce.to_string())).unwrap();
    let bytes = meta.to_bytes();
    let span = bencode::dict_value_span(&bytes, b"info").unwrap().unwrap();
    let info = bytes[span].to_vec();
    (dir, meta, info)
}

/// Splits the first frame off `buf` and returns its body if it is an id-20 message.
fn extended_body(buf: &[u8]) -> (usize, Option<&[u8]>) {
    let total = split_frame(buf, 1 << 20).unwrap().expect("a whole frame");
    let body = &buf[4..total];
    (
        total,
        (body.first() == Some(&extended::EXTENDED)).then(|| &body[1..]),
    )
}

#[test]
fn metadata_travels_in_blocks_and_is_checked() {
    let (_dir, meta, info) = torrent("ext-roundtrip", "http://127.0.0.1:1/announce");
    assert!(info.len() > extended::METADATA_BLOCK);
    // The seeder announces ut_metadata as id 3 and the size; the leecher reads it.
    let mut wire = Vec::new();
    let ours = ExtHandshake {
        ut_metadata: Some(3),
        metadata_size: Some(info.len()),
        client: Some("p2plab".into()),
        port: Some(6881),
    };
    extended::encode_into(extended::HANDSHAKE, &ours.encode(), &mut wire);
    let (n, body) = extended_body(&wire);
    assert_eq!(n, wire.len());
    let Extended::Handshake(theirs) = extended::decode(body.unwrap()).unwrap() else {
        panic!("not a handshake")
    };
    assert_eq!(theirs, ours);

    let mut asm = Assembler::new(meta.info_hash, theirs.metadata_size.unwrap()).unwrap();
    let mut done = None;
    while let Some(piece) = asm.next_missing() {
        // leecher -> seeder: request, under the seeder's id 3
        let mut req = Vec::new();
        Metadata::Request { piece }.encode_into(3, &mut req);
        let (_, body) = extended_body(&req);
        let Extended::Message { id: 3, payload } = extended::decode(body.unwrap()).unwrap() else {
            panic!("not ut_metadata")
        };
        let Metadata::Request { piece: asked } = Metadata::decode(payload).unwrap() else {
            panic!("not a request")
        };
        // seeder -> leecher: data, under the leecher's id (OUR_UT_METADATA)
        let block = metadata::block(&info, asked).unwrap();
        let mut data = Vec::new();
        let m = Metadata::Data {
            piece: asked,
            total_size: info.len(),
            block,
        };
        m.encode_into(extended::OUR_UT_METADATA, &mut data);
        let (_, body) = extended_body(&data);
        let Extended::Message { payload, .. } = extended::decode(body.unwrap()).unwrap() else {
            panic!("not ut_metadata")
        };
        let Metadata::Data { piece, block, .. } = Metadata::decode(payload).unwrap() else {
            panic!("not data")
        };
        done = asm.add(piece, block).unwrap();
    }
    assert_eq!(done.as_deref(), Some(&info[..]));
    // A seeder asked past the end answers with a reject.
    assert_eq!(metadata::block(&info, 2), None);

    // Metadata that does not hash to the info-hash is refused, whoever sent it.
    let mut asm = Assembler::new([0; 20], info.len()).unwrap();
    asm.add(0, metadata::block(&info, 0).unwrap()).unwrap();
    let err = asm.add(1, metadata::block(&info, 1).unwrap()).unwrap_err();
    assert_eq!(err, MetadataError::HashMismatch);
}

#[test]
fn magnet_of_a_torrent() {
    let (_dir, meta, _) = torrent("ext-magnet", "http://127.0.0.1:6969/announce");
    let m = Magnet {
        info_hash: meta.info_hash,
        name: Some(meta.info.name.clone()),
        trackers: vec!["http://127.0.0.1:6969/announce".into()],
    };
    let link = m.to_link();
    assert!(link.starts_with("magnet:?xt=urn:btih:"));
    assert!(link.contains("&tr=http%3A%2F%2F127.0.0.1%3A6969%2Fannounce"));
    assert_eq!(Magnet::parse(&link).unwrap(), m);
}

/// aria2c, given only a magnet link, fetches the info dict from a server made of these
/// codecs and saves it as a .torrent whose info-hash is the link's.
#[test]
fn aria2c_fetches_metadata_from_us() {
    let bt = TcpListener::bind("127.0.0.1:0").unwrap();
    let tracker = TcpListener::bind("127.0.0.1:0").unwrap();
    let announce = format!("http://{}/announce", tracker.local_addr().unwrap());
    let (dir, meta, info) = torrent("ext-aria", &announce);
    let ih = meta.info_hash;
    let bt_port = bt.local_addr().unwrap().port();
    let tracker_thread = thread::spawn(move || {
        let (mut s, _) = tracker.accept().unwrap();
        s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        let (mut head, mut byte) = (Vec::new(), [0u8; 1]);
        while !head.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap() == 1 {
            head.push(byte[0]);
        }
        let mut body = b"d8:intervali60e5:peers6:\x7f\x00\x00\x01".to_vec();
        body.extend(bt_port.to_be_bytes());
        body.push(b'e');
        let head = format!("HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(&body).unwrap();
    });
    let out = dir.sub("out");
    let link = Magnet {
        info_hash: ih,
        name: None,
        trackers: vec![announce],
    }
    .to_link();
    let child = Command::new("aria2c")
        .args([
            "--enable-dht=false",
            "--enable-dht6=false",
            "--bt-enable-lpd=false",
            "--enable-peer-exchange=false",
            "--disable-ipv6=true",
            "--bt-metadata-only=true",
            "--bt-save-metadata=true",
            "--quiet=true",
        ])
        .arg(format!("--dir={}", out.display()))
        .arg(format!("--listen-port={}", free_port()))
        .arg(&link)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(child) = child else {
        eprintln!("skipped: aria2c is not installed");
        return;
    };
    let mut aria = Aria(child);
    let (s, _) = bt.accept().unwrap();
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    // aria2c tries MSE first; either way the handshake comes out of the stream.
    let s = mse::accept(s, &[], &[ih], Policy::Prefer, &mut Rng::new(32)).unwrap();
    serve_metadata(s, ih, &info);
    tracker_thread.join().unwrap();
    let status = aria.0.wait().unwrap();
    assert!(status.success(), "aria2c exited with {status}");
    let saved = out.join(format!("{}.torrent", hex(&ih)));
    let got = Metainfo::from_bytes(&std::fs::read(&saved).unwrap()).unwrap();
    assert_eq!(got.info_hash, ih);
}

/// Handshake with the extension bit, our extended handshake, then a block for every
/// ut_metadata request, until aria2c closes.
fn serve_metadata<S: Read + Write>(mut s: S, ih: [u8; 20], info: &[u8]) {
    let theirs = Handshake::read_from(&mut s).unwrap();
    assert_eq!(theirs.info_hash, ih);
    assert!(extended::supports_extended(&theirs.reserved));
    let mut ours = Handshake::new(ih, *b"-PL0001-ext-interop0");
    extended::set_extended(&mut ours.reserved);
    ours.write_to(&mut s).unwrap();
    let hs = ExtHandshake {
        ut_metadata: Some(extended::OUR_UT_METADATA),
        metadata_size: Some(info.len()),
        ..Default::default()
    };
    let mut out = Vec::new();
    extended::encode_into(extended::HANDSHAKE, &hs.encode(), &mut out);
    s.write_all(&out).unwrap();
    let (mut their_id, mut served) = (None, 0);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        while let Some(total) = split_frame(&buf, 1 << 20).unwrap() {
            let body = buf[4..total].to_vec();
            buf.drain(..total);
            if body.first() != Some(&extended::EXTENDED) {
                continue;
            }
            match extended::decode(&body[1..]).unwrap() {
                Extended::Handshake(h) => their_id = h.ut_metadata,
                Extended::Message {
                    id: extended::OUR_UT_METADATA,
                    payload,
                } => {
                    let Metadata::Request { piece } = Metadata::decode(payload).unwrap() else {
                        continue;
                    };
                    let block = metadata::block(info, piece).unwrap();
                    let m = Metadata::Data {
                        piece,
                        total_size: info.len(),
                        block,
                    };
                    out.clear();
                    m.encode_into(their_id.expect("their handshake first"), &mut out);
                    s.write_all(&out).unwrap();
                    served += 1;
                }
                Extended::Message { .. } => {}
            }
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    assert_eq!(served, extended::metadata_pieces(info.len()));
}

struct Aria(std::process::Child);

impl Drop for Aria {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
