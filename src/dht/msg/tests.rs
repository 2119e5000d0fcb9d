//! Byte-literal cases for every message, commented field by field, and round trips.

use super::*;
use crate::dht::id::Id;
use crate::wire::WireError;
use std::net::SocketAddr;

fn node(port: u16) -> NodeRef {
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    NodeRef {
        id: Id::of_addr(&addr, 160),
        addr,
    }
}

#[test]
fn ping_is_two_bytes() {
    // 01 = PING, a0 = m of 160.
    assert_eq!(encode_request(160, &Request::Ping), vec![0x01, 0xa0]);
    assert_eq!(decode_request(&[0x01, 0x08]).unwrap(), (8, Request::Ping));
}

#[test]
fn a_datagram_is_the_txid_the_flags_then_the_body() {
    // 00 00 01 02 = transaction 258, 00 = flags (a user's call), then PING from m = 160.
    let d = datagram(Head::call(258), &encode_request(160, &Request::Ping));
    assert_eq!(d, vec![0x00, 0x00, 0x01, 0x02, 0x00, 0x01, 0xa0]);
    assert_eq!(
        split_head(&d).unwrap(),
        (Head::call(258), &[0x01, 0xa0][..])
    );
    assert!(split_head(&[0, 0, 1, 2]).is_err(), "shorter than a head");
    let big = vec![0u8; MAX_DATAGRAM + 1];
    assert!(split_head(&big).is_err(), "longer than MAX_DATAGRAM");
}

#[test]
fn the_upkeep_flag_is_bit_0_of_the_fifth_byte() {
    // check-predecessor's PING: 00 00 00 07 = transaction 7, 01 = flags (upkeep), 01 a0.
    let d = datagram(Head::upkeep(7), &encode_request(160, &Request::Ping));
    assert_eq!(d, vec![0x00, 0x00, 0x00, 0x07, 0x01, 0x01, 0xa0]);
    let (head, body) = split_head(&d).unwrap();
    assert!(head.upkeep);
    assert_eq!((head.txid, body), (7, &[0x01, 0xa0][..]));
    // Its PONG echoes the flags: 00 00 00 07, 01, 81 = PONG, then the node.
    let pong = datagram(head, &encode_reply(&Reply::Pong(node(4000))));
    assert_eq!(pong[..6], [0x00, 0x00, 0x00, 0x07, 0x01, 0x81]);
    // A search's FIND_STEP and a fix-fingers' FIND_STEP differ in that byte alone.
    let step = encode_request(
        160,
        &Request::FindStep {
            id: Id::hash(b"k", 160),
            routing: Routing::Fingers,
        },
    );
    let (search, fix) = (
        datagram(Head::call(9), &step),
        datagram(Head::upkeep(9), &step),
    );
    let differ: Vec<usize> = (0..search.len()).filter(|&i| search[i] != fix[i]).collect();
    assert_eq!(differ, [4]);
    // Bits 1-7 are reserved: 0x02 or 0x81 in the flags is refused.
    for bad in [0x02, 0x81, 0xff] {
        let err = split_head(&[0, 0, 0, 7, bad, 0x01, 0xa0]).unwrap_err();
        assert!(matches!(err, WireError::Malformed(m) if m.contains("flags")));
    }
}

#[test]
fn paging_layout() {
    // 0b = GET_AFTER, a0 = m, key "k" (00 01 6b), after "v" (00 01 76).
    let req = Request::GetAfter {
        key: b"k".to_vec(),
        after: b"v".to_vec(),
    };
    let b = encode_request(160, &req);
    assert_eq!(b, vec![0x0b, 0xa0, 0x00, 0x01, b'k', 0x00, 0x01, b'v']);
    // 88 = MORE, count 00 01, value "w" (00 01 77).
    let rep = Reply::More([b"w".to_vec()].into());
    assert_eq!(encode_reply(&rep), vec![0x88, 0x00, 0x01, 0x00, 0x01, b'w']);
    // A VALUES count the body cannot hold (2 values need at least 4 more bytes).
    let err = decode_reply(&[0x86, 0x00, 0x02, 0x00]).unwrap_err();
    assert!(matches!(err, WireError::Malformed(_)));
}

