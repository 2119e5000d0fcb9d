//! The ring DHT on 127.0.0.1: owners, agreement, hand-over on join and leave, a 25%
//! crash on 64 nodes, bad input, and a peer that stops reading. Maintenance runs 20x faster than real time, and
//! every wait is on a "ring settled" condition with a generous deadline, never a sleep.

mod common;

use p2plab::dht::{
    encode_request, Config, DhtError, Id, LocalRing, Node, NodeRef, Request, Rng, Routing,
};
use p2plab::wire::{read_frame, write_frame, Prefix};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

/// Rings settle in a second or two here; the deadline allows for a loaded 2-core machine.
const SETTLE: Duration = Duration::from_secs(60);

fn fast(bits: u32, r: usize) -> Config {
    let mut c = Config::new(bits);
    c.r = r;
    c.time_scale = 0.05; // stabilize every 50 ms
    c
}

fn keys(n: usize, tag: &str) -> Vec<Vec<u8>> {
    (0..n).map(|i| format!("{tag}-{i}").into_bytes()).collect()
}

#[test]
fn every_owner_is_the_first_node_clockwise_and_all_lookups_agree() {
    let ring = LocalRing::start(16, &fast(160, 3)).unwrap();
    assert!(ring.wait_settled(true, SETTLE), "ring of 16 settles");
    for key in keys(40, "file") {
        let id = Id::hash(&key, 160);
        let want = ring.owner(&id);
        for node in &ring.nodes {
            for routing in [Routing::Fingers, Routing::SuccessorOnly] {
                let l = node.lookup_with(&id, routing).unwrap();
                assert_eq!(l.owner, want, "owner of {id} from {}", node.addr());
                assert_eq!(l.path[0], node.me(), "a path starts at the asker");
            }
        }
    }
}

#[test]
fn shortcuts_make_lookups_shorter() {
    let ring = LocalRing::start(32, &fast(160, 3)).unwrap();
    assert!(ring.wait_settled(true, SETTLE));
    let (mut with, mut without) = (0, 0);
    for (i, key) in keys(64, "k").iter().enumerate() {
        let node = &ring.nodes[i % ring.nodes.len()];
        let id = node.key_id(key);
        with += node.lookup_with(&id, Routing::Fingers).unwrap().hops();
        without += node
            .lookup_with(&id, Routing::SuccessorOnly)
            .unwrap()
            .hops();
    }
    // Means about 2.5 vs 15.5 hops on 32 nodes; the assertion leaves a wide margin.
    assert!(
        with * 3 < without,
        "fingers {with} vs successor-only {without}"
    );
}

#[test]
fn join_and_graceful_leave_hand_keys_over() {
    let mut ring = LocalRing::start(8, &fast(160, 3)).unwrap();
    assert!(ring.wait_settled(false, SETTLE));
    // Start the newcomer alone first, to learn its id and pick keys it will own.
    let newcomer = Node::start("127.0.0.1:0", ring.cfg.clone()).unwrap();
    let sorted = ring.sorted();
    let pred = *sorted
        .iter()
        .rev()
        .find(|n| n.id < newcomer.id())
        .unwrap_or(sorted.last().unwrap());
    let mine: Vec<Vec<u8>> = (0..)
        .map(|i| format!("moving-{i}").into_bytes())
        .filter(|k| p2plab::dht::in_half_open(&Id::hash(k, 160), &pred.id, &newcomer.id()))
        .take(5)
        .collect();
    for k in &mine {
        ring.nodes[0].put(k, b"10.0.0.1:6346").unwrap();
    }
    assert!(mine.iter().all(|k| newcomer.holds(k).is_none()));
    newcomer.join(ring.nodes[3].addr()).unwrap();
    ring.nodes.push(newcomer);
    assert!(ring.wait_settled(false, SETTLE), "ring of 9 settles");
    let newcomer = ring.nodes.last().unwrap();
    for k in &mine {
        assert_eq!(ring.owner(&Id::hash(k, 160)), newcomer.me());
        assert!(newcomer.holds(k).is_some(), "key handed over on join");
        for n in &ring.nodes {
            assert_eq!(n.get(k).unwrap().len(), 1);
        }
    }
    // Graceful leave: the keys go to the successor before the node stops.
    let leaver = ring.nodes.pop().unwrap();
    let succ = leaver.snapshot().succs[0];
    leaver.leave();
    assert!(ring.wait_settled(false, SETTLE), "ring of 8 settles again");
    let heir = ring.nodes.iter().find(|n| n.me() == succ).unwrap();
    for k in &mine {
        assert_eq!(ring.owner(&Id::hash(k, 160)), succ);
        assert!(heir.holds(k).is_some(), "key handed over on leave");
        for n in &ring.nodes {
            assert_eq!(n.get(k).unwrap().len(), 1);
        }
    }
}

