//! Seeded mutation tests of every decoder: bad input is an error, never a panic.
//!
//! Each decoder gets a few valid encodings made with the crate's own encoders (so they
//! stay valid as the formats change; for the MSE handshake, a real exchange recorded
//! with fixed keys, so mutations get past Diffie–Hellman), then ~10,000 inputs (2,000 for
//! MSE, whose inputs each cost a DH step) derived from them by seeded
//! mutations (bit flips, boundary bytes, truncation, random tails, duplicated slices,
//! huge length fields, splices of two inputs) plus pure random inputs. Every input must
//! give `Ok` or `Err`; an `Ok` must survive a round trip through the encoder where the
//! API has one. A panic is reported with the decoder, the seed, the input's number and
//! its bytes in hex, so it can be replayed.
//!
//! The `check_*` functions are the decoders' contracts. The cargo-fuzz targets in
//! `fuzz/` include this file and call the same functions with libFuzzer's inputs, so
//! `make test` (stable, no fuzzer) and `make fuzz` (nightly) test one contract.

use p2plab::bittorrent::bencode::{self, Value};
use p2plab::bittorrent::metadata::{Assembler, Magnet, MetadataError, MAX_MAGNET_LEN};
use p2plab::bittorrent::metainfo::{InfoHash, Metainfo};
use p2plab::bittorrent::mse::{self, Policy};
use p2plab::bittorrent::msg::bitfield::Bitfield;
use p2plab::bittorrent::msg::extended::{self as ext, ExtHandshake, Extended, Metadata};
use p2plab::bittorrent::msg::handshake::{Handshake, HANDSHAKE_LEN};
use p2plab::bittorrent::msg::{self as btmsg, Message};
use p2plab::bittorrent::tracker::msg::parse_reply;
use p2plab::bittorrent::tracker::msg::query::parse_query;
use p2plab::dht::{decode_reply, decode_request, encode_reply, encode_request};
use p2plab::gnutella::msg as gmsg;
use p2plab::gnutella::msg::handshake as gh;
use p2plab::kazaa::msg::Msg as KMsg;
use p2plab::napster::{read_msg, Msg as NMsg};
use p2plab::rng::Rng;
use p2plab::share::ids::to_base32;
use p2plab::share::url::percent_encode;
use p2plab::share::{parse_range, parse_target, Target};
use p2plab::wire::{read_frame, read_head, Prefix};
use std::collections::BTreeMap;
use std::io::{Read, Write};

/// Bencode: a strict, canonical decoder, so an `Ok` re-encodes to the very input.
pub fn check_bencode(data: &[u8]) {
    if let Ok(v) = bencode::decode(data) {
        let again = bencode::encode(&v);
        assert_eq!(again, data, "bencode is canonical: one value, one encoding");
        assert_eq!(bencode::decode(&again).as_ref(), Ok(&v));
    }
    let _ = bencode::dict_value_span(data, b"info");
}

/// The round trip: what was decoded, encoded again, decodes to the same value.
fn same<T: PartialEq + std::fmt::Debug, E: std::fmt::Debug>(again: Result<T, E>, want: &T) {
    match again {
        Ok(v) => assert_eq!(&v, want, "round trip changed the value"),
        Err(e) => panic!("{want:?} re-encoded does not decode: {e:?}"),
    }
}

/// A `.torrent`: an accepted one re-encodes to a torrent with the same info and tracker.
pub fn check_metainfo(data: &[u8]) {
    if let Ok(m) = Metainfo::from_bytes(data) {
        let again = Metainfo::from_bytes(&m.to_bytes()).expect("re-encoded torrent parses");
        assert_eq!((&again.info, &again.announce), (&m.info, &m.announce));
        let _ = (m.info.total_length(), m.info.num_pieces());
    }
}

/// A peer message body (after the length prefix), the frame splitter and the bitfield.
pub fn check_peer_message(data: &[u8]) {
    let _ = btmsg::split_frame(data, btmsg::max_message_len(1000));
    if let Ok(m) = btmsg::decode(data) {
        let mut out = Vec::new();
        btmsg::encode_into(&m, &mut out);
        assert_eq!(out[..4], ((out.len() - 4) as u32).to_be_bytes());
        same(btmsg::decode(&out[4..]), &m);
        if let Message::Bitfield(b) = m {
            for spare in 0..8 {
                let len = (b.len() * 8).saturating_sub(spare);
                if let Ok(f) = Bitfield::from_bytes(b, len) {
                    assert_eq!(f.as_bytes(), b);
                    assert!(f.count() <= f.len());
                }
            }
        }
    }
}

