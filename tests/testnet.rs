//! Testnet hosts are real hosts: each has its own address, the kernel shapes its links
//! to the rates asked, and nothing is left behind. Needs root and network namespaces;
//! where they are missing each test says so and passes without checking anything.

use p2plab::testnet::{available, netns_list, HostSpec, Rate, Testnet};
use sha1::{Digest, Sha1};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn skip() -> bool {
    match available() {
        Ok(()) => false,
        Err(e) => {
            eprintln!("skipped: {e}");
            true
        }
    }
}

/// A fixed-seed payload, so a wrong byte shows as a different SHA-1.
fn payload(len: usize) -> Vec<u8> {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Sends `data` from host `from` to a listener on host `to`; returns what arrived,
/// the address the receiver saw the sender as, and the transfer time.
fn transfer(
    net: &Testnet,
    from: usize,
    to: usize,
    data: Vec<u8>,
) -> (Vec<u8>, SocketAddr, Duration) {
    let (ready_tx, ready_rx) = mpsc::channel();
    let receiver = net.hosts()[to]
        .spawn("receiver", move || {
            let l = TcpListener::bind("0.0.0.0:0").expect("bind inside the host");
            ready_tx.send(l.local_addr().unwrap().port()).unwrap();
            let (mut s, peer) = l.accept().expect("accept");
            s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            let mut got = Vec::new();
            s.read_to_end(&mut got).expect("read");
            (got, peer)
        })
        .unwrap();
    let port = ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("receiver ready");
    let dest = SocketAddr::from((net.hosts()[to].addr, port));
    let sender = net.hosts()[from]
        .spawn("sender", move || {
            let t = Instant::now();
            let mut s = TcpStream::connect_timeout(&dest, Duration::from_secs(5)).expect("connect");
            s.write_all(&data).expect("write");
            s.shutdown(std::net::Shutdown::Write).unwrap();
            // Wait for the receiver to close: the last byte has arrived.
            let _ = s.read(&mut [0u8; 1]);
            t.elapsed()
        })
        .unwrap();
    let took = sender.join().unwrap().expect("sender entered its host");
    let (got, peer) = receiver.join().unwrap().expect("receiver entered its host");
    (got, peer, took)
}

fn sha1(data: &[u8]) -> [u8; 20] {
    Sha1::digest(data).into()
}

#[test]
fn an_upload_link_is_shaped_and_the_peer_sees_the_host_address() {
    if skip() {
        return;
    }
    let up = Rate::mbit(16); // 2,000,000 bytes/s
    let net = Testnet::create(&[
        HostSpec {
            up: Some(up),
            down: None,
        },
        HostSpec::default(),
    ])
    .unwrap();
    let data = payload(2 << 20);
    let want = sha1(&data);
    let (got, peer, took) = transfer(&net, 0, 1, data);
    assert_eq!(sha1(&got), want, "the bytes crossed the link intact");
    assert_eq!(
        peer.ip(),
        std::net::IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1))
    );
    // The kernel lets at most one burst through early; the rest waits for tokens.
    let floor = ((2 << 20) as f64 - up.burst_bytes() as f64) * 8.0 / up.bits_per_s as f64;
    assert!(
        took.as_secs_f64() >= floor,
        "2 MiB over 16 Mbit/s took {took:?}, less than the link allows ({floor:.2} s)"
    );
}

#[test]
fn a_download_link_is_shaped_on_the_switch_side() {
    if skip() {
        return;
    }
    let down = Rate::mbit(8); // 1,000,000 bytes/s
    let net = Testnet::create(&[
        HostSpec::default(),
        HostSpec {
            up: None,
            down: Some(down),
        },
    ])
    .unwrap();
    let (got, _, took) = transfer(&net, 0, 1, payload(1 << 20));
    assert_eq!(got.len(), 1 << 20);
    let floor = ((1 << 20) as f64 - down.burst_bytes() as f64) * 8.0 / down.bits_per_s as f64;
    assert!(
        took.as_secs_f64() >= floor,
        "1 MiB in {took:?} < {floor:.2} s"
    );
}

#[test]
fn a_host_sees_only_its_own_loopback() {
    if skip() {
        return;
    }
    // A listener in this process's own namespace, on loopback.
    let outside = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = outside.local_addr().unwrap().port();
    let net = Testnet::create(&[HostSpec::default()]).unwrap();
    let reached = net.hosts()[0]
        .spawn("probe", move || {
            TcpStream::connect_timeout(
                &SocketAddr::from(([127, 0, 0, 1], port)),
                Duration::from_secs(2),
            )
            .is_ok()
        })
        .unwrap()
        .join()
        .unwrap()
        .unwrap();
    assert!(
        !reached,
        "127.0.0.1 inside a host is the host's own, not ours"
    );
}

#[test]
fn dropping_a_testnet_deletes_its_namespaces() {
    if skip() {
        return;
    }
    let net = Testnet::create(&[HostSpec::default(), HostSpec::default()]).unwrap();
    let prefix = net.prefix().to_string();
    let mine = |names: Vec<String>| {
        names
            .into_iter()
            .filter(|n| n.starts_with(&format!("{prefix}-")))
            .count()
    };
    assert_eq!(mine(netns_list().unwrap()), 3, "two hosts and the switch");
    drop(net);
    assert_eq!(mine(netns_list().unwrap()), 0, "nothing left behind");
}
