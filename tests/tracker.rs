//! The BitTorrent tracker under hostile peers (notes 6.5 追踪器; issue 13): its table is
//! bounded and heals, a peer is its id AND its address, and a client trickling its
//! request a byte a second holds no one up. Each test asserts what a student could
//! check with curl: the announce and scrape answers.

use p2plab::bittorrent::bencode;
use p2plab::bittorrent::tracker::msg::{announce, scrape, Announce, Event, Reply};
use p2plab::bittorrent::tracker::{Tracker, TrackerConfig, TrackerLimits};
use p2plab::rng::Rng;
use p2plab::wait;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Generous: two cores shared with other builds.
const LIMIT: Duration = Duration::from_secs(60);

fn ann(hash: [u8; 20], id: u8, port: u16, left: u64, event: Event) -> Announce {
    Announce {
        info_hash: hash,
        peer_id: [id; 20],
        port,
        uploaded: 0,
        downloaded: 0,
        left,
        event,
        numwant: 50,
    }
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// The raw body of `GET target`.
fn http_get(tracker: &Tracker, target: &str) -> Vec<u8> {
    let mut s = TcpStream::connect(tracker.local_addr()).unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    write!(s, "GET {target} HTTP/1.0\r\n\r\n").unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let at = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    all.split_off(at + 4)
}

/// How many torrents a scrape of everything lists (BEP 48, capped at 64).
fn scrape_all(tracker: &Tracker) -> usize {
    let v = bencode::decode(&http_get(tracker, "/scrape")).unwrap();
    v.get("files").unwrap().as_dict().unwrap().len()
}

/// A fresh torrent is tracked: a second peer is told about the first.
fn assert_tracks_a_fresh_torrent(tracker: &Tracker, hash: [u8; 20]) {
    let url = tracker.announce_url();
    announce(&url, &ann(hash, 1, 7001, 0, Event::Started)).unwrap();
    let r: Reply = announce(&url, &ann(hash, 2, 7002, 9, Event::Started)).unwrap();
    assert_eq!(r.peers, [addr(7001)]);
    assert_eq!((r.complete, r.incomplete), (Some(1), Some(1)));
}

#[test]
fn ten_thousand_stopped_announces_leave_no_trace() {
    let tracker = Tracker::start("127.0.0.1:0", TrackerConfig::default()).unwrap();
    let url = tracker.announce_url();
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let url = &url;
            s.spawn(move || {
                let mut rng = Rng::new(t);
                for _ in 0..2_500 {
                    let hash: [u8; 20] = rng.bytes(20).try_into().unwrap();
                    announce(url, &ann(hash, 3, 7003, 0, Event::Stopped)).unwrap();
                }
            });
        }
    });
    assert_eq!(tracker.held(), (0, 0), "a stopped never creates a torrent");
    assert_eq!(scrape_all(&tracker), 0);
    assert_tracks_a_fresh_torrent(&tracker, [0x42; 20]);
}

#[test]
fn a_full_tracker_evicts_the_longest_silent_torrent_instead_of_refusing() {
    let limits = TrackerLimits {
        max_torrents: 16,
        ..TrackerLimits::default()
    };
    let tracker = Tracker::start_with("127.0.0.1:0", TrackerConfig::default(), limits).unwrap();
    let url = tracker.announce_url();
    let mut rng = Rng::new(13);
    for _ in 0..200 {
        let hash: [u8; 20] = rng.bytes(20).try_into().unwrap();
        announce(&url, &ann(hash, 3, 7003, 0, Event::Started)).unwrap();
    }
    assert_eq!(tracker.held(), (16, 16), "the table stays at its cap");
    assert_eq!(tracker.stats().evicted_swarms.load(Ordering::Relaxed), 184);
    assert_tracks_a_fresh_torrent(&tracker, [0x42; 20]);
    // The torrent just announced is the last to go: 15 newcomers later it is still there.
    for _ in 0..15 {
        let hash: [u8; 20] = rng.bytes(20).try_into().unwrap();
        announce(&url, &ann(hash, 3, 7003, 0, Event::Started)).unwrap();
    }
    assert_eq!(tracker.counts(&[0x42; 20]), (1, 1));
}