/// The 68-byte handshake, from a stream (short input is an error).
pub fn check_handshake(data: &[u8]) {
    if let Ok(h) = Handshake::read_from(&mut &data[..]) {
        assert_eq!(h.encode()[..], data[..HANDSHAKE_LEN]);
    }
}

/// An announce as the tracker reads it: an HTTP head, then the query's parameters.
pub fn check_tracker_request(data: &[u8]) {
    let Ok(Some(head)) = read_head(&mut &data[..], 8 * 1024, 32) else {
        return;
    };
    let target = head.start.split(' ').nth(1).unwrap_or("");
    let (_, query) = target.split_once('?').unwrap_or((target, ""));
    if let Some(q) = parse_query(query) {
        let text: Vec<String> = q
            .iter()
            .map(|(k, v)| format!("{k}={}", percent_encode(v)))
            .collect();
        assert_eq!(parse_query(&text.join("&")), Some(q));
    }
}

/// A tracker's bencoded reply; an `Ok` re-encoded with dict peers reads the same.
pub fn check_tracker_reply(data: &[u8]) {
    if let Ok(r) = parse_reply(data) {
        let mut d = BTreeMap::new();
        d.insert(
            b"interval".to_vec(),
            Value::Int(r.interval.as_secs() as i64),
        );
        for (k, n) in [("complete", r.complete), ("incomplete", r.incomplete)] {
            if let Some(n) = n {
                d.insert(k.as_bytes().to_vec(), Value::Int(n as i64));
            }
        }
        let peers = r.peers.iter().map(|p| {
            let mut pd = BTreeMap::new();
            pd.insert(b"ip".to_vec(), Value::str(&p.ip().to_string()));
            pd.insert(b"port".to_vec(), Value::Int(p.port() as i64));
            Value::Dict(pd)
        });
        d.insert(b"peers".to_vec(), Value::List(peers.collect()));
        let again = parse_reply(&bencode::encode(&Value::Dict(d))).expect("re-encoded reply");
        assert_eq!(again, r);
    }
}

/// Both sides of the Gnutella 0.6 handshake read the same untrusted bytes.
pub fn check_gnutella_handshake(data: &[u8]) {
    let _ = gh::server_read(&mut &data[..]);
    let listen = "127.0.0.1:6346".parse().expect("address");
    let _ = gh::client(&mut &data[..], &mut Vec::new(), listen);
    if let Ok(text) = std::str::from_utf8(data) {
        for line in text.lines() {
            let _ = gh::status_code(line);
            assert!(gh::parse_x_try(line).len() <= gh::MAX_X_TRY);
        }
    }
}

/// A Gnutella descriptor, whole or from a stream; an `Ok` round-trips.
pub fn check_gnutella_descriptor(data: &[u8]) {
    if let Ok(d) = gmsg::decode(data) {
        same(gmsg::decode(&gmsg::encode(&d)), &d);
    }
    let mut r = data;
    while let Ok(Some(d)) = gmsg::read_descriptor(&mut r) {
        same(gmsg::decode(&gmsg::encode(&d)), &d);
    }
}

/// OpenNap frames (length, type, text); an `Ok` that re-encodes reads back the same.
pub fn check_opennap_frame(data: &[u8]) {
    if data.len() >= 4 {
        let kind = u16::from_le_bytes([data[2], data[3]]);
        round_trip_napster(NMsg::decode(kind, &data[4..]));
    }
    let mut r = data;
    while let Ok(Some(m)) = read_msg(&mut r) {
        round_trip_napster(Ok(m));
    }
}

fn round_trip_napster(m: Result<NMsg, p2plab::wire::WireError>) {
    let Ok(m) = m else { return };
    if let Ok(bytes) = m.encode() {
        same(read_msg(&mut &bytes[..]), &Some(m));
    }
}

/// A KaZaA frame body, alone and behind its length prefix; an `Ok` round-trips.
pub fn check_kazaa_frame(data: &[u8]) {
    if let Ok(m) = KMsg::decode(data) {
        same(KMsg::decode(&m.encode()), &m);
        let _ = m.name();
    }
    if let Ok(Some(body)) = read_frame(&mut &data[..], Prefix::U32Be, 1 << 16) {
        let _ = KMsg::decode(&body);
    }
}

/// A DHT request body; an `Ok` round-trips with the sender's ring size.
pub fn check_dht_request(data: &[u8]) {
    if let Ok((bits, req)) = decode_request(data) {
        same(decode_request(&encode_request(bits, &req)), &(bits, req));
    }
}

/// A DHT reply body; an `Ok` round-trips.
pub fn check_dht_reply(data: &[u8]) {
    if let Ok(rep) = decode_reply(data) {
        same(decode_reply(&encode_reply(&rep)), &rep);
    }
}

