//! Gnutella servents on 127.0.0.1: flooding with TTL, dedup, reverse paths, Push,
//! join from the host list and the host cache, leave and repair, bad input, and a
//! neighbour that stops reading.

mod common;

use common::{eventually, TempDir};
use crossbeam_channel::{unbounded, Receiver, Sender};
use p2plab::gnutella::msg::{self as d, handshake, Descriptor, Payload};
use p2plab::gnutella::{observe, Config, HostCache, Kind, Servent, Trace};
use p2plab::locate::NodeTraffic;
use p2plab::share::{fetch, Folder};
use std::collections::BTreeSet;
use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Generous: two cores shared with other builds.
const LIMIT: Duration = Duration::from_secs(30);

struct Net {
    s: Vec<Servent>,
    trace: Receiver<Trace>,
    _dir: TempDir,
}

/// `n` servents with no automatic connecting (degree 0); servent `i` shares
/// `song-i.mp3` only if `sharing(i)`.
fn servents(n: usize, dedup: bool, sharing: impl Fn(usize) -> bool) -> Net {
    let dir = TempDir::new("gnutella");
    let (tx, trace) = unbounded();
    let s = (0..n)
        .map(|i| {
            let share = dir.sub(&format!("s{i}"));
            if sharing(i) {
                dir.file(&format!("s{i}/song-{i}.mp3"), 3000 + i, i as u64);
            }
            start(&share, Some(tx.clone()), |c| {
                c.degree = 0;
                c.dedup = dedup;
                c.seed = i as u64 + 1;
            })
        })
        .collect();
    Net {
        s,
        trace,
        _dir: dir,
    }
}

fn start(share: &Path, trace: Option<Sender<Trace>>, f: impl FnOnce(&mut Config)) -> Servent {
    let mut cfg = Config::new(Arc::new(Folder::scan(share).unwrap()));
    cfg.trace = trace;
    f(&mut cfg);
    Servent::start(cfg).unwrap()
}

fn link(net: &Net, a: usize, b: usize) {
    net.s[a].connect(net.s[b].addr()).unwrap();
}

fn index_of(net: &Net, addr: SocketAddr) -> usize {
    net.s.iter().position(|s| s.addr() == addr).unwrap()
}

/// Edges of a small overlay with cycles: a ring of `n` plus chords.
fn ring_with_chords(n: usize) -> Vec<(usize, usize)> {
    let mut e: Vec<(usize, usize)> = (0..n).map(|i| (i, (i + 1) % n)).collect();
    e.extend((0..n / 2).step_by(2).map(|i| (i, i + n / 2)));
    e
}

#[test]
fn line_of_ten_ttl_three_reaches_exactly_the_three_nearest() {
    // Files at 3 (within reach) and 4 (one hop too far).
    let net = servents(10, true, |i| i == 3 || i == 4);
    for i in 0..9 {
        link(&net, i, i + 1);
    }
    let guid = net.s[0].query("song mp3", 3);
    let f = observe::collect(&net.trace, guid, LIMIT).expect("flood ends");
    let reached: BTreeSet<usize> = f.reached.iter().map(|a| index_of(&net, *a)).collect();
    assert_eq!(reached, BTreeSet::from([1, 2, 3]));
    assert_eq!(f.messages, 3, "one copy per edge, none past TTL 0");
    assert_eq!(f.duplicates, 0);

    // The one hit is from servent 3, three hops away, and its file downloads intact.
    let hit = net.s[0].hits().recv_timeout(LIMIT).unwrap();
    assert_eq!(hit.http, net.s[3].http_addr());
    assert_eq!(hit.hops, 3);
    assert_eq!(hit.results[0].name, "song-3.mp3");
    assert!(
        net.s[0].hits().try_recv().is_err(),
        "servent 4 was not reached"
    );
    let out = TempDir::new("gnutella-dl");
    let path = fetch(&hit.download(0).unwrap(), out.path(), &mut |_| {}).unwrap();
    assert_eq!(std::fs::read(path).unwrap(), common::bytes(3003, 3));
}

