//! Byte-exact fixtures, one per descriptor, commented field by field.

use super::*;
use crate::wire::WireError;
use std::io::Cursor;
use std::net::Ipv4Addr;

/// A GUID as modern servents make them: byte 8 = 0xFF, byte 15 = 0x00.
const G: Guid = [
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0xff, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x00,
];

fn header(kind: u8, ttl: u8, hops: u8, len: u8) -> Vec<u8> {
    let mut h = G.to_vec();
    h.extend_from_slice(&[kind, ttl, hops, len, 0, 0, 0]);
    h
}

fn check(d: Descriptor, bytes: &[u8]) {
    assert_eq!(encode(&d), bytes, "encode");
    assert_eq!(d.encoded_len(), bytes.len(), "encoded_len");
    assert_eq!(decode(bytes).unwrap(), d, "decode");
    let mut r = Cursor::new(bytes.to_vec());
    assert_eq!(read_descriptor(&mut r).unwrap().unwrap(), d, "read");
    assert!(read_descriptor(&mut r).unwrap().is_none(), "clean end");
}

#[test]
fn ping() {
    let mut bytes = G.to_vec();
    bytes.extend_from_slice(&[
        0x00, // payload type: Ping
        0x07, // TTL 7
        0x00, // hops 0
        0x00, 0x00, 0x00, 0x00, // payload length 0 (LE)
    ]);
    check(
        Descriptor {
            guid: G,
            ttl: 7,
            hops: 0,
            payload: Payload::Ping,
        },
        &bytes,
    );
}

#[test]
fn pong() {
    let mut bytes = header(0x01, 3, 4, 14); // Pong, TTL 3, hops 4, 14 bytes
    bytes.extend_from_slice(&[
        0xaa, 0x18, // port 6314 (LE)
        127, 0, 0, 1, // IP 127.0.0.1 (network order)
        0x05, 0x00, 0x00, 0x00, // 5 files (LE)
        0x00, 0x04, 0x00, 0x00, // 1024 KB (LE)
    ]);
    check(
        Descriptor {
            guid: G,
            ttl: 3,
            hops: 4,
            payload: Payload::Pong(Pong {
                port: 6314,
                ip: Ipv4Addr::new(127, 0, 0, 1),
                files: 5,
                kbytes: 1024,
            }),
        },
        &bytes,
    );
}

#[test]
fn bye() {
    let mut bytes = header(0x02, 1, 0, 7); // Bye, TTL 1, hops 0, 7 bytes
    bytes.extend_from_slice(&[
        0xc8, 0x00, // code 200 (LE)
        b'b', b'y', b'e', b'!', 0x00, // text, NUL
    ]);
    check(
        Descriptor {
            guid: G,
            ttl: 1,
            hops: 0,
            payload: Payload::Bye(Bye {
                code: 200,
                text: "bye!".into(),
            }),
        },
        &bytes,
    );
}

#[test]
fn push() {
    let mut bytes = header(0x40, 5, 2, 26); // Push, TTL 5, hops 2, 26 bytes
    bytes.extend_from_slice(&[0xab; 16]); // servent id
    bytes.extend_from_slice(&[
        0x03, 0x00, 0x00, 0x00, // file index 3 (LE)
        10, 0, 0, 9, // IP 10.0.0.9 (network order)
        0xba, 0x18, // port 6330 (LE)
    ]);
    check(
        Descriptor {
            guid: G,
            ttl: 5,
            hops: 2,
            payload: Payload::Push(Push {
                servent_id: [0xab; 16],
                index: 3,
                ip: Ipv4Addr::new(10, 0, 0, 9),
                port: 6330,
            }),
        },
        &bytes,
    );
}

#[test]
fn query() {
    let mut bytes = header(0x80, 7, 0, 13); // Query, TTL 7, hops 0, 13 bytes
    bytes.extend_from_slice(&[
        0x00, 0x00, // min speed 0
        b'a', b'b', b'b', b'e', b'y', b' ', b'r', b'o', b'a', b'd', // search text
        0x00, // NUL, no extension
    ]);
    check(
        Descriptor {
            guid: G,
            ttl: 7,
            hops: 0,
            payload: Payload::Query(Query {
                min_speed: 0,
                text: "abbey road".into(),
                extension: vec![],
            }),
        },
        &bytes,
    );
}