/// An HTTP request head for a shared folder: the head, the target, the Range header.
pub fn check_http_request_head(data: &[u8]) {
    let Ok(Some(head)) = read_head(&mut &data[..], 8 * 1024, 32) else {
        return;
    };
    let target = head.start.split(' ').nth(1).unwrap_or("");
    if let Ok(t) = parse_target(target) {
        let text = match &t {
            // The trailing '/' keeps an empty name (`/get/0//`) a name, as clients send it.
            Target::Index { index, name } => {
                format!("/get/{index}/{}/", percent_encode(name.as_bytes()))
            }
            Target::Sha1(id) => format!("/uri-res/N2R?urn:sha1:{}", to_base32(id)),
        };
        assert_eq!(parse_target(&text), Ok(t));
    }
    if let Some(range) = head.get("Range") {
        check_range(range, data.len() as u64);
    }
}

/// A Range header's value: data's first 8 bytes are the file size, the rest the text.
pub fn check_http_range(data: &[u8]) {
    let (size, text) = data.split_at(data.len().min(8));
    let mut b = [0u8; 8];
    b[..size.len()].copy_from_slice(size);
    // Small sizes too, so that the "start beyond the end" rule is reached.
    let size = u64::from_le_bytes(b) >> (b[0] % 64);
    check_range(&String::from_utf8_lossy(text), size);
}

fn check_range(value: &str, size: u64) {
    if let Some(start) = parse_range(value, size) {
        assert!(start < size || start == 0, "start {start} past size {size}");
    }
}

/// A BEP 10 message body (after id 20): an extended handshake round-trips; any other
/// extended id is read as a ut_metadata message (BEP 9), as are the same bytes alone.
pub fn check_extended(data: &[u8]) {
    match ext::decode(data) {
        Ok(Extended::Handshake(h)) => same(ExtHandshake::decode(&h.encode()), &h),
        Ok(Extended::Message { id, payload }) => check_ut_metadata(id, payload),
        Err(_) => {}
    }
    check_ut_metadata(ext::OUR_UT_METADATA, data);
}

/// A ut_metadata payload: an `Ok` round-trips, and a data block fits the assembler
/// for the size it announced (the hash check at the end may still refuse it).
fn check_ut_metadata(id: u8, payload: &[u8]) {
    let Ok(m) = Metadata::decode(payload) else {
        return;
    };
    let mut out = Vec::new();
    m.encode_into(id, &mut out);
    assert_eq!(out[..4], ((out.len() - 4) as u32).to_be_bytes());
    assert_eq!(out[4..6], [ext::EXTENDED, id]);
    same(Metadata::decode(&out[6..]), &m);
    if let Metadata::Data {
        piece,
        total_size,
        block,
    } = m
    {
        let mut asm = Assembler::new([0; 20], total_size).expect("a decoded size is allowed");
        let r = asm.add(piece, block);
        assert!(
            !matches!(r, Err(MetadataError::BadBlock { .. })),
            "a decoded block does not fit: {r:?}"
        );
    }
}

/// A magnet link (BEP 9), as typed or pasted; an `Ok` printed again parses the same.
pub fn check_magnet(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(m) = Magnet::parse(&text) {
        let link = m.to_link();
        if link.len() <= MAX_MAGNET_LEN {
            same(Magnet::parse(&link), &m);
        }
    }
}

/// The torrent both MSE sides know, and the seeds of their keys: fixed, so that inputs
/// recorded from a real exchange (`seeds::mse`) get past the Diffie–Hellman step.
const MSE_TORRENT: InfoHash = [0x4d; 20];
const MSE_SEED_A: u64 = 0x0a5e;
const MSE_SEED_B: u64 = 0x0b5e;

/// One side of a connection in memory: the peer's bytes are `input`; ours are kept.
pub struct Wire<'a> {
    input: &'a [u8],
    pub out: Vec<u8>,
}

impl<'a> Wire<'a> {
    pub fn new(input: &'a [u8]) -> Wire<'a> {
        Wire {
            input,
            out: Vec::new(),
        }
    }
}

impl Read for Wire<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.input.read(buf)
    }
}

impl Write for Wire<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What a finished MSE handshake yields: never more than the peer sent.
fn drain<S: Read>(mut s: S, sent: usize) {
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    assert!(rest.len() <= sent, "{} bytes out of {sent} in", rest.len());
}

/// MSE as the acceptor (B) reads it: `data` is what the initiator sent.
pub fn check_mse_accept(data: &[u8]) {
    let mut w = Wire::new(data);
    let mut rng = Rng::new(MSE_SEED_B);
    if let Ok(s) = mse::accept(&mut w, &[], &[MSE_TORRENT], Policy::Prefer, &mut rng) {
        assert!(s.info_hash().is_none_or(|h| h == MSE_TORRENT));
        drain(s, data.len());
    }
}