#[test]
fn a_quarter_of_64_nodes_crash_and_nothing_is_lost() {
    let cfg = fast(160, Config::r_for(64));
    let mut ring = LocalRing::start(64, &cfg).unwrap();
    assert!(ring.wait_settled(true, SETTLE), "ring of 64 settles");
    let mut rng = Rng::new(7);
    let mut stored: BTreeMap<Vec<u8>, BTreeSet<Vec<u8>>> = BTreeMap::new();
    for (i, key) in keys(200, "song").iter().enumerate() {
        for v in 0..2 {
            let value = format!("10.0.{i}.{v}:6346").into_bytes();
            let from = rng.below(ring.nodes.len());
            ring.nodes[from].put(key, &value).unwrap();
            stored.entry(key.clone()).or_default().insert(value);
        }
    }
    assert!(
        ring.wait_replicated(&stored, SETTLE),
        "every key on its owner and r successors"
    );
    // Which ring positions die is fixed by the seed, whatever ids the ports gave.
    let victims: Vec<usize> = rng
        .sample(64, 16)
        .into_iter()
        .map(|pos| ring.at_position(pos))
        .collect();
    let gone = ring.kill(victims);
    assert_eq!((gone.len(), ring.nodes.len()), (16, 48));
    assert!(ring.wait_settled(true, SETTLE), "ring of 48 settles");
    let mut lost = 0;
    for (key, values) in &stored {
        let id = Id::hash(key, 160);
        let want = ring.owner(&id);
        for node in &ring.nodes {
            assert_eq!(node.lookup(&id).unwrap().owner, want);
        }
        let got = ring.nodes[rng.below(48)].get(key).unwrap();
        lost += values.difference(&got).count();
    }
    assert_eq!(lost, 0, "values lost after the crash");
}

#[test]
fn a_node_whose_id_is_taken_is_refused() {
    // m = 4: 16 ids. Keep starting lone nodes until one hashes onto a member's id.
    let ring = LocalRing::start(4, &fast(4, 3)).unwrap();
    assert!(ring.wait_settled(false, SETTLE));
    let taken: Vec<Id> = ring.nodes.iter().map(Node::id).collect();
    let twin = (0..500)
        .map(|_| Node::start("127.0.0.1:0", ring.cfg.clone()).unwrap())
        .find(|n| taken.contains(&n.id()))
        .expect("some port hashes onto a taken id");
    let err = twin.join(ring.nodes[0].addr()).unwrap_err();
    assert!(matches!(err, DhtError::IdTaken { .. }), "{err}");
    assert!(err.to_string().contains("already taken"));
}

/// Sends raw bytes, half-closes, and returns every frame the node sent back.
fn raw(node: &Node, bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut s = TcpStream::connect(node.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(bytes).unwrap();
    // May fail: a node that refused a frame before reading all of it closes with bytes
    // still unread, and the kernel answers that with a reset. Its ERROR reply is
    // already in our receive queue by then, and is read below.
    let _ = s.shutdown(Shutdown::Write);
    let mut out = Vec::new();
    while let Ok(Some(f)) = read_frame(&mut s, Prefix::U32Be, 1 << 20) {
        out.push(f);
    }
    // The node closed its side: a read now returns 0.
    assert_eq!(s.read(&mut [0u8; 1]).unwrap_or(0), 0);
    out
}

fn error_text(frames: &[Vec<u8>]) -> String {
    let last = frames.last().expect("an ERROR reply");
    match p2plab::dht::decode_reply(last).unwrap() {
        p2plab::dht::Reply::Error(t) => t,
        other => panic!("expected ERROR, got {other:?}"),
    }
}

#[test]
fn bad_input_gets_an_error_and_the_node_keeps_serving() {
    let ring = LocalRing::start(3, &fast(160, 3)).unwrap();
    assert!(ring.wait_settled(false, SETTLE));
    let node = &ring.nodes[0];
    let frame = |body: &[u8]| {
        let mut v = Vec::new();
        write_frame(&mut v, Prefix::U32Be, body).unwrap();
        v
    };

    // Unknown type 0x42.
    let t = error_text(&raw(node, &frame(&[0x42, 160])));
    assert!(t.contains("unknown message type 66"), "{t}");
    // A frame claiming 16 MiB: refused before reading it.
    let t = error_text(&raw(node, &[0x01, 0x00, 0x00, 0x00, 0x01]));
    assert!(t.contains("exceeds limit"), "{t}");
    // A frame claiming 100 bytes that sends 3, then closes: truncation.
    let t = error_text(&raw(node, &[0, 0, 0, 100, 0x06, 160, 0]));
    assert!(t.contains("closed mid-frame"), "{t}");
    // A GET whose key length lies (claims 0xffff bytes).
    let t = error_text(&raw(node, &frame(&[0x06, 160, 0xff, 0xff, b'k'])));
    assert!(t.contains("MAX_KEY"), "{t}");
    // A node from another ring size.
    let t = error_text(&raw(node, &frame(&encode_request(8, &Request::Ping))));
    assert!(t.contains("8-bit ring"), "{t}");
    // NOTIFY from a node claiming an id that is not the hash of its address: an
    // attacker choosing the id just after ours to become our predecessor.
    let before = node.snapshot().pred;
    let liar = NodeRef {
        id: node.id().sub(&Id::pow2(0), 160),
        addr: "127.0.0.1:9".parse().unwrap(),
    };
    let t = error_text(&raw(
        node,
        &frame(&encode_request(160, &Request::Notify(liar))),
    ));
    assert!(t.contains("not the hash of its address"), "{t}");
    assert_eq!(node.snapshot().pred, before, "the liar was not adopted");

    // A good request on the same connection after a good one still works, and the node
    // still answers lookups and puts.
    let ok = raw(
        node,
        &[
            frame(&encode_request(160, &Request::Ping)),
            frame(&encode_request(160, &Request::GetSuccessors)),
        ]
        .concat(),
    );
    assert_eq!(ok.len(), 2);
    ring.nodes[1].put(b"still", b"here").unwrap();
    assert_eq!(node.get(b"still").unwrap().len(), 1);
}

#[test]
fn a_lookup_step_naming_a_node_with_a_made_up_id_is_refused() {
    // A fake node that answers any request with NEXT naming a node whose id is not the
    // hash of its address: a newcomer joining through it must get a clear error.
    let fake = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let fake_addr = fake.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut s, _) = fake.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let req = read_frame(&mut s, Prefix::U32Be, 1 << 20).unwrap().unwrap();
        assert!(p2plab::dht::decode_request(&req).is_ok());
        let liar = NodeRef {
            id: Id::from_u64(42, 160),
            addr: "127.0.0.1:9".parse().unwrap(),
        };
        let rep = p2plab::dht::encode_reply(&p2plab::dht::Reply::Next(vec![liar]));
        write_frame(&mut s, Prefix::U32Be, &rep).unwrap();
    });
    let newcomer = Node::start("127.0.0.1:0", fast(160, 3)).unwrap();
    let err = newcomer.join(fake_addr).unwrap_err();
    assert!(matches!(err, DhtError::BadId { .. }), "{err}");
    assert!(err.to_string().contains("127.0.0.1:9"), "{err}");
    server.join().unwrap();
    assert!(
        newcomer.snapshot().succs.is_empty(),
        "nothing adopted from the liar"
    );
}

