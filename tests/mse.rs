//! MSE/PE (issue 14): both sides of our handshake over real loopback sockets, the
//! refusals, and, when aria2c is installed, our initiator against a seeding aria2c that
//! requires encryption, and aria2c's initiator against our acceptor.

mod common;

use p2plab::bittorrent::mse::{self, MseError, Policy};
use p2plab::bittorrent::msg::handshake::{Handshake, HANDSHAKE_LEN};
use p2plab::rng::Rng;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// Long enough never to fire on a healthy run; a broken one fails instead of hanging.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
const HASH: [u8; 20] = [0x42; 20];

fn pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (b, _) = l.accept().unwrap();
    for s in [&a, &b] {
        s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    }
    (a, b)
}

/// A stream that keeps a copy of every byte written, and may flip one byte of the
/// n-th write (to corrupt a handshake step on its way out).
struct Tap {
    inner: TcpStream,
    sent: Arc<Mutex<Vec<u8>>>,
    writes: usize,
    corrupt: Option<(usize, usize)>,
}

impl Tap {
    fn new(inner: TcpStream) -> Tap {
        Tap {
            inner,
            sent: Arc::default(),
            writes: 0,
            corrupt: None,
        }
    }
}

impl Read for Tap {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl Write for Tap {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut b = buf.to_vec();
        self.writes += 1;
        if let Some((nth, at)) = self.corrupt {
            if nth == self.writes && at < b.len() {
                b[at] ^= 0xff;
            }
        }
        self.sent.lock().unwrap().extend_from_slice(&b);
        self.inner.write_all(&b)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn encrypted_handshake_and_bytes_both_ways() {
    let (a, b) = pair();
    let tap = Tap::new(a);
    let sent_by_a = tap.sent.clone();
    let ours = Handshake::new(HASH, *b"-PL0001-initiator000");
    let payload = common::bytes(100_000, 1);
    let expect = payload.clone();
    let initiator = thread::spawn(move || {
        let mut s = mse::initiate(tap, &HASH, Policy::Prefer, &ours.encode(), &mut Rng::new(1))?;
        assert!(s.is_encrypted());
        let hs = Handshake::read_from(&mut s).unwrap();
        assert_eq!(hs.peer_id, *b"-PL0001-acceptor0000");
        s.write_all(&payload)?;
        let mut echo = vec![0u8; payload.len()];
        s.read_exact(&mut echo)?;
        assert_eq!(echo, payload);
        Ok::<_, MseError>(())
    });
    let known = [[1; 20], HASH, [3; 20]];
    let mut s = mse::accept(b, &[], &known, Policy::Prefer, &mut Rng::new(2)).unwrap();
    assert_eq!(s.info_hash(), Some(HASH));
    assert!(s.is_encrypted());
    // The initiator's handshake came as initial payload: read it as from a plain socket.
    let hs = Handshake::read_from(&mut s).unwrap();
    assert_eq!(hs.peer_id, *b"-PL0001-initiator000");
    Handshake::new(HASH, *b"-PL0001-acceptor0000")
        .write_to(&mut s)
        .unwrap();
    let mut got = vec![0u8; expect.len()];
    s.read_exact(&mut got).unwrap();
    assert_eq!(got, expect);
    // The reading and writing halves, as a connection's two threads use them.
    let writer = s.get_ref().try_clone().unwrap();
    let (_reader, mut writer) = s.split(writer);
    let mut echo = got.clone();
    writer.send_in_place(&mut echo).unwrap();
    initiator.join().unwrap().unwrap();
    // Nothing recognisable went over the wire.
    let wire = sent_by_a.lock().unwrap();
    assert!(!contains(&wire, b"BitTorrent protocol"));
    assert!(!contains(&wire, &expect[..64]));
}

#[test]
fn require_on_both_sides() {
    let (a, b) = pair();
    let t = thread::spawn(move || {
        let mut s = mse::initiate(a, &HASH, Policy::Require, &[], &mut Rng::new(3)).unwrap();
        s.write_all(b"ping").unwrap();
    });
    let mut s = mse::accept(b, &[], &[HASH], Policy::Require, &mut Rng::new(4)).unwrap();
    let mut got = [0u8; 4];
    s.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"ping");
    t.join().unwrap();
}

#[test]
fn wrong_info_hash_is_refused() {
    let (a, b) = pair();
    let t = thread::spawn(move || mse::initiate(a, &HASH, Policy::Prefer, &[], &mut Rng::new(5)));
    let err = mse::accept(b, &[], &[[7; 20]], Policy::Prefer, &mut Rng::new(6)).unwrap_err();
    assert!(matches!(err, MseError::UnknownInfoHash), "{err}");
    assert_eq!(err.to_string(), "MSE: unknown info-hash");
    // The acceptor closed: the initiator hears the close, it does not hang.
    assert!(matches!(
        t.join().unwrap(),
        Err(MseError::Closed { .. }) | Err(MseError::Io(_))
    ));
}

#[test]
fn corrupted_vc_is_refused() {
    let (a, b) = pair();
    let mut tap = Tap::new(a);
    // Write 2 is step 3: req1 (20), the SKEY hash (20), then the encrypted VC.
    tap.corrupt = Some((2, 41));
    let t = thread::spawn(move || mse::initiate(tap, &HASH, Policy::Prefer, &[], &mut Rng::new(7)));
    let err = mse::accept(b, &[], &[HASH], Policy::Prefer, &mut Rng::new(8)).unwrap_err();
    assert!(matches!(err, MseError::VcMismatch), "{err}");
    assert!(t.join().unwrap().is_err());
}

#[test]
fn plaintext_is_told_apart() {
    let hs = Handshake::new(HASH, *b"-PL0001-plaintext000");
    for already in [0, 1, 25] {
        let (mut a, b) = pair();
        a.write_all(&hs.encode()).unwrap();
        let mut b2 = b.try_clone().unwrap();
        // The caller may have read some bytes itself: they are handed in and replayed.
        let mut first = vec![0u8; already];
        b2.read_exact(&mut first).unwrap();
        let mut s = mse::accept(b, &first, &[HASH], Policy::Prefer, &mut Rng::new(9)).unwrap();
        assert!(!s.is_encrypted());
        assert_eq!(s.info_hash(), None);
        let mut got = [0u8; HANDSHAKE_LEN];
        s.read_exact(&mut got).unwrap();
        assert_eq!(Handshake::decode(&got).unwrap(), hs);
    }
    // Require refuses it; Off refuses an MSE start; Off on the initiator is plain BEP 3.
    let (mut a, b) = pair();
    a.write_all(&hs.encode()).unwrap();
    let err = mse::accept(b, &[], &[HASH], Policy::Require, &mut Rng::new(10)).unwrap_err();
    assert!(matches!(err, MseError::PlaintextRefused));
    let (a, b) = pair();
    let t = thread::spawn(move || mse::initiate(a, &HASH, Policy::Prefer, &[], &mut Rng::new(11)));
    let err = mse::accept(b, &[], &[HASH], Policy::Off, &mut Rng::new(12)).unwrap_err();
    assert!(matches!(err, MseError::EncryptionOff));
    assert!(t.join().unwrap().is_err());
    let (a, mut b) = pair();
    let mut s = mse::initiate(a, &HASH, Policy::Off, &[], &mut Rng::new(13)).unwrap();
    hs.write_to(&mut s).unwrap();
    assert_eq!(Handshake::read_from(&mut b).unwrap(), hs);
}

#[test]
fn garbage_is_refused_without_panic() {
    // 96 bytes of "Ya" and 700 more: no HASH('req1', S) can be among them.
    let (mut a, b) = pair();
    a.write_all(&common::bytes(796, 14)).unwrap();
    let err = mse::accept(b, &[], &[HASH], Policy::Prefer, &mut Rng::new(15)).unwrap_err();
    assert!(matches!(err, MseError::NoReq1Sync { within: 532 }), "{err}");
    assert_eq!(
        err.to_string(),
        "MSE: no req1 sync within 532 bytes after Ya"
    );

    // A few bytes, then a close.
    let (mut a, b) = pair();
    a.write_all(b"\x13BitTorrent").unwrap();
    drop(a);
    let err = mse::accept(b, &[], &[HASH], Policy::Prefer, &mut Rng::new(16)).unwrap_err();
    assert!(matches!(err, MseError::Closed { .. }), "{err}");

    // An "acceptor" that answers with noise: the initiator gives up after PadB's bound.
    let (a, mut b) = pair();
    let t = thread::spawn(move || mse::initiate(a, &HASH, Policy::Require, &[], &mut Rng::new(17)));
    b.write_all(&common::bytes(96 + 700, 18)).unwrap();
    let err = t.join().unwrap().unwrap_err();
    assert!(matches!(err, MseError::NoVcSync { within: 520 }), "{err}");

    // Silence: the caller's socket timeout ends the handshake.
    let (_a, b) = pair();
    b.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let err = mse::accept(b, &[], &[HASH], Policy::Prefer, &mut Rng::new(19)).unwrap_err();
    assert!(err.is_timeout(), "{err}");
}

// ---- interop with aria2c (skipped when it is not installed) ----

use p2plab::bittorrent::make::make_torrent;
use p2plab::bittorrent::msg::{self, Message};
use std::process::{Child, Command, Stdio};

/// An aria2c process, killed and reaped when the test ends, however it ends.
struct Aria(Child);

impl Drop for Aria {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn aria2c(dir: &std::path::Path, port: u16, extra: &[&str]) -> Option<Aria> {
    let mut cmd = Command::new("aria2c");
    cmd.args([
        "--enable-dht=false",
        "--enable-dht6=false",
        "--bt-enable-lpd=false",
        "--enable-peer-exchange=false",
        "--disable-ipv6=true",
        "--file-allocation=none",
        "--bt-require-crypto=true",
        "--summary-interval=0",
        "--quiet=true",
    ])
    .arg(format!("--dir={}", dir.display()))
    .arg(format!("--listen-port={port}"))
    .args(extra)
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    match cmd.spawn() {
        Ok(c) => Some(Aria(c)),
        Err(_) => {
            eprintln!("skipped: aria2c is not installed");
            None
        }
    }
}

/// A port free right now (aria2c must be told one; it cannot report its own).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A torrent of 100 000 bytes in 16 KiB pieces: (folder, data, info-hash, .torrent path).
fn torrent(tag: &str, announce: &str) -> (common::TempDir, Vec<u8>, [u8; 20], std::path::PathBuf) {
    let dir = common::TempDir::new(tag);
    let data_path = dir.file("x.bin", 100_000, 21);
    let meta = make_torrent(&data_path, 16_384, Some(announce.to_string())).unwrap();
    let t = dir.path().join("x.torrent");
    std::fs::write(&t, meta.to_bytes()).unwrap();
    (dir, std::fs::read(&data_path).unwrap(), meta.info_hash, t)
}

fn read_msg<R: Read>(r: &mut R) -> Vec<u8> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).unwrap();
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
    assert!(body.len() <= 16_393, "message of {} bytes", body.len());
    r.read_exact(&mut body).unwrap();
    body
}