#[test]
fn silent_peers_expire_after_two_intervals_and_their_torrent_goes() {
    // 100 ms: peers silent for 200 ms are forgotten. The wire says 1 s, the least it may.
    let cfg = TrackerConfig {
        interval: Duration::from_millis(100),
    };
    let tracker = Tracker::start("127.0.0.1:0", cfg).unwrap();
    let url = tracker.announce_url();
    let r = announce(&url, &ann([7; 20], 1, 7001, 0, Event::Started)).unwrap();
    assert_eq!(r.interval, Duration::from_secs(1));
    announce(&url, &ann([7; 20], 2, 7002, 9, Event::Started)).unwrap();
    assert_eq!(tracker.held(), (1, 2));
    assert!(
        wait::until(LIMIT, || tracker.held() == (0, 0)),
        "both peers expire and the empty torrent is removed"
    );
    assert_eq!(tracker.stats().expired_peers.load(Ordering::Relaxed), 2);
    assert_eq!(scrape_all(&tracker), 0);
    assert_tracks_a_fresh_torrent(&tracker, [7; 20]);
}

#[test]
fn another_address_with_my_peer_id_cannot_stop_or_move_me() {
    let tracker = Tracker::start("127.0.0.1:0", TrackerConfig::default()).unwrap();
    let url = tracker.announce_url();
    let hash = [0x11; 20];
    announce(&url, &ann(hash, 1, 7001, 9, Event::Started)).unwrap();
    // The attacker learned peer 1's id (a dict peer list shows it) and sends it from
    // another address (here another port: tests share 127.0.0.1).
    announce(&url, &ann(hash, 1, 6666, 0, Event::Stopped)).unwrap();
    assert_eq!(tracker.counts(&hash), (0, 1), "peer 1 is still a leecher");
    announce(&url, &ann(hash, 1, 6666, 0, Event::Started)).unwrap();
    let r = announce(&url, &ann(hash, 2, 7002, 9, Event::Started)).unwrap();
    assert!(r.peers.contains(&addr(7001)), "peer 1 keeps its address");
    assert_eq!(
        tracker.counts(&hash),
        (1, 2),
        "the impostor is one more peer, a seed"
    );
    // Peer 1 itself may leave; that removes peer 1 only.
    announce(&url, &ann(hash, 1, 7001, 9, Event::Stopped)).unwrap();
    assert_eq!(tracker.counts(&hash), (1, 1));
    assert_eq!(scrape(&url, &hash).unwrap(), (1, 1, 0));
}

/// Opens a connection and sends the first byte of a GET, as a trickling attacker does.
fn trickler(tracker: &Tracker) -> TcpStream {
    let mut s = TcpStream::connect(tracker.local_addr()).unwrap();
    let _ = s.write_all(b"G");
    s
}

/// True once the tracker has closed `s`: end of stream or a reset, not a read timeout.
fn closed_by_tracker(s: &mut TcpStream) -> bool {
    s.set_read_timeout(Some(LIMIT)).unwrap();
    match s.read(&mut [0u8; 1]) {
        Ok(n) => n == 0,
        Err(e) => !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
    }
}

#[test]
fn slow_senders_do_not_stop_a_real_announce() {
    // 8 slots, all kept busy by 16 attackers sending one byte a second and reconnecting
    // whenever they are dropped. The head must arrive within 1 s here (5 s by default).
    let limits = TrackerLimits {
        max_conns: 8,
        head_deadline: Duration::from_secs(1),
        ..TrackerLimits::default()
    };
    let tracker = Tracker::start_with("127.0.0.1:0", TrackerConfig::default(), limits).unwrap();
    let url = tracker.announce_url();
    let mut slow: Vec<TcpStream> = (0..16).map(|_| trickler(&tracker)).collect();
    for round in 0..4u8 {
        for s in slow.iter_mut() {
            if s.write_all(b"E").is_err() {
                *s = trickler(&tracker); // dropped: come back, as an attacker would
            }
        }
        let t = Instant::now();
        let r = announce(&url, &ann([9; 20], round, 7000, 9, Event::Started)).unwrap();
        assert!(
            t.elapsed() < Duration::from_secs(1),
            "round {round}: answered after {:?}",
            t.elapsed()
        );
        assert_eq!(r.incomplete, Some(u64::from(round) + 1));
        std::thread::sleep(Duration::from_secs(1)); // the attack's pace: a byte a second
    }
    for s in slow.iter_mut() {
        assert!(
            closed_by_tracker(s),
            "no trickler outlives the head deadline"
        );
    }
}
