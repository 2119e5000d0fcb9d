//! The HTTP tracker against slow senders (its table's defences are in `tests/tracker.rs`).

use super::*;
use p2plab::bittorrent::tracker::msg::{announce, Announce, Event};
use p2plab::bittorrent::tracker::{Tracker, TrackerConfig, TrackerLimits};

#[test]
fn slow_senders_neither_lock_out_an_announce_nor_stay() {
    let lim = TrackerLimits {
        max_conns: 16,
        head_deadline: Duration::from_millis(300),
        ..TrackerLimits::default()
    };
    let tracker = Tracker::start_with("127.0.0.1:0", TrackerConfig::default(), lim).unwrap();
    let mut attack = slow_senders(tracker.local_addr(), 8, 64, b"G");
    let ann = |id: u8, port: u16| Announce {
        info_hash: [7; 20],
        peer_id: [id; 20],
        port,
        uploaded: 0,
        downloaded: 0,
        left: 0,
        event: Event::Started,
        numwant: 50,
    };
    announce(&tracker.announce_url(), &ann(1, 7001)).unwrap();
    let reply = served("an announce during the attack", |_| {
        announce(&tracker.announce_url(), &ann(2, 7002)).unwrap()
    });
    assert_eq!(reply.peers, [SocketAddr::from(([127, 0, 0, 1], 7001))]);
    for s in &mut attack {
        assert!(closed_within(s, Duration::from_secs(5)));
    }
}