#[test]
fn aria2c_seeder_requiring_crypto_serves_our_encrypted_request() {
    let (dir, data, ih, t) = torrent("mse-aria-seed", "http://127.0.0.1:1/announce");
    let port = free_port();
    let Some(_aria) = aria2c(
        dir.path(),
        port,
        &[
            "--seed-ratio=0.0",
            "--bt-seed-unverified=true",
            t.to_str().unwrap(),
        ],
    ) else {
        return;
    };
    let mut conn = None;
    assert!(common::eventually(Duration::from_secs(10), || {
        conn = TcpStream::connect(("127.0.0.1", port)).ok();
        conn.is_some()
    }));
    let s = conn.unwrap();
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let ours = Handshake::new(ih, *b"-PL0001-mse-interop0");
    let mut s = mse::initiate(s, &ih, Policy::Require, &ours.encode(), &mut Rng::new(22)).unwrap();
    assert!(s.is_encrypted());
    let theirs = Handshake::read_from(&mut s).unwrap();
    assert_eq!(theirs.info_hash, ih);
    assert_eq!(&theirs.peer_id[..3], b"A2-");
    // Then the peer wire, decrypted: interested, wait for unchoke, ask for block 0.
    let mut out = Vec::new();
    msg::encode_into(&Message::Interested, &mut out);
    s.write_all(&out).unwrap();
    loop {
        let body = read_msg(&mut s);
        match msg::decode(&body).unwrap() {
            Message::Bitfield(b) => assert_eq!(b, [0xfe]), // 7 pieces, all there
            Message::Unchoke => break,
            _ => {}
        }
    }
    out.clear();
    let req = Message::Request {
        index: 0,
        begin: 0,
        length: 16_384,
    };
    msg::encode_into(&req, &mut out);
    s.write_all(&out).unwrap();
    loop {
        let body = read_msg(&mut s);
        if let Message::Piece {
            index: 0,
            begin: 0,
            block,
        } = msg::decode(&body).unwrap()
        {
            assert_eq!(block, &data[..16_384]);
            break;
        }
    }
}

