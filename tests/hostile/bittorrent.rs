//! The BitTorrent peer listener against slow handshakes and peers that only keep
//! alive; the downloader against blocks it never asked for.

use super::common::{self, TempDir};
use super::*;
use p2plab::bittorrent::make::make_torrent;
use p2plab::bittorrent::metainfo::Metainfo;
use p2plab::bittorrent::msg::handshake::Handshake;
use p2plab::bittorrent::msg::{decode, encode_into, split_frame, Message};
use p2plab::bittorrent::node::{download_paths, seed_paths, Client, ClientConfig};
use p2plab::share::ids::sha1_file;
use std::net::{SocketAddrV4, TcpListener};

pub fn seed(dir: &TempDir, len: usize, max_peers: usize) -> (Metainfo, Client) {
    let src = dir.file("data.bin", len, 7);
    let meta = make_torrent(&src, 32 * 1024, None).unwrap();
    let cfg = ClientConfig {
        use_tracker: false,
        max_peers,
        time_scale: 0.05,
        ..ClientConfig::default()
    };
    let c = Client::start(meta.clone(), &seed_paths(&meta, &src), false, cfg).unwrap();
    (meta, c)
}

pub fn handshake(s: &mut TcpStream, info_hash: [u8; 20], id: u8) {
    Handshake::new(info_hash, [id; 20]).write_to(s).unwrap();
    Handshake::read_from(s).unwrap();
}

fn send(s: &mut TcpStream, m: &Message<'_>) {
    let mut out = Vec::new();
    encode_into(m, &mut out);
    s.write_all(&out).unwrap();
}

