//! Byte-exact fixtures for every message, commented field by field, and the bad cases.

use super::*;
use crate::wire::WireError;
use std::net::Ipv4Addr;

fn addr(a: u8, b: u8, c: u8, d: u8, port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::new(a, b, c, d), port)
}

#[test]
fn hello_bytes() {
    let m = Msg::Hello {
        role: Role::Node,
        port: 6346,
        capacity: 1000,
    };
    let bytes = [
        0x01, // type Hello
        0x00, // role 0 = node
        0x18, 0xca, // port 6346, big-endian
        0x00, 0x00, 0x03, 0xe8, // capacity 1000 KiB/s
    ];
    assert_eq!(m.encode(), bytes);
    assert_eq!(Msg::decode(&bytes).unwrap(), m);
}

#[test]
fn welcome_and_redirect_bytes() {
    let m = Msg::Welcome(vec![addr(127, 0, 0, 1, 1214)]);
    let bytes = [
        0x02, // type Welcome
        0x01, // one leader
        0x7f, 0x00, 0x00, 0x01, // 127.0.0.1, network order
        0x04, 0xbe, // port 1214
    ];
    assert_eq!(m.encode(), bytes);
    assert_eq!(Msg::decode(&bytes).unwrap(), m);
    let r = Msg::Redirect(addr(10, 0, 0, 2, 80));
    assert_eq!(r.encode(), [0x09, 10, 0, 0, 2, 0x00, 0x50]);
    assert_eq!(Msg::decode(&r.encode()).unwrap(), r);
}

#[test]
fn publish_bytes() {
    let m = Msg::Publish(vec![FileDesc {
        sha1: [0xab; 20],
        size: 5,
        name: "a.mp3".into(),
        keywords: vec!["a".into(), "mp3".into()],
    }]);
    let mut bytes = vec![
        0x04, // type Publish
        0x00, 0x01, // one file
    ];
    bytes.extend_from_slice(&[0xab; 20]); // SHA-1
    bytes.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 5]); // size 5, u64
    bytes.extend_from_slice(b"\x05a.mp3"); // name, u8 length first
    bytes.extend_from_slice(b"\x02\x01a\x03mp3"); // 2 keywords: "a", "mp3"
    assert_eq!(m.encode(), bytes);
    assert_eq!(Msg::decode(&bytes).unwrap(), m);
}

#[test]
fn query_and_hits_bytes() {
    let q = Msg::Query {
        id: 0x0102030405060708,
        ttl: 2,
        hops: 0,
        text: "road".into(),
    };
    let bytes = [
        0x06, // type Query
        1, 2, 3, 4, 5, 6, 7, 8,    // query id u64
        0x02, // ttl
        0x00, // hops
        0x04, b'r', b'o', b'a', b'd', // text
    ];
    assert_eq!(q.encode(), bytes);
    assert_eq!(Msg::decode(&bytes).unwrap(), q);

    let h = Msg::Hits {
        id: 9,
        leaders: 3,
        hits: vec![Hit {
            name: "x".into(),
            size: 1,
            sha1: [7; 20],
            holder: addr(127, 0, 0, 1, 80),
        }],
    };
    let mut bytes = vec![0x07, 0, 0, 0, 0, 0, 0, 0, 9]; // type Hits, id 9
    bytes.extend_from_slice(&[0, 3, 0, 1]); // 3 leaders searched, 1 hit
    bytes.extend_from_slice(&[7; 20]); // SHA-1
    bytes.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1]); // size 1
    bytes.extend_from_slice(&[127, 0, 0, 1, 0, 80]); // holder 127.0.0.1:80
    bytes.extend_from_slice(b"\x01x"); // name
    assert_eq!(h.encode(), bytes);
    assert_eq!(Msg::decode(&bytes).unwrap(), h);
}

#[test]
fn empty_messages_round_trip() {
    for m in [
        Msg::Ping,
        Msg::Promote(7),
        Msg::Bye,
        Msg::Indexed(7),
        Msg::Leaders(vec![]),
    ] {
        assert_eq!(Msg::decode(&m.encode()).unwrap(), m);
    }
    assert_eq!(Msg::Bye.encode(), [0x0a]);
}

#[test]
fn unknown_type_and_empty_body() {
    assert!(matches!(
        Msg::decode(&[0x42]),
        Err(WireError::UnknownType(0x42))
    ));
    assert!(matches!(Msg::decode(&[]), Err(WireError::Malformed(_))));
}

#[test]
fn counts_over_their_limit_are_refused_before_reading() {
    // Publish claiming 65535 files in a 3-byte body.
    let err = Msg::decode(&[0x04, 0xff, 0xff]).unwrap_err();
    assert!(matches!(err, WireError::TooLong { len: 65535, max } if max == MAX_PUBLISH as u64));
    // Hits claiming 60000 hits.
    let err = Msg::decode(&[0x07, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0xea, 0x60]).unwrap_err();
    assert!(matches!(err, WireError::TooLong { len: 60000, .. }));
    // Welcome claiming 200 leaders.
    assert!(matches!(
        Msg::decode(&[0x02, 200]),
        Err(WireError::TooLong { len: 200, .. })
    ));
}