#[test]
fn aria2c_leecher_requiring_crypto_is_accepted() {
    let bt = TcpListener::bind("127.0.0.1:0").unwrap();
    let tracker = TcpListener::bind("127.0.0.1:0").unwrap();
    let announce = format!("http://{}/announce", tracker.local_addr().unwrap());
    let (dir, _data, ih, t) = torrent("mse-aria-leech", &announce);
    let bt_port = bt.local_addr().unwrap().port();
    // A one-answer tracker: "your peer is 127.0.0.1:bt_port" (BEP 23 compact).
    let tracker_thread = thread::spawn(move || {
        let (mut s, _) = tracker.accept().unwrap();
        s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
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
    let leech_dir = dir.sub("out");
    let Some(_aria) = aria2c(
        &leech_dir,
        free_port(),
        &["--seed-time=0", t.to_str().unwrap()],
    ) else {
        return;
    };
    let (s, _) = bt.accept().unwrap();
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let mut s = mse::accept(s, &[], &[[9; 20], ih], Policy::Require, &mut Rng::new(23)).unwrap();
    assert!(s.is_encrypted());
    assert_eq!(s.info_hash(), Some(ih));
    let theirs = Handshake::read_from(&mut s).unwrap();
    assert_eq!(theirs.info_hash, ih);
    assert_eq!(&theirs.peer_id[..3], b"A2-");
    Handshake::new(ih, *b"-PL0001-mse-interop1")
        .write_to(&mut s)
        .unwrap();
    tracker_thread.join().unwrap();
}

// ---- Our nodes: the policy on both ends of a real transfer (issue 14) ----

use p2plab::bittorrent::metainfo::Metainfo;
use p2plab::bittorrent::node::{download_paths, seed_paths, Client, ClientConfig};
use p2plab::share::ids::sha1_file;

fn node_cfg(encryption: Policy) -> ClientConfig {
    ClientConfig {
        use_tracker: false,
        encryption,
        ..ClientConfig::default()
    }
}

/// A 300 KB torrent and a seed with this policy.
fn our_seed(dir: &common::TempDir, encryption: Policy) -> (Metainfo, std::path::PathBuf, Client) {
    let src = dir.file("data.bin", 300_000, 5);
    let meta = make_torrent(&src, 64 * 1024, None).unwrap();
    let paths = seed_paths(&meta, &src);
    let seed = Client::start(meta.clone(), &paths, false, node_cfg(encryption)).unwrap();
    (meta, src, seed)
}

/// The leecher calls the seed with `leech`'s policy; true when the copy is complete
/// and right.
fn transfer(seed: Policy, leech: Policy) -> bool {
    let dir = common::TempDir::new("mse-nodes");
    let (meta, src, mut s) = our_seed(&dir, seed);
    let out = dir.sub("out");
    let paths = download_paths(&meta, &out);
    let mut l = Client::start(meta.clone(), &paths, true, node_cfg(leech)).unwrap();
    l.connect(s.local_addr()).unwrap();
    let done = l.wait_complete(Duration::from_secs(60));
    l.stop();
    s.stop();
    done && sha1_file(&out.join("data.bin")).unwrap() == sha1_file(&src).unwrap()
}

#[test]
fn our_nodes_transfer_encrypted_when_both_require_it() {
    assert!(transfer(Policy::Require, Policy::Require));
}

#[test]
fn prefer_falls_back_to_plaintext_against_a_peer_without_mse() {
    // The seed closes on our MSE bytes; the leecher calls again in plaintext.
    assert!(transfer(Policy::Off, Policy::Prefer));
    assert!(transfer(Policy::Prefer, Policy::Off));
}

#[test]
fn seed_answers_both_handshakes_on_one_port_as_its_policy_says() {
    let dir = common::TempDir::new("mse-policy");
    let ours = |ih| Handshake::new(ih, *b"-PL0001-mse-policy-0");
    for (policy, plain_ok, mse_ok) in [
        (Policy::Prefer, true, true),
        (Policy::Require, false, true),
        (Policy::Off, true, false),
    ] {
        let (meta, _src, mut seed) = our_seed(&dir, policy);
        let ih = meta.info_hash;
        let connect = || {
            let s = TcpStream::connect(seed.local_addr()).unwrap();
            s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
            s
        };
        // Plaintext: the seed answers with its handshake, or closes without a byte.
        let mut s = connect();
        ours(ih).write_to(&mut s).unwrap();
        let answered = Handshake::read_from(&mut s).is_ok_and(|h| h.info_hash == ih);
        assert_eq!(answered, plain_ok, "{policy:?}: plaintext");
        // MSE offering RC4 only, our handshake as initial payload.
        let r = mse::initiate(
            connect(),
            &ih,
            Policy::Require,
            &ours(ih).encode(),
            &mut Rng::new(31),
        );
        match r {
            Ok(mut s) => {
                assert!(mse_ok, "{policy:?}: MSE accepted");
                assert!(s.is_encrypted());
                let h = Handshake::read_from(&mut s).unwrap();
                assert_eq!(h.info_hash, ih);
                assert_eq!(h.reserved[5] & 0x10, 0x10, "BEP 10 bit set");
            }
            Err(e) => {
                assert!(!mse_ok, "{policy:?}: MSE refused: {e}");
                assert!(
                    matches!(e, MseError::Closed { .. } | MseError::Io(_)),
                    "{e}"
                );
            }
        }
        seed.stop();
    }
}