/// Reads messages until `want` says yes; false if the peer closed first.
fn read_until(s: &mut TcpStream, mut want: impl FnMut(&Message<'_>) -> bool) -> bool {
    let (mut buf, mut chunk) = (Vec::new(), [0u8; 16 * 1024]);
    loop {
        while let Some(total) = split_frame(&buf, 1 << 20).unwrap() {
            if total > 4 && want(&decode(&buf[4..total]).unwrap()) {
                return true;
            }
            buf.drain(..total);
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

#[test]
fn idle_peers_and_slow_handshakes_leave_room_for_a_real_peer() {
    let dir = TempDir::new("hostile-bt-idle");
    let (meta, seeder) = seed(&dir, 100_000, 4);
    let SocketAddr::V4(to) = seeder.local_addr() else {
        unreachable!()
    };
    // Six peers finish the handshake, then say nothing; twenty never finish it.
    let mut idle: Vec<TcpStream> = (0..6)
        .map(|i| {
            let mut s = connect_from(hostile_ip(6, i), to, Some(LIMIT)).unwrap();
            handshake(&mut s, meta.info_hash, i as u8);
            s
        })
        .collect();
    let mut slow = slow_senders(seeder.local_addr(), 7, 20, &[19]);
    let block = served("a real peer's first block", |t| {
        let mut s = connect_from(
            Ipv4Addr::LOCALHOST,
            SocketAddrV4::new(*to.ip(), to.port()),
            Some(t),
        )
        .unwrap();
        handshake(&mut s, meta.info_hash, 200);
        send(&mut s, &Message::Interested);
        assert!(read_until(&mut s, |m| matches!(m, Message::Unchoke)));
        let (index, begin, length) = (0, 0, 16 * 1024);
        send(
            &mut s,
            &Message::Request {
                index,
                begin,
                length,
            },
        );
        let mut got = Vec::new();
        assert!(read_until(&mut s, |m| match m {
            Message::Piece { block, .. } => {
                got = block.to_vec();
                true
            }
            _ => false,
        }));
        got
    });
    assert_eq!(block, common::bytes(100_000, 7)[..16 * 1024]);
    // Held: at most the slots less the real peer's; the slow ones all go by the deadline.
    assert!(still_open(&mut idle) <= 3);
    for s in &mut slow {
        assert!(closed_within(s, Duration::from_secs(6)));
    }
}

/// Plays a seed that answers each request, but first pushes the other block of the
/// same piece, unasked and full of junk. Returns when the leecher hangs up.
fn pushy_seed(mut s: TcpStream, meta: &Metainfo, data: &[u8]) {
    let theirs = Handshake::read_from(&mut s).unwrap();
    assert_eq!(theirs.info_hash, meta.info_hash);
    Handshake::new(meta.info_hash, [9; 20])
        .write_to(&mut s)
        .unwrap();
    let n = meta.info.num_pieces();
    let mut bits = vec![0xffu8; n.div_ceil(8)];
    *bits.last_mut().unwrap() &= 0xffu8 << (bits.len() * 8 - n);
    send(&mut s, &Message::Bitfield(&bits));
    send(&mut s, &Message::Unchoke);
    let mut reqs = Vec::new();
    let mut r = s.try_clone().unwrap();
    read_until(&mut r, |m| {
        if let Message::Request {
            index,
            begin,
            length,
        } = m
        {
            reqs.push((*index, *begin, *length));
        }
        for (index, begin, length) in reqs.drain(..) {
            let at = index as usize * 32 * 1024 + begin as usize;
            let junk = vec![0xEE; 16 * 1024];
            let other = Message::Piece {
                index,
                begin: begin ^ (16 * 1024),
                block: &junk,
            };
            let real = Message::Piece {
                index,
                begin,
                block: &data[at..at + length as usize],
            };
            let mut out = Vec::new();
            encode_into(&other, &mut out);
            encode_into(&real, &mut out);
            if s.write_all(&out).is_err() {
                return true;
            }
        }
        false
    });
}

#[test]
fn unrequested_blocks_are_dropped_and_not_credited() {
    let dir = TempDir::new("hostile-bt-unasked");
    let src = dir.file("data.bin", 4 * 32 * 1024, 5);
    let data = common::bytes(4 * 32 * 1024, 5);
    let meta = make_torrent(&src, 32 * 1024, None).unwrap();
    let out = dir.sub("out");
    let cfg = ClientConfig {
        use_tracker: false,
        pipeline: 1, // one request at a time: the pushed block is never one asked for
        ..ClientConfig::default()
    };
    let mut leecher = Client::start(meta.clone(), &download_paths(&meta, &out), true, cfg).unwrap();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    leecher.connect(l.local_addr().unwrap()).unwrap();
    let (s, _) = l.accept().unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    let m = meta.clone();
    let pusher = std::thread::spawn(move || pushy_seed(s, &m, &data));
    assert!(leecher.wait_complete(LIMIT), "download did not finish");
    assert_eq!(
        sha1_file(&out.join("data.bin")).unwrap(),
        sha1_file(&src).unwrap()
    );
    let stats = leecher.peer_stats();
    assert_eq!(stats.len(), 1);
    assert_eq!(
        stats[0].down,
        4 * 32 * 1024,
        "only the blocks asked for count"
    );
    leecher.stop();
    pusher.join().unwrap();
}

/// Plays a seed that unchokes and then never answers a request. Sends `()` on `asked`
/// for each request it reads; returns how many it read when the leecher hangs up.
fn silent_seed(mut s: TcpStream, meta: &Metainfo, asked: crossbeam_channel::Sender<()>) -> usize {
    let theirs = Handshake::read_from(&mut s).unwrap();
    assert_eq!(theirs.info_hash, meta.info_hash);
    Handshake::new(meta.info_hash, [9; 20])
        .write_to(&mut s)
        .unwrap();
    let n = meta.info.num_pieces();
    let mut bits = vec![0xffu8; n.div_ceil(8)];
    *bits.last_mut().unwrap() &= 0xffu8 << (bits.len() * 8 - n);
    send(&mut s, &Message::Bitfield(&bits));
    send(&mut s, &Message::Unchoke);
    let mut requests = 0;
    read_until(&mut s, |m| {
        if matches!(m, Message::Request { .. }) {
            requests += 1;
            let _ = asked.send(());
        }
        false
    });
    requests
}

#[test]
fn a_peer_that_never_answers_is_snubbed_and_its_requests_go_to_another() {
    // Issue #13, claims are checked: a request unanswered past REQUEST_DEADLINE goes
    // back to the pool and the peer is snubbed (one request at a time).
    const PIPELINE: usize = 8;
    let dir = TempDir::new("hostile-bt-silent");
    let (meta, mut seeder) = seed(&dir, 8 * 32 * 1024, 4); // 16 blocks
    let out = dir.sub("out");
    let cfg = ClientConfig {
        use_tracker: false,
        pipeline: PIPELINE,
        time_scale: 0.05, // the deadline: 30 s x 0.05 = 1.5 s
        ..ClientConfig::default()
    };
    let mut leecher = Client::start(meta.clone(), &download_paths(&meta, &out), true, cfg).unwrap();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    leecher.connect(l.local_addr().unwrap()).unwrap();
    let (s, _) = l.accept().unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    let (asked_tx, asked) = crossbeam_channel::unbounded();
    let m = meta.clone();
    let silent = std::thread::spawn(move || silent_seed(s, &m, asked_tx));

    // The pipeline fills with PIPELINE requests. The silent peer answers none and sends
    // nothing, so one more request can only come once the leecher took those back.
    for i in 0..=PIPELINE {
        asked
            .recv_timeout(LIMIT)
            .unwrap_or_else(|_| panic!("request {} never came", i + 1));
    }
    // The blocks taken back go to a real seed, which finishes the download.
    leecher.connect(seeder.local_addr()).unwrap();
    assert!(leecher.wait_complete(LIMIT), "download did not finish");
    assert_eq!(
        sha1_file(&out.join("data.bin")).unwrap(),
        sha1_file(&dir.path().join("data.bin")).unwrap()
    );
    let stats = leecher.peer_stats();
    let from = |id: [u8; 20]| stats.iter().find(|s| s.peer_id == id).map(|s| s.down);
    assert_eq!(from([9; 20]), Some(0), "nothing came from the silent peer");
    assert_eq!(from(seeder.peer_id()), Some(8 * 32 * 1024));
    leecher.stop();
    seeder.stop();
    // Snubbed, it is asked one block per deadline; unsnubbed, the refill after the
    // take-back would have sent it PIPELINE requests at once.
    let after_first_wave = silent.join().unwrap() - PIPELINE;
    assert!(
        after_first_wave < PIPELINE,
        "{after_first_wave} requests after the take-back: not snubbed"
    );
}
