//! The Gnutella servent against slow handshakes and neighbours that only hold a slot.

use super::common::TempDir;
use super::*;
use p2plab::gnutella::msg::handshake::{self, Answer};
use p2plab::gnutella::{Config, Servent};
use p2plab::share::Folder;
use std::io::BufReader;
use std::net::SocketAddrV4;
use std::path::Path;
use std::sync::Arc;

pub fn servent(share: &Path, f: impl FnOnce(&mut Config)) -> Servent {
    let mut cfg = Config::new(Arc::new(Folder::scan(share).unwrap()));
    cfg.degree = 0; // neighbours come only as the test says
    f(&mut cfg);
    Servent::start(cfg).unwrap()
}

/// A raw CONNECT from `from`, claiming to listen on `listen_port`: the answer, and the
/// socket (kept open while the caller holds it).
pub fn knock(
    to: SocketAddr,
    from: Ipv4Addr,
    listen_port: u16,
    timeout: Duration,
) -> (Answer, TcpStream) {
    let SocketAddr::V4(to) = to else {
        unreachable!()
    };
    let stream = connect_from(from, SocketAddrV4::new(*to.ip(), to.port()), Some(timeout)).unwrap();
    let mut r = BufReader::new(stream.try_clone().unwrap());
    let me = SocketAddr::from((from, listen_port));
    let answer = handshake::client(&mut r, &mut &stream, me).unwrap();
    (answer, stream)
}

#[test]
fn neighbours_that_only_hold_a_slot_make_room_for_a_newcomer() {
    let dir = TempDir::new("hostile-gnutella-idle");
    dir.sub("a");
    dir.file("a/song.mp3", 1000, 1);
    let victim = servent(&dir.sub("v"), |c| {
        c.max_degree = 3;
        // No grace: the order alone decides (never answered first, then idle longest).
        c.idle_grace = Duration::ZERO;
    });
    let good = servent(&dir.sub("a"), |_| {});
    good.connect(victim.addr()).unwrap();
    // Two peers finish the handshake, then only hold their slot.
    let mut idle: Vec<TcpStream> = (0..2)
        .map(|i| {
            let (a, s) = knock(victim.addr(), hostile_ip(4, i), 1000 + i as u16, LIMIT);
            assert!(matches!(a, Answer::Accepted(_)));
            s
        })
        .collect();
    assert!(p2plab::wait::until(LIMIT, || victim.neighbours().len() == 3));
    // The good neighbour brings a hit: it has earned its slot.
    victim.query("song", 2);
    victim.hits().recv_timeout(LIMIT).unwrap();
    let mut newcomers = Vec::new(); // they stay neighbours while the test runs
    for port in [9, 10] {
        let (answer, s) = served("a newcomer on a full servent", |t| {
            knock(victim.addr(), Ipv4Addr::LOCALHOST, port, t)
        });
        assert!(matches!(answer, Answer::Accepted(_)), "got {answer:?}");
        newcomers.push(s);
        // Its handshake ends on our side first: wait until the servent counts it.
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        assert!(p2plab::wait::until(LIMIT, || victim
            .neighbours()
            .contains(&addr)));
    }
    for s in &mut idle {
        assert!(
            closed_within(s, Duration::from_secs(5)),
            "an idle peer was kept"
        );
    }
    assert!(
        victim.neighbours().contains(&good.addr()),
        "the useful neighbour stays"
    );
    victim.query("song", 2);
    assert!(
        victim.hits().recv_timeout(LIMIT).is_ok(),
        "and still answers"
    );
}

#[test]
fn slow_handshakes_neither_lock_out_a_newcomer_nor_stay() {
    let dir = TempDir::new("hostile-gnutella-slow");
    let victim = servent(&dir.sub("v"), |c| {
        c.max_degree = 2;
        c.handshake_deadline = Duration::from_millis(300);
    });
    // Three times the slots (degree + 16), each stuck in its CONNECT line.
    let mut attack = slow_senders(victim.addr(), 5, 54, b"GNUTELLA");
    assert_eq!(attack.len(), 54);
    let (answer, _s) = served("a newcomer during the attack", |t| {
        knock(victim.addr(), Ipv4Addr::LOCALHOST, 9, t)
    });
    assert!(matches!(answer, Answer::Accepted(_)), "got {answer:?}");
    // The deadline, not the 5 s per-read timeout, closes them.
    for s in &mut attack {
        assert!(closed_within(s, Duration::from_secs(3)));
    }
}