#[test]
fn notify_layout() {
    let n = NodeRef {
        id: Id::from_u64(0x2a, 8),
        addr: "127.0.0.1:4000".parse().unwrap(),
    };
    let b = encode_request(8, &Request::Notify(n));
    let mut want = vec![0x05, 0x08]; // NOTIFY, m = 8
    want.extend_from_slice(&[0; 19]); // id: 19 zero bytes ...
    want.push(0x2a); // ... then 42
    want.extend_from_slice(&[4, 127, 0, 0, 1]); // IPv4 127.0.0.1
    want.extend_from_slice(&[0x0f, 0xa0]); // port 4000
    assert_eq!(b, want);
    assert_eq!(decode_request(&b).unwrap(), (8, Request::Notify(n)));
}

#[test]
fn every_request_round_trips() {
    let vals: BTreeSet<Vec<u8>> = [b"127.0.0.1:9".to_vec(), b"x".to_vec()].into();
    let reqs = vec![
        Request::FindStep {
            id: Id::hash(b"k", 160),
            routing: Routing::SuccessorOnly,
        },
        Request::GetPredecessor,
        Request::GetSuccessors,
        Request::Get(b"key".to_vec()),
        Request::GetAfter {
            key: b"key".to_vec(),
            after: b"v".to_vec(),
        },
        Request::Put {
            key: b"k".to_vec(),
            value: b"v".to_vec(),
            forwards: 1,
        },
        Request::Store(vec![(b"k".to_vec(), vals.clone()), (b"j".to_vec(), vals)]),
        Request::PredLeaving {
            leaver: node(1),
            pred: Some(node(2)),
        },
        Request::SuccLeaving {
            leaver: node(1),
            succs: vec![node(3), node(4)],
        },
    ];
    for req in reqs {
        let b = encode_request(160, &req);
        assert_eq!(decode_request(&b).unwrap(), (160, req));
    }
}

#[test]
fn every_reply_round_trips() {
    let v6 = NodeRef {
        id: Id::hash(b"x", 160),
        addr: "[::1]:7".parse().unwrap(),
    };
    let reps = vec![
        Reply::Pong(v6),
        Reply::Done(vec![node(1), node(2)]),
        Reply::Next(vec![node(3)]),
        Reply::Predecessor(None),
        Reply::Successors(vec![]),
        Reply::Values([b"a".to_vec()].into()),
        Reply::More([b"a".to_vec(), b"b".to_vec()].into()),
        Reply::Ok,
        Reply::Error("id taken".into()),
    ];
    for rep in reps {
        assert_eq!(decode_reply(&encode_reply(&rep)).unwrap(), rep);
    }
}

#[test]
fn lying_lengths_and_counts_are_refused() {
    // GET whose key claims 0xffff bytes: over MAX_KEY, refused before reading it.
    let err = decode_request(&[0x06, 0xa0, 0xff, 0xff, b'a']).unwrap_err();
    assert!(matches!(err, WireError::Malformed(m) if m.contains("MAX_KEY")));
    // GET whose key claims 5 bytes but carries 2.
    let err = decode_request(&[0x06, 0xa0, 0x00, 0x05, b'a', b'b']).unwrap_err();
    assert!(matches!(err, WireError::Malformed(_)));
    // STORE claiming 65535 entries.
    let err = decode_request(&[0x08, 0xa0, 0xff, 0xff]).unwrap_err();
    assert!(matches!(err, WireError::Malformed(m) if m.contains("MAX_ENTRIES")));
    // SUCCESSORS claiming 200 nodes.
    let err = decode_reply(&[0x85, 200]).unwrap_err();
    assert!(matches!(err, WireError::Malformed(m) if m.contains("MAX_NODES")));
}

#[test]
fn bad_types_flags_and_trailing_bytes() {
    assert!(matches!(
        decode_request(&[0x42, 0xa0]),
        Err(WireError::UnknownType(0x42))
    ));
    assert!(decode_request(&[0x01, 0x00]).is_err(), "m = 0");
    assert!(decode_request(&[0x01, 0xa1]).is_err(), "m = 161");
    assert!(
        decode_request(&[0x01, 0xa0, 0x00]).is_err(),
        "trailing byte"
    );
    assert!(decode_request(&[]).is_err(), "empty");
    assert!(decode_reply(&[0x84, 0x02]).is_err(), "presence flag 2");
    assert!(decode_reply(&[0x82, 0x00]).is_err(), "DONE with no owner");
}