/// MSE as the initiator (A) reads it: `data` is what the acceptor sent back.
pub fn check_mse_initiate(data: &[u8]) {
    let mut w = Wire::new(data);
    let mut rng = Rng::new(MSE_SEED_A);
    let ia = Handshake::new(MSE_TORRENT, [1; 20]).encode();
    if let Ok(s) = mse::initiate(&mut w, &MSE_TORRENT, Policy::Prefer, &ia, &mut rng) {
        drain(s, data.len());
    }
}

// ---- valid inputs, made with the crate's encoders ----

#[cfg(test)]
mod seeds {
    use super::*;
    use p2plab::bittorrent::metainfo::{FileEntry, Info};
    use p2plab::dht::Id;
    use p2plab::gnutella::msg::{Descriptor, Payload};

    fn info(multi: bool) -> Info {
        let files = if multi {
            vec![
                FileEntry {
                    path: vec!["a".into(), "b.txt".into()],
                    length: 1500,
                },
                FileEntry {
                    path: vec!["c".into()],
                    length: 10,
                },
            ]
        } else {
            vec![FileEntry {
                path: vec![],
                length: 3000,
            }]
        };
        Info {
            name: "lab".into(),
            piece_length: 1024,
            pieces: vec![[7; 20], [9; 20], [1; 20]],
            files,
            multi_file: multi,
        }
    }

    pub fn torrents() -> Vec<Vec<u8>> {
        vec![
            Metainfo::new(info(false), Some("http://127.0.0.1:6969/announce".into())).to_bytes(),
            Metainfo::new(info(true), None).to_bytes(),
        ]
    }

    pub fn bencodes() -> Vec<Vec<u8>> {
        let mut d = BTreeMap::new();
        d.insert(
            b"k".to_vec(),
            Value::List(vec![Value::Int(-42), Value::str("spam")]),
        );
        d.insert(b"n".to_vec(), Value::Dict(BTreeMap::new()));
        let mut v = vec![
            bencode::encode(&Value::Dict(d)),
            bencode::encode(&Value::Int(1 << 40)),
            bencode::encode(&Value::List(vec![Value::Bytes(vec![0, 255, 58])])),
        ];
        v.extend(torrents());
        v
    }

    pub fn peer_messages() -> Vec<Vec<u8>> {
        let msgs = [
            Message::KeepAlive,
            Message::Unchoke,
            Message::Have(7),
            Message::Bitfield(&[0xff, 0xe0]),
            Message::Request {
                index: 1,
                begin: 16384,
                length: 16384,
            },
            Message::Piece {
                index: 2,
                begin: 0,
                block: b"some block bytes",
            },
            Message::Cancel {
                index: 1,
                begin: 0,
                length: 1,
            },
            Message::Port(6881),
        ];
        let body = |m: &Message| {
            let mut out = Vec::new();
            btmsg::encode_into(m, &mut out);
            out.split_off(4)
        };
        msgs.iter().map(body).collect()
    }

    pub fn handshakes() -> Vec<Vec<u8>> {
        vec![
            Handshake::new([3; 20], *b"-PL0001-abcdefghijkl")
                .encode()
                .to_vec(),
            Handshake::new([0xff; 20], [0; 20]).encode().to_vec(),
        ]
    }

    pub fn tracker_requests() -> Vec<Vec<u8>> {
        let q = format!(
            "info_hash={}&peer_id={}&port=6881&uploaded=0&downloaded=0&left=3000&compact=1&numwant=50",
            percent_encode(&[0x12, 0x34, 0xff, b'a', b' ', 0, 0x80, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]),
            percent_encode(b"-PL0001-abcdefghijkl"),
        );
        vec![
            format!("GET /announce?{q}&event=started HTTP/1.0\r\nHost: h\r\n\r\n").into_bytes(),
            format!("GET /scrape?{q} HTTP/1.1\r\n\r\n").into_bytes(),
        ]
    }

    pub fn tracker_replies() -> Vec<Vec<u8>> {
        let mut d = BTreeMap::new();
        d.insert(b"interval".to_vec(), Value::Int(1800));
        d.insert(b"complete".to_vec(), Value::Int(1));
        d.insert(
            b"peers".to_vec(),
            Value::Bytes(vec![127, 0, 0, 1, 0x1a, 0xe1]),
        );
        let compact = bencode::encode(&Value::Dict(d.clone()));
        let mut peer = BTreeMap::new();
        peer.insert(b"ip".to_vec(), Value::str("127.0.0.2"));
        peer.insert(b"port".to_vec(), Value::Int(80));
        d.insert(b"peers".to_vec(), Value::List(vec![Value::Dict(peer)]));
        let mut fail = BTreeMap::new();
        fail.insert(b"failure reason".to_vec(), Value::str("not found"));
        vec![
            compact,
            bencode::encode(&Value::Dict(d)),
            bencode::encode(&Value::Dict(fail)),
        ]
    }