#[test]
fn query_hit() {
    let mut payload = vec![
        0x02, // two results
        0x50, 0x00, // port 80 (LE)
        192, 168, 0, 2, // IP 192.168.0.2 (network order)
        0xe8, 0x03, 0x00, 0x00, // speed 1000 (LE)
        0x00, 0x00, 0x00, 0x00, // result 1: index 0
        0x0a, 0x00, 0x00, 0x00, //           size 10
        b'a', b'.', b'm', b'p', b'3', 0x00, //  name, NUL
        0x00, //                                empty extension, NUL still required
        0x07, 0x00, 0x00, 0x00, // result 2: index 7
        0x00, 0x01, 0x00, 0x00, //           size 256
        b'b', 0x00, //                          name, NUL
        b'u', b'r', b'n', b':', b'x', 0x00, //  extension, NUL
    ];
    payload.extend_from_slice(&[0x5e; 16]); // servent id
    let mut bytes = header(0x81, 2, 0, payload.len() as u8);
    bytes.extend_from_slice(&payload);
    check(
        Descriptor {
            guid: G,
            ttl: 2,
            hops: 0,
            payload: Payload::QueryHit(QueryHit {
                port: 80,
                ip: Ipv4Addr::new(192, 168, 0, 2),
                speed: 1000,
                results: vec![
                    HitResult {
                        index: 0,
                        size: 10,
                        name: "a.mp3".into(),
                        extension: String::new(),
                    },
                    HitResult {
                        index: 7,
                        size: 256,
                        name: "b".into(),
                        extension: "urn:x".into(),
                    },
                ],
                trailer: vec![],
                servent_id: [0x5e; 16],
            }),
        },
        &bytes,
    );
}

/// `check` holds `encoded_len` to every kind's fixture above; these are the edges where
/// the encoder trims or adds: a hit with more results than its count byte holds (the
/// first 255 go out), a vendor trailer, multi-byte UTF-8, a Query's extension.
#[test]
fn encoded_len_counts_what_the_encoder_trims_and_adds() {
    let result = |i: u32| HitResult {
        index: i,
        size: i * 10,
        name: format!("lied-{i}-\u{00e9}t\u{00e9}.mp3"),
        extension: if i.is_multiple_of(2) {
            "urn:sha1:X".into()
        } else {
            String::new()
        },
    };
    let hit = QueryHit {
        port: 80,
        ip: Ipv4Addr::LOCALHOST,
        speed: 1000,
        results: (0..MAX_RESULTS as u32 + 3).map(result).collect(),
        trailer: b"LIME\x02\x00\x01".to_vec(),
        servent_id: G,
    };
    let query = Query {
        min_speed: 0,
        text: "caf\u{00e9} \u{4e16}\u{754c}".into(),
        extension: b"urn:sha1:".to_vec(),
    };
    for payload in [Payload::QueryHit(hit), Payload::Query(query)] {
        let d = Descriptor {
            guid: G,
            ttl: 3,
            hops: 1,
            payload,
        };
        assert_eq!(d.encoded_len(), encode(&d).len(), "{:?}", d.payload.kind());
    }
}

#[test]
fn payload_above_the_cap_is_refused_before_reading() {
    let mut bytes = G.to_vec();
    // Query claiming 0x00010001 = 65537 bytes, one more than MAX_PAYLOAD.
    bytes.extend_from_slice(&[0x80, 7, 0, 0x01, 0x00, 0x01, 0x00]);
    let err = read_descriptor(&mut Cursor::new(bytes)).unwrap_err();
    assert!(matches!(
        err,
        WireError::TooLong {
            len: 65537,
            max: 65536
        }
    ));
}

#[test]
fn lying_lengths() {
    // A Pong that says 10 bytes: too short to be a Pong.
    let mut short = header(0x01, 1, 0, 10);
    short.extend_from_slice(&[0; 10]);
    assert!(matches!(decode(&short), Err(WireError::Malformed(_))));
    // A Query that says 20 bytes and sends 5 before closing.
    let mut cut = header(0x80, 1, 0, 20);
    cut.extend_from_slice(&[0, 0, b'a', b'b', 0]);
    assert!(matches!(
        read_descriptor(&mut Cursor::new(cut)),
        Err(WireError::Truncated {
            expected: 20,
            got: 5
        })
    ));
    // A QueryHit whose count promises more results than its bytes hold.
    let mut hit = vec![9, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0];
    hit.extend_from_slice(&[0; 16]);
    assert!(decode_payload(Kind::QueryHit, &hit).is_err());
}

#[test]
fn unknown_type_is_reported_after_its_payload() {
    let mut bytes = header(0x31, 1, 0, 2);
    bytes.extend_from_slice(&[1, 2]);
    bytes.extend_from_slice(&header(0x00, 1, 0, 0));
    let mut r = Cursor::new(bytes);
    assert!(matches!(
        read_descriptor(&mut r),
        Err(WireError::UnknownType(0x31))
    ));
    // The stream stays in step: the next descriptor reads fine.
    assert_eq!(
        read_descriptor(&mut r).unwrap().unwrap().payload,
        Payload::Ping
    );
}
