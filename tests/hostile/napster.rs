//! The Napster directory against slow logins, a share whose name no result frame can
//! carry, and a peer that shares without end.

use super::*;
use p2plab::napster::state::MAX_FILES_PER_PEER;
use p2plab::napster::{DirectoryServer, FileMeta, ServerOptions, Session};

pub fn server(max_conns: usize) -> DirectoryServer {
    let opts = ServerOptions {
        max_conns,
        login_timeout: Duration::from_millis(300),
        ..ServerOptions::default()
    };
    DirectoryServer::start("127.0.0.1:0", opts).unwrap()
}

fn meta(name: &str) -> FileMeta {
    FileMeta {
        name: name.into(),
        md5: "0".repeat(40),
        size: 1,
        bitrate: 128,
        freq: 44100,
        seconds: 60,
    }
}

/// Names the search for `words` returns.
pub fn search(s: &mut Session, words: &str) -> Vec<String> {
    let hits = s.search(words, 100).unwrap();
    hits.into_iter().map(|h| h.file.name).collect()
}

#[test]
fn slow_logins_neither_lock_out_a_peer_nor_cost_anyone_files() {
    let srv = server(8);
    let mut alice = Session::login(srv.local_addr(), "alice", 6699).unwrap();
    alice.share(&meta("abbey road.mp3")).unwrap();
    // Four times the slots, each stuck in the middle of a login frame's header.
    let mut attack = slow_senders(srv.local_addr(), 3, 32, &[10]);
    assert_eq!(attack.len(), 32);
    let (found, mut bob) = served("a login and a search during the attack", |_| {
        let mut bob = Session::login(srv.local_addr(), "bob", 6699).unwrap();
        (search(&mut bob, "abbey"), bob)
    });
    assert_eq!(found, ["abbey road.mp3"], "alice's share survived");
    for s in &mut attack {
        assert!(closed_within(s, Duration::from_secs(5)));
    }
    // A search never returns the asker's own files: bob asks; alice is still there.
    assert_eq!(search(&mut bob, "road"), ["abbey road.mp3"]);
    assert!(search(&mut alice, "road").is_empty());
}

#[test]
fn a_name_no_result_can_carry_is_refused_and_ends_no_session() {
    let srv = server(64);
    let mut mallory = Session::login(srv.local_addr(), "mallory", 6699).unwrap();
    // The longest name a Share frame carries; its result (nick, address) would not fit.
    let long = (3900..4096)
        .map(|n| format!("{} song.mp3", "x".repeat(n)))
        .take_while(|name| p2plab::napster::Msg::Share(meta(name)).encode().is_ok())
        .last()
        .unwrap();
    mallory.share(&meta(&long)).unwrap();
    mallory.share(&meta("fine song.mp3")).unwrap();
    let mut bob = Session::login(srv.local_addr(), "bob", 6699).unwrap();
    let found = served("a search matching the long name", |_| {
        search(&mut bob, "song")
    });
    assert_eq!(found, ["fine song.mp3"]);
    // Nobody was disconnected: both sessions still search.
    assert_eq!(search(&mut bob, "fine"), ["fine song.mp3"]);
    assert!(search(&mut mallory, "fine").is_empty()); // its own: never returned
}

#[test]
fn a_peer_sharing_without_end_keeps_only_its_newest_files() {
    let srv = server(64);
    let mut bob = Session::login(srv.local_addr(), "bob", 6699).unwrap();
    bob.share(&meta("bob only.mp3")).unwrap();
    let mut hog = Session::login(srv.local_addr(), "hog", 6699).unwrap();
    for n in 0..MAX_FILES_PER_PEER + 10 {
        hog.share(&meta(&format!("hog {n}.mp3"))).unwrap();
    }
    // A search on hog's connection is handled after every share before it.
    assert!(search(&mut hog, "hog").is_empty()); // its own files are never returned
    let last = format!("hog {}.mp3", MAX_FILES_PER_PEER + 9);
    let newest = format!("{}", MAX_FILES_PER_PEER + 9);
    assert_eq!(search(&mut bob, &newest), [last]);
    let oldest = search(&mut bob, "0");
    assert!(oldest.iter().all(|n| n != "hog 0.mp3"), "the oldest went");
    // The counters are stored after each batch of events: wait for them, not a sleep.
    let n = MAX_FILES_PER_PEER + 1;
    assert!(p2plab::wait::until(LIMIT, || srv.counts().1 == n));
    let found = served("another peer's search", |_| search(&mut hog, "only"));
    assert_eq!(found, ["bob only.mp3"], "bob's file is still there");
}