    pub fn gnutella_handshakes() -> Vec<Vec<u8>> {
        let a = "127.0.0.1:6346".parse().expect("address");
        let b = "10.0.0.2:6347".parse().expect("address");
        vec![
            gh::connect_text(a).into_bytes(),
            gh::ok_text(a, &[a, b]).into_bytes(),
            gh::busy_text(&[b]).into_bytes(),
            format!("{}{}", gh::ok_text(a, &[]), gh::FINAL_OK).into_bytes(),
        ]
    }

    pub fn gnutella_descriptors() -> Vec<Vec<u8>> {
        use p2plab::gnutella::msg::{Bye, HitResult, Pong, Push, Query, QueryHit};
        let ip = "127.0.0.1".parse().expect("address");
        let payloads = [
            Payload::Ping,
            Payload::Pong(Pong {
                port: 6346,
                ip,
                files: 3,
                kbytes: 100,
            }),
            Payload::Bye(Bye {
                code: 200,
                text: "bye".into(),
            }),
            Payload::Push(Push {
                servent_id: [5; 16],
                index: 2,
                ip,
                port: 80,
            }),
            Payload::Query(Query {
                min_speed: 0,
                text: "lab song".into(),
                extension: b"urn:".to_vec(),
            }),
            Payload::QueryHit(QueryHit {
                port: 6346,
                ip,
                speed: 1000,
                results: vec![HitResult {
                    index: 1,
                    size: 3000,
                    name: "lab song.mp3".into(),
                    extension: String::new(),
                }],
                trailer: b"P2PL".to_vec(),
                servent_id: [6; 16],
            }),
        ];
        let all: Vec<Vec<u8>> = payloads
            .into_iter()
            .map(|payload| {
                gmsg::encode(&Descriptor {
                    guid: [1; 16],
                    ttl: 7,
                    hops: 0,
                    payload,
                })
            })
            .collect();
        let mut seeds = all.clone();
        seeds.push(all.concat());
        seeds
    }

    pub fn opennap_frames() -> Vec<Vec<u8>> {
        use p2plab::napster::FileMeta;
        let file = FileMeta {
            name: "lab song.mp3".into(),
            md5: "0123456789abcdef".into(),
            size: 3000,
            bitrate: 128,
            freq: 44100,
            seconds: 60,
        };
        let msgs = [
            NMsg::Login {
                nick: "ann".into(),
                password: "pw".into(),
                port: 6699,
                client: "p2plab 0.1".into(),
                link: 3,
            },
            NMsg::Share(file.clone()),
            NMsg::Search {
                words: "lab".into(),
                max: 10,
            },
            NMsg::SearchResult {
                file,
                nick: "bob".into(),
                ip: "127.0.0.1".parse().expect("address"),
                link: 4,
            },
            NMsg::DownloadAck {
                nick: "bob".into(),
                ip: "127.0.0.1".parse().expect("address"),
                port: 6699,
                name: "lab song.mp3".into(),
                md5: "0123".into(),
                speed: 3,
            },
            NMsg::SearchEnd,
            NMsg::Error("no".into()),
        ];
        let all: Vec<Vec<u8>> = msgs.iter().map(|m| m.encode().expect("fits")).collect();
        let mut seeds = all.clone();
        seeds.push(all.concat());
        seeds
    }

    pub fn kazaa_frames() -> Vec<Vec<u8>> {
        use p2plab::kazaa::msg::{FileDesc, Hit, Role};
        let a = "127.0.0.1:1214".parse().expect("address");
        let msgs = [
            KMsg::Hello {
                role: Role::Leader,
                port: 1214,
                capacity: 1000,
            },
            KMsg::Welcome(vec![a, a]),
            KMsg::Publish(vec![FileDesc {
                sha1: [4; 20],
                size: 3000,
                name: "lab song.mp3".into(),
                keywords: vec!["lab".into(), "song".into()],
            }]),
            KMsg::Query {
                id: 9,
                ttl: 3,
                hops: 1,
                text: "lab".into(),
            },
            KMsg::Hits {
                id: 9,
                leaders: 2,
                hits: vec![Hit {
                    name: "lab song.mp3".into(),
                    size: 3000,
                    sha1: [4; 20],
                    holder: a,
                }],
            },
            KMsg::Redirect(a),
            KMsg::Bye,
            KMsg::Subscribe,
            KMsg::Copy {
                child: 3,
                holder: a,
                files: vec![FileDesc {
                    sha1: [5; 20],
                    size: 10,
                    name: "copied song.ogg".into(),
                    keywords: vec!["copied".into(), "ogg".into()],
                }],
            },
            KMsg::Uncopy(3),
        ];
        let mut seeds: Vec<Vec<u8>> = msgs.iter().map(KMsg::encode).collect();
        let body = seeds[2].clone();
        let mut framed = (body.len() as u32).to_be_bytes().to_vec();
        framed.extend_from_slice(&body);
        seeds.push(framed);
        seeds
    }

