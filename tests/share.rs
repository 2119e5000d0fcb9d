//! The shared folder's HTTP server and the downloader, on real sockets.

mod common;

use common::TempDir;
use p2plab::share::{fetch, ids, Download, FetchError, Folder, HttpConfig, ShareServer};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

fn start(dir: &TempDir) -> (ShareServer, Folder) {
    let folder = Folder::scan(dir.path()).unwrap();
    let s = ShareServer::start(
        Arc::new(folder.clone()),
        "127.0.0.1:0",
        HttpConfig::default(),
    )
    .unwrap();
    (s, folder)
}

/// Sends raw request bytes and returns the whole answer.
fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn download_matches_the_source_sha1() {
    let src = TempDir::new("share-src");
    src.file("song one.mp3", 300_000, 1);
    let (server, folder) = start(&src);
    let f = &folder.files()[0];
    let out = TempDir::new("share-out");
    let d = Download::by_index(server.local_addr(), f.index, &f.name, f.size, f.sha1);
    let mut seen = 0;
    let path = fetch(&d, out.path(), &mut |n| seen = n).unwrap();
    assert_eq!(seen, 300_000);
    assert_eq!(ids::sha1_file(&path).unwrap(), f.sha1);
    // And by hash, the way KaZaA asks.
    std::fs::remove_file(&path).unwrap();
    let d = Download::by_sha1(server.local_addr(), &f.name, f.size, f.sha1);
    let path = fetch(&d, out.path(), &mut |_| {}).unwrap();
    assert_eq!(ids::sha1_file(&path).unwrap(), f.sha1);
}

#[test]
fn a_download_never_overwrites_a_file_unless_asked() {
    let src = TempDir::new("share-src");
    src.file("mine.txt", 5000, 4);
    let (server, folder) = start(&src);
    let f = &folder.files()[0];
    let out = TempDir::new("share-out");
    std::fs::write(out.path().join("mine.txt"), b"the user's own notes").unwrap();
    let mut d = Download::by_index(server.local_addr(), f.index, &f.name, f.size, f.sha1);
    let err = fetch(&d, out.path(), &mut |_| {}).unwrap_err();
    assert!(matches!(err, FetchError::Exists(_)), "{err}");
    let mine = std::fs::read(out.path().join("mine.txt")).unwrap();
    assert_eq!(mine, b"the user's own notes");
    d.overwrite = true;
    let path = fetch(&d, out.path(), &mut |_| {}).unwrap();
    assert_eq!(ids::sha1_file(&path).unwrap(), f.sha1);
}

#[test]
fn a_wrong_hash_never_gets_the_final_name() {
    let src = TempDir::new("share-src");
    src.file("a.bin", 5000, 2);
    let (server, folder) = start(&src);
    let f = &folder.files()[0];
    let out = TempDir::new("share-out");
    let d = Download::by_index(server.local_addr(), f.index, &f.name, f.size, [0u8; 20]);
    let err = fetch(&d, out.path(), &mut |_| {}).unwrap_err();
    assert!(matches!(err, FetchError::Mismatch { .. }), "{err}");
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}

#[test]
fn resumes_a_partial_download_with_range() {
    let src = TempDir::new("share-src");
    src.file("big.bin", 100_000, 3);
    let (server, folder) = start(&src);
    let f = &folder.files()[0];
    let out = TempDir::new("share-out");
    let first_half = &common::bytes(100_000, 3)[..40_000];
    std::fs::write(out.path().join(".big.bin.part"), first_half).unwrap();
    let d = Download::by_index(server.local_addr(), f.index, &f.name, f.size, f.sha1);
    let mut first_progress = None;
    let path = fetch(&d, out.path(), &mut |n| {
        first_progress.get_or_insert(n);
    })
    .unwrap();
    assert!(first_progress.unwrap() > 40_000, "resumed from the .part");
    assert_eq!(ids::sha1_file(&path).unwrap(), f.sha1);
}

#[test]
fn traversal_requests_read_nothing_outside_the_folder() {
    let top = TempDir::new("share-trav");
    let shared = top.sub("shared");
    std::fs::write(top.path().join("secret.txt"), b"TOP SECRET").unwrap();
    std::fs::write(shared.join("ok.txt"), b"hello").unwrap();
    let folder = Folder::scan(&shared).unwrap();
    let server =
        ShareServer::start(Arc::new(folder), "127.0.0.1:0", HttpConfig::default()).unwrap();
    let addr = server.local_addr();
    let secret = top.path().join("secret.txt");
    let attempts = [
        "GET /get/0/../secret.txt HTTP/1.1\r\n\r\n".to_string(),
        "GET /get/0/..%2Fsecret.txt HTTP/1.1\r\n\r\n".to_string(),
        "GET /get/0/%2e%2e%2fsecret.txt HTTP/1.1\r\n\r\n".to_string(),
        format!("GET {} HTTP/1.1\r\n\r\n", secret.display()),
        format!("GET /get/0/{} HTTP/1.1\r\n\r\n", secret.display()),
        "GET /../secret.txt HTTP/1.1\r\n\r\n".to_string(),
        "GET /uri-res/N2R?urn:sha1:../../secret HTTP/1.1\r\n\r\n".to_string(),
    ];
    for a in &attempts {
        let answer = raw(addr, a.as_bytes());
        assert!(
            answer.starts_with("HTTP/1.1 400") || answer.starts_with("HTTP/1.1 404"),
            "{a:?} got {answer:?}"
        );
        assert!(!answer.contains("TOP SECRET"), "{a:?} leaked the file");
    }
    // The legitimate request still works.
    assert!(raw(addr, b"GET /get/0/ok.txt HTTP/1.1\r\n\r\n").ends_with("hello"));
}

#[test]
fn malformed_and_oversized_requests_get_4xx() {
    let dir = TempDir::new("share-bad");
    dir.file("x", 10, 4);
    let (server, _) = start(&dir);
    let addr = server.local_addr();
    assert!(raw(addr, b"HELLO\r\n\r\n").starts_with("HTTP/1.1 400"));
    assert!(raw(addr, b"POST /get/0/x HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405"));
    let mut huge = b"GET /get/0/x HTTP/1.1\r\nX-Pad: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 20_000));
    huge.extend_from_slice(b"\r\n\r\n");
    assert!(raw(addr, &huge).starts_with("HTTP/1.1 400"));
    // The server still serves after all that.
    assert!(raw(addr, b"GET /get/0/x HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200"));
}
