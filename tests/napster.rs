//! Napster on 127.0.0.1: a directory server and real peers, plus raw-byte abuse.

mod common;

use common::{eventually, TempDir};
use crossbeam_channel::{bounded, Sender};
use p2plab::napster::{DirectoryServer, FileMeta, Msg, Peer, PeerConfig, ServerOptions, Session};
use p2plab::share::ids;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn server() -> DirectoryServer {
    let opts = ServerOptions {
        login_timeout: Duration::from_millis(300),
        ..ServerOptions::default()
    };
    DirectoryServer::start("127.0.0.1:0", opts).unwrap()
}

fn peer(server: SocketAddr, nick: &str, dir: &TempDir) -> Peer {
    Peer::start(PeerConfig {
        server,
        nick: nick.into(),
        share_dir: dir.path().to_path_buf(),
        listen: "127.0.0.1:0".into(),
        upload_rate: None,
    })
    .unwrap()
}

/// A server that still logs a new peer in and answers its search is still serving.
fn still_serves(server: SocketAddr) {
    let mut s = Session::login(server, &format!("probe{}", rand_suffix()), 0).unwrap();
    s.search("anything", 10).unwrap();
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

#[test]
fn search_finds_other_peers_files_and_download_matches_sha1() {
    let dir = server();
    let (a_dir, b_dir, out) = (
        TempDir::new("nap-a"),
        TempDir::new("nap-b"),
        TempDir::new("nap-out"),
    );
    let src = a_dir.file("Abbey Road - Come Together.mp3", 700_000, 11);
    a_dir.file("Let It Be.mp3", 1000, 12);
    b_dir.file("Road Trip.ogg", 2000, 13);
    let mut a = peer(dir.local_addr(), "alice", &a_dir);
    let mut b = peer(dir.local_addr(), "bob", &b_dir);

    let hits = b.search("road abbey", 100).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].nick, "alice");
    assert_eq!(hits[0].file.name, "Abbey Road - Come Together.mp3");
    assert_eq!(hits[0].file.size, 700_000);
    // bob's own "Road Trip" is not offered back to bob.
    assert!(b
        .search("road", 100)
        .unwrap()
        .iter()
        .all(|h| h.nick != "bob"));
    // alice finds bob's file.
    assert_eq!(a.search("trip", 100).unwrap()[0].nick, "bob");

    let before = dir.stats().bytes_out.load(Ordering::Relaxed);
    let path = b.download(&hits[0], out.path(), &mut |_| {}).unwrap();
    assert_eq!(
        ids::sha1_file(&path).unwrap(),
        ids::sha1_file(&src).unwrap()
    );
    // The file did not pass through the directory: only the small ack did.
    let after = dir.stats().bytes_out.load(Ordering::Relaxed);
    assert!(
        after - before < 1000,
        "directory sent {} bytes during a 700 kB download",
        after - before
    );
}

#[test]
fn a_disconnected_peers_files_vanish() {
    let dir = server();
    let (a_dir, b_dir) = (TempDir::new("nap-a"), TempDir::new("nap-b"));
    a_dir.file("vanishing act.mp3", 100, 1);
    let mut a = peer(dir.local_addr(), "alice", &a_dir);
    let mut b = peer(dir.local_addr(), "bob", &b_dir);
    assert_eq!(b.search("vanishing", 10).unwrap().len(), 1);
    a.stop();
    assert!(eventually(Duration::from_secs(5), || b
        .search("vanishing", 10)
        .unwrap()
        .is_empty()));
    assert!(eventually(Duration::from_secs(5), || dir.counts() == (1, 0)));
}

#[test]
fn login_rules() {
    let dir = server();
    let _s = Session::login(dir.local_addr(), "carol", 0).unwrap();
    let err = Session::login(dir.local_addr(), "carol", 0).err().unwrap();
    assert!(err.to_string().contains("in use"), "{err}");
    // A search before login is refused with a login error (type 0).
    let mut raw = TcpStream::connect(dir.local_addr()).unwrap();
    raw.write_all(
        &Msg::Search {
            words: "x".into(),
            max: 1,
        }
        .encode()
        .unwrap(),
    )
    .unwrap();
    let answer = p2plab::napster::read_msg(&mut raw).unwrap().unwrap();
    assert!(
        matches!(answer, Msg::LoginError(ref why) if why.contains("login")),
        "{answer:?}"
    );
}