    fn dht_nodes() -> Vec<p2plab::dht::NodeRef> {
        [4000u16, 4001, 4002]
            .iter()
            .map(|port| {
                let addr = format!("127.0.0.1:{port}").parse().expect("address");
                p2plab::dht::NodeRef {
                    id: Id::of_addr(&addr, 160),
                    addr,
                }
            })
            .collect()
    }

    pub fn dht_requests() -> Vec<Vec<u8>> {
        use p2plab::dht::{Request, Routing};
        let n = dht_nodes();
        let vals = [b"127.0.0.1:9".to_vec(), b"x".to_vec()].into();
        let reqs = [
            Request::Ping,
            Request::FindStep {
                id: Id::hash(b"k", 160),
                routing: Routing::Fingers,
            },
            Request::Notify(n[0]),
            Request::Put {
                key: b"k".to_vec(),
                value: b"v".to_vec(),
                forwards: 1,
            },
            Request::Store(vec![(b"k".to_vec(), vals)]),
            Request::Get(b"k".to_vec()),
            Request::GetAfter {
                key: b"k".to_vec(),
                after: b"127.0.0.1:9".to_vec(),
            },
            Request::GetPredecessor,
            Request::GetSuccessors,
            Request::PredLeaving {
                leaver: n[0],
                pred: Some(n[1]),
            },
            Request::SuccLeaving {
                leaver: n[0],
                succs: n.clone(),
            },
        ];
        reqs.iter().map(|r| encode_request(160, r)).collect()
    }

    pub fn dht_replies() -> Vec<Vec<u8>> {
        use p2plab::dht::Reply;
        let n = dht_nodes();
        let reps = [
            Reply::Pong(n[0]),
            Reply::Done(n.clone()),
            Reply::Next(vec![n[1]]),
            Reply::Predecessor(None),
            Reply::Successors(n),
            Reply::Values([b"a".to_vec(), b"bb".to_vec()].into()),
            Reply::More([b"c".to_vec()].into()),
            Reply::Ok,
            Reply::Error("no".into()),
        ];
        reps.iter().map(encode_reply).collect()
    }

    pub fn extended() -> Vec<Vec<u8>> {
        let hs = ExtHandshake {
            ut_metadata: Some(3),
            metadata_size: Some(20_000),
            client: Some("p2plab 0.1".into()),
            port: Some(6881),
        };
        let block = vec![0x5a; 20_000 - ext::METADATA_BLOCK];
        let msgs = [
            Metadata::Request { piece: 0 },
            Metadata::Data {
                piece: 1,
                total_size: 20_000,
                block: &block,
            },
            Metadata::Reject { piece: 7 },
        ];
        let mut seeds = vec![[&[ext::HANDSHAKE][..], &hs.encode()].concat()];
        for m in &msgs {
            let mut out = Vec::new();
            m.encode_into(3, &mut out);
            seeds.push(out.split_off(5)); // after length and id 20
        }
        seeds
    }

    pub fn magnets() -> Vec<Vec<u8>> {
        let m = Magnet {
            info_hash: [0xc1; 20],
            name: Some("lab song + ü.mp3".into()),
            trackers: vec!["http://127.0.0.1:6969/announce".into(), "udp://t:1".into()],
        };
        vec![
            m.to_link().into_bytes(),
            b"magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK&dn=a+b&x=1".to_vec(),
        ]
    }

