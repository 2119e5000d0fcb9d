//! Fifty directory servers, each with a logged-in peer, start and stop leaving no
//! thread behind. Alone in its binary because it counts the process's threads.

mod common;

use p2plab::napster::{DirectoryServer, ServerOptions, Session};

#[test]
fn fifty_directory_servers_stop_cleanly() {
    let before = common::thread_count();
    let mut servers: Vec<DirectoryServer> = (0..50)
        .map(|_| DirectoryServer::start("127.0.0.1:0", ServerOptions::default()).unwrap())
        .collect();
    let sessions: Vec<Session> = servers
        .iter()
        .map(|s| Session::login(s.local_addr(), "p", 0).unwrap())
        .collect();
    assert!(common::thread_count() >= before + 100);
    for s in &mut servers {
        s.stop();
    }
    assert_eq!(common::thread_count(), before);
    drop(sessions);
}