/// Floods one query over the ring with chords; returns how often each servent forwarded it.
fn forwards_per_servent(dedup: bool) -> Vec<usize> {
    let net = servents(12, dedup, |_| false);
    for (a, b) in ring_with_chords(12) {
        link(&net, a, b);
    }
    let guid = net.s[0].query("anything", 7);
    let f = observe::collect(&net.trace, guid, LIMIT).expect("flood ends");
    assert_eq!(f.reached.len(), 11, "TTL 7 covers this small overlay");
    f.forwards.values().map(|v| v.len()).collect()
}

#[test]
fn each_servent_forwards_a_given_query_at_most_once() {
    let with = forwards_per_servent(true);
    assert!(with.iter().all(|&n| n == 1), "{with:?}");
    // The instructive mistake, to show this test can fail: without dedup, copies circle.
    let without = forwards_per_servent(false);
    assert!(without.iter().any(|&n| n > 1), "{without:?}");
}

#[test]
fn a_query_hit_travels_only_along_the_reverse_path() {
    let net = servents(12, true, |i| i == 7);
    for (a, b) in ring_with_chords(12) {
        link(&net, a, b);
    }
    let origin = net.s[0].addr();
    let guid = net.s[0].query("song", 7);
    let f = observe::collect(&net.trace, guid, LIMIT).expect("flood ends");
    let path = f.reverse_path(net.s[7].addr(), origin);
    assert_eq!(*path.last().unwrap(), origin);
    let mut expected: Vec<(SocketAddr, SocketAddr)> =
        path.windows(2).map(|w| (w[0], w[1])).collect();
    // Traces from different servents interleave freely: compare as sets.
    let mut hops = f.reply_hops.clone();
    hops.sort();
    expected.sort();
    assert_eq!(
        hops, expected,
        "each hop of the reverse path, and nothing else"
    );
    let hit = net.s[0].hits().recv_timeout(LIMIT).unwrap();
    assert_eq!(hit.hops as usize, path.len() - 1);
}

#[test]
fn a_push_is_routed_toward_the_servent_that_sent_the_hit() {
    let net = servents(5, true, |i| i == 3);
    for i in 0..4 {
        link(&net, i, i + 1);
    }
    let guid = net.s[0].query("song", 7);
    observe::collect(&net.trace, guid, LIMIT).expect("flood ends");
    let hit = net.s[0].hits().recv_timeout(LIMIT).unwrap();
    let push = net.s[0].push(hit.servent_id, hit.results[0].index);
    let f = observe::collect(&net.trace, push, LIMIT).expect("push arrives");
    let a = |i: usize| net.s[i].addr();
    let mut hops = f.reply_hops.clone();
    hops.sort_by_key(|(from, _)| index_of(&net, *from));
    assert_eq!(hops, [(a(0), a(1)), (a(1), a(2)), (a(2), a(3))]);
    assert_eq!(
        f.push_arrived,
        [a(3)],
        "delivered to the hit's servent only"
    );
}

/// A listener that is bound and dropped: a host list entry nobody answers.
fn dead_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

#[test]
fn join_from_the_host_list_then_pongs() {
    let net = servents(3, true, |_| false);
    link(&net, 0, 1);
    link(&net, 1, 2);
    let dir = TempDir::new("gnutella-join");
    let list = dir.path().join("hosts.txt");
    p2plab::gnutella::hosts::save(&list, &[net.s[0].addr()]).unwrap();
    let newcomer = start(&dir.sub("share"), None, |c| {
        c.host_list = Some(list.clone());
        c.degree = 3;
    });
    // The list gives servent 0; the Ping's Pongs give 1 and 2.
    assert!(eventually(LIMIT, || newcomer.neighbours().len() == 3));
    newcomer.leave();
    // Leaving wrote the host list back: the servents it knew, newest first.
    assert!(p2plab::gnutella::hosts::load(&list).len() >= 3);
}