    /// A real MSE exchange between two in-memory sides with fixed keys, replayed step
    /// by step: returns (what A sent, what B sent), each a whole handshake followed by
    /// encrypted payload bytes.
    pub fn mse() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let a = |input: &[u8]| {
            let mut w = Wire::new(input);
            let ia = Handshake::new(MSE_TORRENT, [1; 20]).encode();
            let mut rng = Rng::new(MSE_SEED_A);
            let ok = mse::initiate(&mut w, &MSE_TORRENT, Policy::Prefer, &ia, &mut rng).is_ok();
            (w.out, ok)
        };
        let b = |input: &[u8]| {
            let mut w = Wire::new(input);
            let mut rng = Rng::new(MSE_SEED_B);
            let ok = mse::accept(&mut w, &[], &[MSE_TORRENT], Policy::Prefer, &mut rng).is_ok();
            (w.out, ok)
        };
        let (step1, _) = a(&[]); // Ya, PadA; then A waits for Yb
        let (step2, _) = b(&step1); // Yb, PadB; then B waits for step 3
        let (from_a, _) = a(&step2); // steps 1 and 3
        let (from_b, ok) = b(&from_a); // steps 2 and 4
        assert!(ok, "B finishes the handshake");
        assert!(a(&from_b).1, "A finishes the handshake");
        let payload = [0x77u8; 40];
        let plain = Handshake::new(MSE_TORRENT, [2; 20]).encode();
        (
            vec![
                from_a.clone(),
                [&from_a[..], &payload].concat(),
                [&plain[..], &payload].concat(),
            ],
            vec![from_b.clone(), [&from_b[..], &payload].concat()],
        )
    }

    pub fn http_heads() -> Vec<Vec<u8>> {
        let name = percent_encode("lab song ü.mp3".as_bytes());
        let b32 = to_base32(&[0xab; 20]);
        vec![
            format!("GET /get/3/{name} HTTP/1.1\r\nHost: h\r\nRange: bytes=100-\r\n\r\n")
                .into_bytes(),
            format!("HEAD /uri-res/N2R?urn:sha1:{b32} HTTP/1.0\r\n\r\n").into_bytes(),
        ]
    }

    pub fn http_ranges() -> Vec<Vec<u8>> {
        ["bytes=0-", "bytes=100-199", " bytes= 7 -"]
            .iter()
            .map(|r| [&3000u64.to_le_bytes()[..], r.as_bytes()].concat())
            .collect()
    }
}

// ---- the mutation engine ----

#[cfg(test)]
mod engine {
    use p2plab::rng::Rng;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    /// Inputs per decoder. Release builds run all of them in about a second in total.
    pub const INPUTS: usize = 10_000;
    /// Inputs for the MSE handshake: each one past 96 bytes costs two 768-bit modular
    /// exponentiations (about 0.25 ms), so fewer, to keep `make test` quick.
    pub const INPUTS_DH: usize = 2_000;
    /// Mutated inputs never grow past this, so one test stays fast.
    const MAX_LEN: usize = 16 * 1024;

    /// Feeds `INPUTS` inputs derived from `seeds` to `check`; panics naming the input
    /// that made `check` panic.
    pub fn run(name: &str, seed: u64, seeds: &[Vec<u8>], check: fn(&[u8])) {
        run_n(name, seed, seeds, check, INPUTS)
    }

    /// [`run`] with `inputs` inputs.
    pub fn run_n(name: &str, seed: u64, seeds: &[Vec<u8>], check: fn(&[u8]), inputs: usize) {
        for s in seeds {
            check(s); // the valid inputs themselves, outside catch_unwind: a plain failure
        }
        let mut rng = Rng::new(seed);
        for i in 0..inputs {
            let input = if i % 10 == 0 {
                let len = rng.below(80);
                rng.bytes(len)
            } else {
                mutate(&mut rng, seeds)
            };
            if catch_unwind(AssertUnwindSafe(|| check(&input))).is_err() {
                panic!(
                    "{name}: input #{i} of seed {seed:#x} panicked ({} bytes): {}",
                    input.len(),
                    hex(&input)
                );
            }
        }
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    /// One to four stacked mutations of a seed input.
    fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
        let mut b = rng.pick(seeds).expect("seeds").clone();
        for _ in 0..1 + rng.below(4) {
            mutate_once(rng, seeds, &mut b);
        }
        b.truncate(MAX_LEN);
        b
    }

