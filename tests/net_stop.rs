//! Stopping servers leaves no thread behind. Alone in its own test binary because it
//! counts the process's threads, which tests running beside it would change.

mod common;

use common::{echo, echo_config};
use p2plab::net::Server;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

#[test]
fn fifty_servers_start_and_stop_leaving_no_thread() {
    let before = common::thread_count();
    let mut clients = Vec::new();
    let mut servers: Vec<Server> = (0..50)
        .map(|i| Server::bind("127.0.0.1:0", echo_config(&format!("echo{i}")), echo).unwrap())
        .collect();
    // A connected, silent client on each: its thread is blocked in read when we stop.
    for s in &servers {
        let mut c = TcpStream::connect(s.local_addr()).unwrap();
        c.write_all(b"hi").unwrap();
        let mut two = [0u8; 2];
        c.read_exact(&mut two).unwrap();
        clients.push(c);
    }
    assert!(
        common::thread_count() >= before + 100,
        "accept + connection threads running"
    );
    let t = Instant::now();
    for s in &mut servers {
        s.stop();
    }
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "stop does not wait for peers"
    );
    assert_eq!(common::thread_count(), before, "every thread joined");
    // The clients see the close.
    let mut b = [0u8; 1];
    assert_eq!(clients[0].read(&mut b).unwrap_or(0), 0);
}