/// Sends `bytes` on a fresh connection and reports whether the server closed it.
fn closed_after(server: SocketAddr, bytes: &[u8]) -> bool {
    let mut s = TcpStream::connect(server).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = s.write_all(bytes);
    let mut sink = Vec::new();
    match s.read_to_end(&mut sink) {
        Ok(_) => true,
        // A reset is a close too (the server hung up with our bytes unread); only
        // our own timeout means the server kept the connection.
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}

#[test]
fn random_bytes_are_dropped_and_the_server_goes_on() {
    let dir = server();
    assert!(closed_after(dir.local_addr(), &common::bytes(3000, 99)));
    still_serves(dir.local_addr());
}

#[test]
fn a_frame_claiming_65535_bytes_then_silence_is_dropped() {
    let dir = server();
    // ff ff: length 65535; 02 00: login. Then nothing.
    assert!(closed_after(dir.local_addr(), &[0xff, 0xff, 0x02, 0x00]));
    // The same claim within the limit but never completed: dropped at the timeout.
    assert!(closed_after(
        dir.local_addr(),
        &[0x00, 0x01, 0x02, 0x00, b'a']
    ));
    still_serves(dir.local_addr());
}

#[test]
fn an_unknown_type_gets_an_error_and_a_close() {
    let dir = server();
    let mut s = Session::login(dir.local_addr(), "dave", 0).unwrap();
    s.search("x", 1).unwrap();
    let mut raw = TcpStream::connect(dir.local_addr()).unwrap();
    raw.write_all(
        &Msg::Login {
            nick: "eve".into(),
            password: "p".into(),
            port: 0,
            client: "c".into(),
            link: 0,
        }
        .encode()
        .unwrap(),
    )
    .unwrap();
    assert!(matches!(
        p2plab::napster::read_msg(&mut raw).unwrap(),
        Some(Msg::LoginAck { .. })
    ));
    // 00 00 length 0; 39 05 type 1337: not a Napster type.
    raw.write_all(&[0x00, 0x00, 0x39, 0x05]).unwrap();
    let answer = p2plab::napster::read_msg(&mut raw).unwrap().unwrap();
    assert!(
        matches!(answer, Msg::Error(ref why) if why.contains("1337")),
        "{answer:?}"
    );
    assert!(
        p2plab::napster::read_msg(&mut raw).unwrap().is_none(),
        "closed after the error"
    );
    // eve is gone from the directory, dave still served.
    assert!(eventually(Duration::from_secs(5), || dir.counts().0 == 1));
    s.search("x", 1).unwrap();
}

#[test]
fn a_login_flood_of_200_connections() {
    let dir = server();
    let sessions: Vec<Session> = (0..200)
        .map(|i| Session::login(dir.local_addr(), &format!("flood{i}"), 0).unwrap())
        .collect();
    // The acks can arrive before the coordinator publishes its counts.
    assert!(eventually(Duration::from_secs(5), || dir.counts().0 == 200));
    still_serves(dir.local_addr());
    for s in &sessions {
        s.close();
    }
    assert!(eventually(Duration::from_secs(10), || dir.counts().0 == 0));
    still_serves(dir.local_addr());
}

#[test]
fn a_peer_that_never_speaks_is_dropped_after_the_login_timeout() {
    let dir = server();
    let mut silent = TcpStream::connect(dir.local_addr()).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut b = [0u8; 1];
    // The server closes (read returns 0) well before our own 10 s timeout.
    assert_eq!(silent.read(&mut b).unwrap(), 0);
    still_serves(dir.local_addr());
}

#[test]
fn traversal_through_a_peers_file_server_reads_nothing_outside() {
    let dir = server();
    let top = TempDir::new("nap-trav");
    let shared = TempDir::new("nap-trav-share");
    std::fs::write(top.path().join("secret"), b"SECRET").unwrap();
    shared.file("song.mp3", 10, 1);
    let a = peer(dir.local_addr(), "alice", &shared);
    let rel = format!(
        "../{}/secret",
        top.path().file_name().unwrap().to_str().unwrap()
    );
    for target in [
        format!("/get/0/{rel}"),
        format!("/get/0/%2e%2e%2f{}", &rel[3..]),
        "/etc/passwd".into(),
    ] {
        let mut s = TcpStream::connect(a.data_addr()).unwrap();
        write!(s, "GET {target} HTTP/1.1\r\n\r\n").unwrap();
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 40"), "{target}: {answer}");
        assert!(!answer.contains("SECRET"));
    }
}

/// A logged-in raw connection that shares one file, then keeps asking and never reads
/// a byte of the answers. Says on `up` when it is logged in; returns how many searches
/// it wrote before the server hung up (or `stop` was set).
fn ask_without_reading(server: SocketAddr, up: Sender<()>, stop: Arc<AtomicBool>) -> u64 {
    let mut raw = TcpStream::connect(server).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    raw.set_write_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let login = Msg::Login {
        nick: "stalled".into(),
        password: "p".into(),
        port: 6699,
        client: "c".into(),
        link: 0,
    };
    raw.write_all(&login.encode().unwrap()).unwrap();
    assert!(matches!(
        p2plab::napster::read_msg(&mut raw).unwrap(),
        Some(Msg::LoginAck { .. })
    ));
    raw.write_all(&Msg::Share(meta("stalled own song.mp3")).encode().unwrap())
        .unwrap();
    up.send(()).unwrap();
    // From here on the stalled peer only writes: ten searches every few milliseconds,
    // each answered with 50 results (about 5 kB) that nobody reads. Its socket buffers
    // fill, then its writer blocks, then its queue fills.
    let burst = Msg::Search {
        words: "hit song".into(),
        max: 50,
    }
    .encode()
    .unwrap()
    .repeat(10);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut sent = 0;
    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
        match raw.write_all(&burst) {
            Ok(()) => sent += 10,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => break, // the server hung up on us
        }
        // Pacing, not synchronisation: the server's writer keeps up with this rate,
        // so what stops the stalled peer is its full socket, not a slow writer.
        std::thread::sleep(Duration::from_millis(2));
    }
    sent
}