    fn mutate_once(rng: &mut Rng, seeds: &[Vec<u8>], b: &mut Vec<u8>) {
        let at = |rng: &mut Rng, b: &Vec<u8>| rng.below(b.len() + 1);
        match rng.below(10) {
            0 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] ^= 1 << rng.below(8);
            }
            1 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] = *rng.pick(&[0x00, 0xff, 0x7f, 0x80]).expect("values");
            }
            2 => {
                let n = at(rng, b);
                b.truncate(n);
            }
            3 => {
                let n = 1 + rng.below(32);
                b.extend(rng.bytes(n));
            }
            4 if !b.is_empty() => {
                // Duplicate a slice somewhere else.
                let (s, e) = span(rng, b.len());
                let piece = b[s..e].to_vec();
                let p = at(rng, b);
                b.splice(p..p, piece);
            }
            5 => {
                // A length field set to a huge value: binary (either byte order) or text.
                let fields: [&[u8]; 7] = [
                    &[0xff, 0xff, 0xff, 0xff],
                    &[0x7f, 0xff, 0xff, 0xff],
                    &[0x00, 0x00, 0x00, 0x80],
                    &[0xff, 0xff],
                    b"4294967296",
                    b"99999999999999999999",
                    b"-1",
                ];
                let f = rng.pick(&fields).expect("fields");
                let p = rng.below(b.len().saturating_sub(f.len()) + 1);
                if rng.below(2) == 0 && p + f.len() <= b.len() {
                    b[p..p + f.len()].copy_from_slice(f);
                } else {
                    b.splice(p..p, f.iter().copied());
                }
            }
            6 => {
                // Splice: a prefix of this input and a suffix of another.
                let other = rng.pick(seeds).expect("seeds");
                let cut = at(rng, b);
                let from = rng.below(other.len() + 1);
                b.truncate(cut);
                b.extend_from_slice(&other[from..]);
            }
            7 if !b.is_empty() => {
                let (s, e) = span(rng, b.len());
                b.drain(s..e);
            }
            8 => {
                // A token that means something to a text or bencode parser.
                let tokens: [&[u8]; 12] = [
                    b":",
                    b" ",
                    b"\"",
                    b"\r\n",
                    b"\r\n\r\n",
                    b"e",
                    b"i",
                    b"l",
                    b"d",
                    b"%",
                    b"=",
                    b"\0",
                ];
                let t = rng.pick(&tokens).expect("tokens");
                let p = at(rng, b);
                b.splice(p..p, t.iter().copied());
            }
            _ => {
                let n = 1 + rng.below(8);
                let p = at(rng, b);
                b.splice(p..p, rng.bytes(n));
            }
        }
    }

    fn span(rng: &mut Rng, len: usize) -> (usize, usize) {
        let s = rng.below(len);
        (s, s + 1 + rng.below((len - s).min(64)))
    }
}

// ---- one test per decoder, each with its own fixed seed ----

#[test]
fn bencode() {
    engine::run("bencode", 0xbe_01, &seeds::bencodes(), check_bencode);
}

#[test]
fn metainfo() {
    engine::run("metainfo", 0xbe_02, &seeds::torrents(), check_metainfo);
}

#[test]
fn peer_message() {
    engine::run(
        "peer_message",
        0xb7_03,
        &seeds::peer_messages(),
        check_peer_message,
    );
}

#[test]
fn handshake() {
    engine::run("handshake", 0xb7_04, &seeds::handshakes(), check_handshake);
}

#[test]
fn tracker_request() {
    let s = seeds::tracker_requests();
    engine::run("tracker_request", 0xb7_05, &s, check_tracker_request);
}

#[test]
fn tracker_reply() {
    engine::run(
        "tracker_reply",
        0xb7_06,
        &seeds::tracker_replies(),
        check_tracker_reply,
    );
}

#[test]
fn gnutella_handshake() {
    let s = seeds::gnutella_handshakes();
    engine::run("gnutella_handshake", 0x6e_07, &s, check_gnutella_handshake);
}

#[test]
fn gnutella_descriptor() {
    let s = seeds::gnutella_descriptors();
    engine::run(
        "gnutella_descriptor",
        0x6e_08,
        &s,
        check_gnutella_descriptor,
    );
}

#[test]
fn opennap_frame() {
    engine::run(
        "opennap_frame",
        0x0a_09,
        &seeds::opennap_frames(),
        check_opennap_frame,
    );
}

#[test]
fn kazaa_frame() {
    engine::run(
        "kazaa_frame",
        0x4a_0a,
        &seeds::kazaa_frames(),
        check_kazaa_frame,
    );
}

#[test]
fn dht_request() {
    engine::run(
        "dht_request",
        0xd4_0b,
        &seeds::dht_requests(),
        check_dht_request,
    );
}

#[test]
fn dht_reply() {
    engine::run("dht_reply", 0xd4_0c, &seeds::dht_replies(), check_dht_reply);
}

#[test]
fn http_request_head() {
    engine::run(
        "http_request_head",
        0x47_0d,
        &seeds::http_heads(),
        check_http_request_head,
    );
}

#[test]
fn http_range() {
    engine::run(
        "http_range",
        0x47_0e,
        &seeds::http_ranges(),
        check_http_range,
    );
}

#[test]
fn extended() {
    engine::run("extended", 0xb7_0f, &seeds::extended(), check_extended);
}

#[test]
fn magnet() {
    engine::run("magnet", 0xb7_10, &seeds::magnets(), check_magnet);
}

#[test]
fn mse_accept() {
    let (from_a, _) = seeds::mse();
    let n = engine::INPUTS_DH;
    engine::run_n("mse_accept", 0xb7_11, &from_a, check_mse_accept, n);
}

#[test]
fn mse_initiate() {
    let (_, from_b) = seeds::mse();
    let n = engine::INPUTS_DH;
    engine::run_n("mse_initiate", 0xb7_12, &from_b, check_mse_initiate, n);
}