#[test]
fn truncated_and_trailing_bytes() {
    // Hello cut after the role.
    assert!(matches!(
        Msg::decode(&[0x01, 0x00, 0x18]),
        Err(WireError::Malformed(_))
    ));
    // Ping with a stray byte.
    assert!(matches!(
        Msg::decode(&[0x00, 0x00]),
        Err(WireError::Malformed(_))
    ));
    // Query whose text length runs past the end.
    assert!(matches!(
        Msg::decode(&[0x06, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 200, b'a']),
        Err(WireError::Malformed(_))
    ));
}

#[test]
fn a_file_name_with_a_path_is_refused() {
    let mut bytes = vec![0x04, 0x00, 0x01];
    bytes.extend_from_slice(&[0; 20]);
    bytes.extend_from_slice(&[0; 8]);
    bytes.extend_from_slice(b"\x0d../etc/passwd\x00");
    assert!(matches!(Msg::decode(&bytes), Err(WireError::Malformed(_))));
}

#[test]
fn bad_role_and_bad_utf8() {
    assert!(Msg::decode(&[0x01, 0x05, 0, 0, 0, 0, 0, 0]).is_err());
    assert!(Msg::decode(&[0x06, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 1, 0xff]).is_err());
}

#[test]
fn copy_messages_bytes() {
    assert_eq!(Msg::Subscribe.encode(), [0x0b]);
    assert_eq!(Msg::decode(&[0x0b]).unwrap(), Msg::Subscribe);

    let m = Msg::Copy {
        child: 5,
        holder: addr(127, 0, 0, 2, 8080),
        files: vec![FileDesc {
            sha1: [0xcd; 20],
            size: 3,
            name: "b.ogg".into(),
            keywords: vec!["b".into()],
        }],
    };
    let mut bytes = vec![
        0x0c, // type Copy
        0, 0, 0, 0, 0, 0, 0, 5, // child 5 (the sender's number for it), u64
        127, 0, 0, 2, // holder IP, network order
        0x1f, 0x90, // holder port 8080
        0x00, 0x01, // one file
    ];
    bytes.extend_from_slice(&[0xcd; 20]); // SHA-1
    bytes.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 3]); // size 3
    bytes.extend_from_slice(b"\x05b.ogg"); // name
    bytes.extend_from_slice(b"\x01\x01b"); // 1 keyword: "b"
    assert_eq!(m.encode(), bytes);
    assert_eq!(Msg::decode(&bytes).unwrap(), m);

    let u = Msg::Uncopy(0x0102);
    let bytes = [
        0x0d, // type Uncopy
        0, 0, 0, 0, 0, 0, 0x01, 0x02, // child 258
    ];
    assert_eq!(u.encode(), bytes);
    assert_eq!(Msg::decode(&bytes).unwrap(), u);
}

#[test]
fn bad_copy_messages_are_refused() {
    // Copy claiming 65535 files in a short body: refused before anything is reserved.
    let mut b = vec![
        0x0c, 0, 0, 0, 0, 0, 0, 0, 1, 127, 0, 0, 1, 0, 80, 0xff, 0xff,
    ];
    assert!(matches!(
        Msg::decode(&b),
        Err(WireError::TooLong { len: 65535, max }) if max == MAX_PUBLISH as u64
    ));
    // Copy cut inside the holder address.
    b.truncate(11);
    assert!(matches!(Msg::decode(&b), Err(WireError::Malformed(_))));
    // Uncopy with a short id, and Subscribe with a stray byte.
    assert!(Msg::decode(&[0x0d, 0, 0, 1]).is_err());
    assert!(Msg::decode(&[0x0b, 0x00]).is_err());
}

#[test]
fn a_promotion_carries_its_grant() {
    let p = Msg::Promote(0x0a0b);
    let bytes = [
        0x08, // type Promote
        0, 0, 0, 0, 0, 0, 0x0a, 0x0b, // grant, u64
    ];
    assert_eq!(p.encode(), bytes);
    assert_eq!(Msg::decode(&bytes).unwrap(), p);
    let h = Msg::Hello {
        role: Role::Promoted(0x0a0b),
        port: 80,
        capacity: 0,
    };
    let bytes = [
        0x01, // type Hello
        0x02, // role 2 = promoted
        0x00, 0x50, // port 80
        0, 0, 0, 0, // capacity 0
        0, 0, 0, 0, 0, 0, 0x0a, 0x0b, // the grant from Promote, only for role 2
    ];
    assert_eq!(h.encode(), bytes);
    assert_eq!(Msg::decode(&bytes).unwrap(), h);
    // A promoted Hello without its grant is cut short.
    assert!(Msg::decode(&bytes[..7]).is_err());
    assert!(Msg::decode(&[0x08]).is_err(), "Promote without a grant");
}

#[test]
fn only_a_ping_is_upkeep() {
    // 00 = type Ping, no payload: the keep-alive, the one frame counted as upkeep.
    assert_eq!(Msg::Ping.encode(), [0x00]);
    assert!(Msg::is_upkeep(&Msg::Ping.encode()));
    for m in [Msg::Bye, Msg::Subscribe, Msg::Indexed(0)] {
        assert!(!Msg::is_upkeep(&m.encode()), "{}", m.name());
    }
    assert!(!Msg::is_upkeep(&[]), "an empty body is no Ping");
}