fn meta(name: &str) -> FileMeta {
    FileMeta {
        name: name.into(),
        md5: "0".repeat(40),
        size: 1000,
        bitrate: 128,
        freq: 44100,
        seconds: 60,
    }
}

#[test]
fn a_peer_that_stops_reading_is_dropped_and_the_others_are_still_served() {
    let dir = server();
    let addr = dir.local_addr();
    let mut library = Session::login(addr, "library", 6699).unwrap();
    for i in 0..50 {
        library
            .share(&meta(&format!("hit song {i:02}.mp3")))
            .unwrap();
    }
    assert!(eventually(Duration::from_secs(5), || dir.counts().1 == 50));

    let stop = Arc::new(AtomicBool::new(false));
    let (up, is_up) = bounded(1);
    let flag = stop.clone();
    let asker = std::thread::spawn(move || ask_without_reading(addr, up, flag));
    is_up
        .recv_timeout(Duration::from_secs(5))
        .expect("the stalled peer logs in");

    // While the stalled peer's answers pile up, fresh peers log in and search; each
    // is answered within a second. Probe until the stalled peer has been dropped.
    let mut probes = 0;
    let deadline = Instant::now() + Duration::from_secs(20);
    while dir.stats().slow_dropped.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        let t = Instant::now();
        let mut fresh = Session::login(addr, &format!("fresh{probes}"), 0).unwrap();
        let hits = fresh.search("hit song", 5).unwrap();
        let took = t.elapsed();
        assert_eq!(hits.len(), 5);
        assert!(
            took < Duration::from_secs(1),
            "fresh peer served in {took:?}"
        );
        fresh.close();
        probes += 1;
    }
    stop.store(true, Ordering::SeqCst);
    let sent = asker.join().unwrap();
    eprintln!("{probes} fresh peers served while the stalled peer asked {sent} times");
    assert!(
        probes >= 1,
        "a fresh peer was served while the stalled one was connected"
    );
    assert_eq!(
        dir.stats().slow_dropped.load(Ordering::SeqCst),
        1,
        "the stalled peer is dropped ({probes} probes, {sent} searches flooded)"
    );
    // Its file left the directory with it; the library is still there and served.
    assert!(eventually(Duration::from_secs(5), || dir.counts() == (1, 50)));
    assert!(library.search("stalled", 10).unwrap().is_empty());
    still_serves(addr);
}

/// 6.4's load, measured: the directory counts every message it reads and writes, and
/// so does each session; what one side sent, the other received, byte for byte.
#[test]
fn the_directory_and_its_peers_count_every_message_at_both_ends() {
    use p2plab::locate::Traffic;
    let dir = server();
    let (ta, tb) = (Traffic::new(), Traffic::new());
    let mut a = Session::login_metered(dir.local_addr(), "alice", 6699, ta.clone()).unwrap();
    a.share(&meta("one song.mp3")).unwrap();
    a.share(&meta("two song.mp3")).unwrap();
    let mut b = Session::login_metered(dir.local_addr(), "bob", 6699, tb.clone()).unwrap();
    let settled = || {
        let (d, a, b) = (
            dir.traffic().snapshot("d"),
            ta.snapshot("a"),
            tb.snapshot("b"),
        );
        d.msgs_received == a.msgs_sent + b.msgs_sent
            && d.msgs_sent == a.msgs_received + b.msgs_received
            && d.bytes_received == a.bytes_sent + b.bytes_sent
            && d.bytes_sent == a.bytes_received + b.bytes_received
    };
    // Two logins and two shares up, two acks down.
    assert!(eventually(Duration::from_secs(10), settled));
    assert_eq!(dir.traffic().snapshot("d").msgs_received, 4);
    assert_eq!(dir.traffic().snapshot("d").msgs_sent, 2);

    let (d0, b0) = (dir.traffic().snapshot("d"), tb.snapshot("b"));
    assert_eq!(b.search("song", 100).unwrap().len(), 2);
    assert!(eventually(Duration::from_secs(10), settled));
    let d = dir.traffic().snapshot("d").since(&d0);
    let bob = tb.snapshot("b").since(&b0);
    // One search up; two results and the end-of-results down.
    assert_eq!((d.msgs_received, d.msgs_sent), (1, 3));
    assert_eq!((bob.msgs_sent, bob.msgs_received), (1, 3));
    assert_eq!(
        (d.bytes_received, d.bytes_sent),
        (bob.bytes_sent, bob.bytes_received)
    );

    // A polite log-out returns once the directory has dropped the files.
    a.log_out().unwrap();
    assert!(b.search("song", 100).unwrap().is_empty());
}
