//! Byte-exact fixtures for the Napster codec, one per message type used.

use super::*;
use std::io::Cursor;

fn frame(kind: u16, data: &str) -> Vec<u8> {
    let mut v = (data.len() as u16).to_le_bytes().to_vec();
    v.extend_from_slice(&kind.to_le_bytes());
    v.extend_from_slice(data.as_bytes());
    v
}

fn song() -> FileMeta {
    FileMeta {
        name: "Abbey Road.mp3".into(),
        md5: "a9993e364706816aba3e25717850c26c9cd0d89d".into(),
        size: 3_500_000,
        bitrate: 128,
        freq: 44100,
        seconds: 219,
    }
}

#[test]
fn login_bytes() {
    let m = Msg::Login {
        nick: "alice".into(),
        password: "pw".into(),
        port: 6699,
        client: "p2plab 0.1".into(),
        link: 10,
    };
    let bytes = m.encode().unwrap();
    // 1d 00: 29 bytes of data; 02 00: type 2 (login).
    assert_eq!(&bytes[..4], &[0x1d, 0x00, 0x02, 0x00]);
    assert_eq!(&bytes[4..], b"alice pw 6699 \"p2plab 0.1\" 10");
    assert_eq!(read_msg(&mut Cursor::new(bytes)).unwrap(), Some(m));
}

#[test]
fn search_bytes_match_the_doc_example() {
    let m = Msg::Search {
        words: "abbey road".into(),
        max: 10,
    };
    let bytes = m.encode().unwrap();
    // 2d 00: 45 bytes; c8 00: type 200.
    assert_eq!(
        bytes,
        frame(200, "FILENAME CONTAINS \"abbey road\" MAX_RESULTS 10")
    );
    assert_eq!(&bytes[..4], &[0x2d, 0x00, 0xc8, 0x00]);
}

#[test]
fn ip_is_the_little_endian_word() {
    // 127.0.0.1 -> bytes 7f 00 00 01 read as a little-endian u32.
    assert_eq!(ip_to_napster(Ipv4Addr::new(127, 0, 0, 1)), 16_777_343);
    assert_eq!(ip_from_napster(16_777_343), Ipv4Addr::new(127, 0, 0, 1));
}

#[test]
fn every_type_round_trips() {
    let ip = Ipv4Addr::new(10, 0, 0, 7);
    let all = [
        Msg::LoginError("nick in use".into()),
        Msg::LoginAck {
            email: "anon@p2plab".into(),
        },
        Msg::Share(song()),
        Msg::Unshare {
            name: "Abbey Road.mp3".into(),
        },
        Msg::SearchResult {
            file: song(),
            nick: "bob".into(),
            ip,
            link: 3,
        },
        Msg::SearchEnd,
        Msg::DownloadRequest {
            nick: "bob".into(),
            name: "Abbey Road.mp3".into(),
        },
        Msg::DownloadAck {
            nick: "bob".into(),
            ip,
            port: 6699,
            name: "Abbey Road.mp3".into(),
            md5: song().md5,
            speed: 3,
        },
        Msg::DownloadError {
            nick: "bob".into(),
            name: "x".into(),
        },
        Msg::Error("unknown type".into()),
    ];
    for m in all {
        let bytes = m.encode().unwrap();
        assert_eq!(read_msg(&mut Cursor::new(bytes)).unwrap(), Some(m));
    }
}

#[test]
fn share_fixture() {
    let bytes = frame(
        100,
        "\"Abbey Road.mp3\" a9993e364706816aba3e25717850c26c9cd0d89d 3500000 128 44100 219",
    );
    assert_eq!(
        read_msg(&mut Cursor::new(&bytes)).unwrap(),
        Some(Msg::Share(song()))
    );
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let cases: [(&str, Vec<u8>); 7] = [
        ("unknown type", frame(9999, "x")),
        ("port not a number", frame(2, "nick pw port \"c\" 0")),
        ("missing fields", frame(100, "\"a.mp3\" abc")),
        ("unterminated quote", frame(102, "\"a.mp3")),
        ("trailing junk", frame(202, "surprise")),
        ("not utf-8", {
            let mut f = frame(404, "ab");
            f[4] = 0xff;
            f
        }),
        ("search constraint", frame(200, "LINESPEED \"AT LEAST\" 6")),
    ];
    for (what, bytes) in cases {
        assert!(read_msg(&mut Cursor::new(bytes)).is_err(), "{what}");
    }
}

#[test]
fn length_is_checked_before_reading() {
    // ff ff: 65535 bytes claimed, over MAX_DATA; nothing more needs to arrive.
    let err = read_msg(&mut Cursor::new(vec![0xff, 0xff, 0xc8, 0x00])).unwrap_err();
    assert!(matches!(
        err,
        WireError::TooLong {
            len: 65535,
            max: MAX_DATA
        }
    ));
}

#[test]
fn clean_close_and_truncation() {
    assert_eq!(read_msg(&mut Cursor::new(Vec::new())).unwrap(), None);
    let err = read_msg(&mut Cursor::new(vec![0x05, 0x00, 0x02])).unwrap_err();
    assert!(matches!(err, WireError::Truncated { .. }));
}

#[test]
fn max_results_is_capped() {
    let m = Msg::decode(200, b"FILENAME CONTAINS \"x\" MAX_RESULTS 5000").unwrap();
    assert_eq!(
        m,
        Msg::Search {
            words: "x".into(),
            max: MAX_RESULTS
        }
    );
}