#[test]
fn join_from_the_host_cache_when_the_list_is_dead() {
    let cache = HostCache::start("127.0.0.1:0").unwrap();
    let dir = TempDir::new("gnutella-cache");
    let old = start(&dir.sub("a"), None, |c| {
        c.degree = 0;
        c.cache = Some(cache.url());
    });
    assert!(eventually(LIMIT, || cache.hosts().contains(&old.addr())));
    let list = dir.path().join("hosts.txt");
    let dead = dead_addr();
    p2plab::gnutella::hosts::save(&list, &[dead]).unwrap();
    let (tx, trace) = unbounded();
    let newcomer = start(&dir.sub("b"), Some(tx), |c| {
        c.host_list = Some(list.clone());
        c.cache = Some(cache.url());
        c.degree = 1;
    });
    assert!(eventually(LIMIT, || newcomer.neighbours() == [old.addr()]));
    let events: Vec<Trace> = trace.try_iter().collect();
    assert!(events
        .iter()
        .any(|t| matches!(t, Trace::DialFailed { peer, .. } if *peer == dead)));
    assert!(events
        .iter()
        .any(|t| matches!(t, Trace::CacheAsked { got, .. } if *got >= 1)));
}

#[test]
fn a_leaving_servents_neighbours_regain_their_degree() {
    let cache = HostCache::start("127.0.0.1:0").unwrap();
    let dir = TempDir::new("gnutella-leave");
    let mut s: Vec<Servent> = (0..8)
        .map(|i| {
            start(&dir.sub(&format!("s{i}")), None, |c| {
                c.cache = Some(cache.url());
                c.degree = 3;
                c.seed = i + 1;
            })
        })
        .collect();
    assert!(eventually(LIMIT, || s
        .iter()
        .all(|x| x.neighbours().len() >= 3)));
    let leaving = s.remove(0);
    let gone = leaving.addr();
    cache.forget(&gone);
    let orphans: Vec<SocketAddr> = leaving.neighbours();
    assert!(!orphans.is_empty());
    leaving.leave();
    assert!(eventually(LIMIT, || s.iter().all(|x| {
        let n = x.neighbours();
        n.len() >= 3 && !n.contains(&gone)
    })));
}

/// A raw TCP peer that completes the handshake by hand and then speaks bytes.
fn raw_neighbour(s: &Servent, listen_port: u16) -> (TcpStream, BufReader<TcpStream>) {
    let stream = TcpStream::connect(s.addr()).unwrap();
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    let mut r = BufReader::new(stream.try_clone().unwrap());
    let me: SocketAddr = ([127, 0, 0, 1], listen_port).into();
    let ans = handshake::client(&mut r, &mut &stream, me).unwrap();
    assert!(matches!(ans, handshake::Answer::Accepted(_)));
    (stream, r)
}

/// True once the servent has closed this connection; false if it stayed silent and
/// open until the read timeout (so a servent that ignores bad input fails the test).
fn closed(r: &mut BufReader<TcpStream>) -> bool {
    let mut buf = [0u8; 256];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {} // a 503 answer, a keepalive Ping, a Pong
            Err(e) => {
                return !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                )
            }
        }
    }
}

fn header(kind: u8, ttl: u8, hops: u8, len: u32) -> Vec<u8> {
    let mut h = vec![0x42u8; 16];
    h.extend_from_slice(&[kind, ttl, hops]);
    h.extend_from_slice(&len.to_le_bytes());
    h
}