/// One frame on the wire: the u32 length, then the body.
fn framed(body: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    write_frame(&mut v, Prefix::U32Be, body).unwrap();
    v
}

#[test]
fn a_peer_that_stops_reading_is_dropped_and_the_others_are_still_served() {
    let ring = LocalRing::start(3, &fast(160, 3)).unwrap();
    assert!(ring.wait_settled(false, SETTLE));
    let node = &ring.nodes[0];
    // A key whose values make every GET reply about 25 KiB, so the node always has a
    // lot to send the stalled peer. On 3 nodes with r = 3 every node holds it.
    for i in 0..64 {
        let value = format!("{i:0>400}");
        ring.nodes[1].put(b"big", value.as_bytes()).unwrap();
    }
    assert_eq!(node.holds(b"big").map(|v| v.len()), Some(64));

    // The stalled peer: sends valid GETs as fast as it can and never reads a reply.
    let mut stalled = TcpStream::connect(node.addr()).unwrap();
    stalled
        .set_write_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let get = framed(&encode_request(160, &Request::Get(b"big".to_vec())));
    let burst: Vec<u8> = get.iter().copied().cycle().take(get.len() * 100).collect();
    let (sent_tx, sent_rx) = crossbeam_channel::unbounded();
    let flood = std::thread::spawn(move || {
        let mut sent = 0usize;
        loop {
            if let Err(e) = stalled.write_all(&burst) {
                // Reset or broken pipe: the node closed us. A timeout: it did not.
                let dropped = !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                );
                return (sent, dropped);
            }
            sent += 100;
            let _ = sent_tx.send(sent);
        }
    });
    // Wait until the node has far more to send than any socket buffer holds
    // (2,000 replies of 25 KiB), or until it has already dropped the peer.
    let mut sent = 0;
    while sent < 2000 {
        match sent_rx.recv_timeout(SETTLE) {
            Ok(n) => sent = n,
            Err(_) => break, // the flood ended: the node dropped it already
        }
    }

    // A fresh peer is answered at once, and so is a lookup through the node.
    let t = std::time::Instant::now();
    let mut fresh = TcpStream::connect(node.addr()).unwrap();
    fresh
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    fresh
        .write_all(&framed(&encode_request(160, &Request::Ping)))
        .unwrap();
    let pong = read_frame(&mut fresh, Prefix::U32Be, 1 << 20)
        .unwrap()
        .unwrap();
    assert!(matches!(
        p2plab::dht::decode_reply(&pong).unwrap(),
        p2plab::dht::Reply::Pong(n) if n == node.me()
    ));
    assert_eq!(ring.nodes[2].get(b"big").unwrap().len(), 64);
    let took = t.elapsed();
    assert!(took < Duration::from_secs(1), "fresh peer waited {took:?}");

    // The stalled peer is dropped: its writes fail once the node has closed it.
    let (sent, dropped) = flood.join().unwrap();
    assert!(
        dropped,
        "the stalled peer is still connected after {sent} requests"
    );
    // The node still serves lookups and puts.
    ring.nodes[2].put(b"after", b"stall").unwrap();
    assert_eq!(node.get(b"after").unwrap().len(), 1);
}
