//! Upload slots (疏通) on the wire: a slot whose peer says NotInterested is handed on
//! at once, not at the next rechoke. A seed with one regular slot and the optimistic
//! one, four raw peers all interested: A and B hold the slots, C and D wait. When B
//! (optimistic) and then A (regular) lose interest, C and D are unchoked within
//! seconds, while the next rechoke is a minute away.

mod common;

use common::TempDir;
use crossbeam_channel::{unbounded, Receiver, Sender};
use p2plab::bittorrent::make::make_torrent;
use p2plab::bittorrent::msg::handshake::{Handshake, PeerId};
use p2plab::bittorrent::msg::{decode, encode_into, split_frame, Message};
use p2plab::bittorrent::node::{seed_paths, Client, ClientConfig};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Well under the rechoke period (10 s × 6): an unchoke within this came from the
/// handoff, not from a rechoke.
const HANDOFF: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Said {
    Choke,
    Unchoke,
}

/// Connects as `name`, and forwards every Choke and Unchoke the seed sends it.
fn raw_peer(
    addr: SocketAddr,
    info_hash: [u8; 20],
    name: char,
    tx: Sender<(char, Said)>,
) -> (TcpStream, PeerId) {
    let mut id = *b"-XX0001-raw---------";
    id[12] = name as u8;
    let mut s = TcpStream::connect(addr).unwrap();
    Handshake::new(info_hash, id).write_to(&mut s).unwrap();
    Handshake::read_from(&mut s).unwrap();
    let mut r = s.try_clone().unwrap();
    std::thread::spawn(move || {
        let (mut buf, mut chunk) = (Vec::new(), [0u8; 4096]);
        while let Ok(n @ 1..) = r.read(&mut chunk) {
            buf.extend_from_slice(&chunk[..n]);
            while let Ok(Some(total)) = split_frame(&buf, 1 << 20) {
                let said = match decode(&buf[4..total]) {
                    Ok(Message::Choke) => Some(Said::Choke),
                    Ok(Message::Unchoke) => Some(Said::Unchoke),
                    _ => None,
                };
                if let Some(said) = said {
                    let _ = tx.send((name, said));
                }
                buf.drain(..total);
            }
        }
    });
    (s, id)
}

fn say(s: &mut TcpStream, m: Message) {
    let mut out = Vec::new();
    encode_into(&m, &mut out);
    s.write_all(&out).unwrap();
}

fn next(rx: &Receiver<(char, Said)>) -> (char, Said) {
    rx.recv_timeout(HANDOFF)
        .expect("no Choke or Unchoke within 20 s")
}

#[test]
fn a_slot_given_up_is_handed_on_at_once() {
    let dir = TempDir::new("bt-slots");
    let src = dir.file("data.bin", 1 << 20, 3);
    let meta = make_torrent(&src, 256 * 1024, None).unwrap();
    let cfg = ClientConfig {
        use_tracker: false,
        upload_slots: 1,
        time_scale: 6.0, // rechoke every minute
        ..ClientConfig::default()
    };
    let seeder = Client::start(meta.clone(), &seed_paths(&meta, &src), false, cfg).unwrap();
    let addr = seeder.local_addr();
    let (tx, rx) = unbounded();
    let mut peers = std::collections::BTreeMap::new();
    for name in ['A', 'B', 'C', 'D'] {
        let (mut s, id) = raw_peer(addr, meta.info_hash, name, tx.clone());
        say(&mut s, Message::Interested);
        if name <= 'B' {
            // A takes the seed's one regular slot, B the optimistic one.
            assert_eq!(next(&rx), (name, Said::Unchoke));
        }
        peers.insert(name, (s, id));
    }
    // C and D wait: the seed has seen them interested and has no slot left.
    let ids = [peers[&'C'].1, peers[&'D'].1];
    let seen = p2plab::wait::until(HANDOFF, || {
        let stats = seeder.peer_stats();
        ids.iter()
            .all(|id| stats.iter().any(|p| p.peer_id == *id && p.interested))
    });
    assert!(seen, "the seed never saw C and D interested");
    assert!(
        rx.try_recv().is_err(),
        "C or D was unchoked with no slot free"
    );

    // B gives up the optimistic slot: it is choked, and C or D takes its place.
    say(&mut peers.get_mut(&'B').unwrap().0, Message::NotInterested);
    let mut got = vec![next(&rx), next(&rx)];
    got.sort();
    let first = got[1].0;
    assert_eq!(got[0], ('B', Said::Choke), "{got:?}");
    assert!(matches!(got[1], ('C' | 'D', Said::Unchoke)), "{got:?}");

    // A gives up the seed's regular slot: the one still waiting gets it.
    say(&mut peers.get_mut(&'A').unwrap().0, Message::NotInterested);
    let mut got = vec![next(&rx), next(&rx)];
    got.sort();
    let other = if first == 'C' { 'D' } else { 'C' };
    assert_eq!(got, [('A', Said::Choke), (other, Said::Unchoke)]);
}