#[test]
fn bad_input_closes_one_connection_and_the_servent_keeps_serving() {
    let net = servents(2, true, |i| i == 1);
    link(&net, 0, 1);
    let victim = &net.s[0];

    // 1. Garbage instead of a handshake.
    let mut g = TcpStream::connect(victim.addr()).unwrap();
    g.set_read_timeout(Some(LIMIT)).unwrap();
    g.write_all(b"HELLO? \xff\xfe\r\n\r\n").unwrap();
    assert!(closed(&mut BufReader::new(g)));

    // 2. A descriptor whose length lies: a "Pong" of 10 bytes.
    let (mut s2, mut r2) = raw_neighbour(victim, 1);
    let mut bytes = header(0x01, 1, 0, 10);
    bytes.extend_from_slice(&[0; 10]);
    s2.write_all(&bytes).unwrap();
    assert!(closed(&mut r2));

    // 3. A payload above the 64 KiB cap: refused from the header alone.
    let (mut s3, mut r3) = raw_neighbour(victim, 2);
    s3.write_all(&header(0x80, 1, 0, 70_000)).unwrap();
    assert!(closed(&mut r3));
    assert!(
        eventually(LIMIT, || victim.stats().bad_input >= 3),
        "{:?}",
        victim.stats()
    );

    // 4. TTL 255 is clamped: forwarded with TTL 7 - 1 = 6, hops 1, not 254.
    let (mut s4, _r4) = raw_neighbour(victim, 3);
    let (_s5, mut r5) = raw_neighbour(victim, 4);
    // Both are neighbours (the servent registers one just after its handshake) before
    // the query is sent, or the copy for the second might never be made.
    let both: [SocketAddr; 2] = [([127, 0, 0, 1], 3).into(), ([127, 0, 0, 1], 4).into()];
    assert!(eventually(LIMIT, || {
        let n = victim.neighbours();
        both.iter().all(|a| n.contains(a))
    }));
    let q = d::encode(&Descriptor {
        guid: [9; 16],
        ttl: 255,
        hops: 0,
        payload: Payload::Query(d::Query {
            min_speed: 0,
            text: "nothing".into(),
            extension: vec![],
        }),
    });
    s4.write_all(&q).unwrap();
    let got = loop {
        let desc = d::read_descriptor(&mut r5).unwrap().unwrap();
        if desc.payload.kind() == Kind::Query {
            break desc;
        }
    };
    assert_eq!((got.guid, got.ttl, got.hops), ([9; 16], 6, 1));
    drop((s4, _r4, _s5, r5));
    assert!(eventually(LIMIT, || victim.neighbours().len() == 1));

    // Still serving: a query from the other servent finds nothing here but the flood
    // goes through, and the victim's own query finds servent 1's file.
    let guid = victim.query("song", 2);
    observe::collect(&net.trace, guid, LIMIT).expect("flood ends");
    assert_eq!(
        victim.hits().recv_timeout(LIMIT).unwrap().http,
        net.s[1].http_addr()
    );
}

#[test]
fn a_full_servent_answers_503_with_hosts_to_try() {
    let dir = TempDir::new("gnutella-full");
    let full = start(&dir.sub("a"), None, |c| {
        c.degree = 0;
        c.max_degree = 1;
    });
    let other = start(&dir.sub("b"), None, |c| c.degree = 0);
    other.connect(full.addr()).unwrap();
    assert!(eventually(LIMIT, || full.neighbours().len() == 1));
    let stream = TcpStream::connect(full.addr()).unwrap();
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    let mut r = BufReader::new(stream.try_clone().unwrap());
    let me: SocketAddr = ([127, 0, 0, 1], 9).into();
    match handshake::client(&mut r, &mut &stream, me).unwrap() {
        handshake::Answer::Refused { code, x_try } => {
            assert_eq!(code, 503);
            assert_eq!(x_try, [other.addr()]);
        }
        a => panic!("expected 503, got {a:?}"),
    }
}

#[test]
fn a_neighbour_that_stops_reading_holds_up_nobody_and_is_dropped() {
    let dir = TempDir::new("gnutella-stall");
    dir.sub("v");
    dir.file("v/song-v.mp3", 4000, 9);
    let (tx, trace) = unbounded();
    let victim = start(&dir.path().join("v"), Some(tx), |c| c.degree = 0);

    // The stalled neighbour: a real 0.6 handshake, then it never reads its socket.
    let (_stalled, _never_read) = raw_neighbour(&victim, 1);
    let stalled: SocketAddr = ([127, 0, 0, 1], 1).into();
    assert!(eventually(LIMIT, || victim.neighbours() == [stalled]));

    // The servent keeps having things to send it: 300 queries of 60 KB each (18 MB),
    // more than the two sockets' buffers hold, so its writer thread is stuck in a write.
    let big = "x".repeat(60_000);
    for _ in 0..300 {
        victim.query(&big, 1);
    }
    // All 300 handed to its writer's queue (the counter is the coordinator's).
    assert!(eventually(LIMIT, || victim.stats().sent == 300));
    assert_eq!(victim.neighbours(), [stalled], "stuck, not yet dropped");

    // A fresh servent connects and asks: answered within a second all the same.
    let fresh = start(&dir.sub("f"), None, |c| c.degree = 0);
    let t0 = Instant::now();
    fresh.connect(victim.addr()).unwrap();
    fresh.query("song", 2);
    let hit = fresh
        .hits()
        .recv_timeout(Duration::from_secs(1))
        .expect("the fresh servent's query answered within 1 s");
    assert_eq!(hit.http, victim.http_addr());
    assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());

    // More to send than its queue holds: the stalled neighbour is dropped, not waited for.
    // Sent in rounds that the fresh servent takes in before the next, so only the stalled
    // neighbour's queue fills however busy the machine is.
    let base = fresh.stats().received;
    for round in 1..=10u64 {
        for _ in 0..500 {
            victim.query("more", 1);
        }
        assert!(
            eventually(LIMIT, || fresh.stats().received >= base + round * 500),
            "the fresh servent stopped receiving"
        );
    }
    assert!(eventually(LIMIT, || victim.neighbours() == [fresh.addr()]));
    let why = trace.try_iter().find_map(|t| match t {
        Trace::Disconnected { peer, why, .. } if peer == stalled => Some(why),
        _ => None,
    });
    assert_eq!(why.as_deref(), Some("send queue full"));
}

/// Every servent counts what crosses its sockets: each handshake block and each
/// descriptor, at the sender and at the receiver, with the same bytes at both ends.
#[test]
fn each_servent_counts_handshakes_and_descriptors_at_both_ends() {
    let net = servents(3, true, |_| false);
    link(&net, 0, 1);
    link(&net, 1, 2);
    let t = |i: usize| net.s[i].traffic().snapshot(&format!("s{i}"));
    let settled = || {
        let all: Vec<_> = (0..3).map(t).collect();
        let sum = |f: fn(&p2plab::locate::NodeTraffic) -> u64| all.iter().map(f).sum::<u64>();
        sum(|n| n.msgs_sent) == sum(|n| n.msgs_received)
            && sum(|n| n.bytes_sent) == sum(|n| n.bytes_received)
    };
    assert!(eventually(LIMIT, settled));
    // A dialer sends CONNECT and the final OK; the servent it dials answers 200 OK.
    let msgs = |i: usize| (t(i).msgs_sent, t(i).msgs_received);
    assert_eq!([msgs(0), msgs(1), msgs(2)], [(2, 1), (3, 3), (1, 2)]);

    let before: Vec<_> = (0..3).map(t).collect();
    let guid = net.s[0].query("nothing", 7);
    observe::collect(&net.trace, guid, LIMIT).expect("flood ends");
    assert!(eventually(LIMIT, settled));
    let d: Vec<_> = (0..3).map(|i| t(i).since(&before[i])).collect();
    // Down the line, one copy per edge: 0 → 1 → 2, nobody answers.
    assert_eq!(
        d.iter()
            .map(|n| (n.msgs_sent, n.msgs_received))
            .collect::<Vec<_>>(),
        [(1, 0), (1, 1), (0, 1)]
    );
    let query = d[0].bytes_sent;
    assert!(query > 23, "a header and a payload: {query}");
    assert_eq!(
        [d[1].bytes_received, d[1].bytes_sent, d[2].bytes_received],
        [query; 3]
    );
}

/// A keep-alive Ping and the Pong answering it are upkeep at both ends (notes 6.4: the
/// cost of keeping the structure): at the pinging servent as it sends the Ping and reads
/// the Pong, at its neighbour as it reads the Ping and sends the Pong. Without upkeep,
/// what is left is the handshake alone, however many keep-alive rounds have run.
#[test]
fn a_keepalive_ping_and_its_pong_are_upkeep_at_both_ends() {
    let dir = TempDir::new("gnutella-upkeep");
    // Only a pings: a round trip on localhost is far shorter than a second, so each
    // Pong is back before the next round forgets its Ping; b's first round would come
    // long after the test.
    let a = start(&dir.sub("a"), None, |c| {
        c.degree = 0;
        c.keepalive = Duration::from_secs(1);
    });
    let b = start(&dir.sub("b"), None, |c| {
        c.degree = 0;
        c.keepalive = Duration::from_secs(3600);
    });
    a.connect(b.addr()).unwrap();
    let snap = || (a.traffic().snapshot("a"), b.traffic().snapshot("b"));
    // Nothing in flight (each end read what the other sent), at least one round run,
    // and every Ping answered: each end's coordinator has handled what its reader read.
    let quiet = |(a, b): &(NodeTraffic, NodeTraffic)| {
        (a.msgs_sent, a.bytes_sent) == (b.msgs_received, b.bytes_received)
            && (b.msgs_sent, b.bytes_sent) == (a.msgs_received, a.bytes_received)
            && a.upkeep_msgs_sent > 0
            && a.upkeep_msgs_sent == b.upkeep_msgs_received
            && b.upkeep_msgs_sent == a.upkeep_msgs_received
            && a.upkeep_msgs_sent == a.upkeep_msgs_received
    };
    let mut last = snap();
    assert!(
        eventually(LIMIT, || {
            last = snap();
            quiet(&last)
        }),
        "no quiet moment after a keep-alive round: {last:?}"
    );
    let (a, b) = last;
    // a's Pings, each read by b and answered with one Pong, read by a.
    let rounds = a.upkeep_msgs_sent;
    let upkeep = |n: &NodeTraffic| {
        (
            n.upkeep_msgs_sent,
            n.upkeep_msgs_received,
            n.upkeep_bytes_sent,
            n.upkeep_bytes_received,
        )
    };
    let (ping, pong) = (d::HEADER_LEN as u64, d::HEADER_LEN as u64 + 14);
    assert_eq!(upkeep(&a), (rounds, rounds, rounds * ping, rounds * pong));
    assert_eq!(upkeep(&b), (rounds, rounds, rounds * pong, rounds * ping));
    // The dialer sent CONNECT and the final OK, b answered 200 OK: nothing else is use.
    let used = |n: &NodeTraffic| {
        let u = n.without_upkeep();
        (u.msgs_sent, u.msgs_received)
    };
    assert_eq!([used(&a), used(&b)], [(2, 1), (1, 2)]);
}

#[test]
fn a_servent_bound_to_every_interface_advertises_the_address_its_neighbour_reached() {
    let dir = TempDir::new("gnutella-any");
    let c_share = dir.sub("c");
    dir.file("c/notes-p2p.txt", 100, 1);
    let c = start(&c_share, None, |cfg| {
        cfg.listen = "0.0.0.0:0".into();
        cfg.http_listen = "0.0.0.0:0".into();
        cfg.degree = 0;
    });
    let a = start(&dir.sub("a"), None, |cfg| cfg.degree = 0);
    let c_at = SocketAddr::from(([127, 0, 0, 1], c.addr().port()));
    a.connect(c_at).unwrap();
    a.ping(2);
    a.query("notes", 2);
    let hit = a.hits().recv_timeout(LIMIT).expect("a QueryHit from c");
    // Not 0.0.0.0: the address a reached c at, with c's download port.
    assert_eq!(
        hit.http,
        SocketAddr::from(([127, 0, 0, 1], c.http_addr().port()))
    );
    // A Ping by hand: c's Pong carries the address this connection reached it at.
    let (mut w, mut r) = raw_neighbour(&c, 9);
    w.write_all(&header(0x00, 1, 0, 0)).unwrap();
    let pong = loop {
        match d::read_descriptor(&mut r).unwrap() {
            Some(Descriptor {
                payload: Payload::Pong(p),
                ..
            }) => break p,
            Some(_) => continue,
            None => panic!("c closed before its Pong"),
        }
    };
    assert_eq!(pong.ip, std::net::Ipv4Addr::LOCALHOST);
    assert_eq!(pong.port, c.addr().port());
}
