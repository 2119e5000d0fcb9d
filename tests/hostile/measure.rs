//! Measurements for the closing note of issue 13, ignored by default (timings never
//! decide a test): per listener, how many of [`ATTACKERS`] slow senders the node still
//! holds while a fresh client is served, and that client's latency.
//!
//! `nice -n -5 cargo test --release --test hostile measure -- --ignored --nocapture`

use super::common::TempDir;
use super::*;
use p2plab::share::ShareLimits;

/// Slow senders per listener, each from its own address.
const ATTACKERS: usize = 300;

fn report(listener: &str, attack: &mut [TcpStream], latency: Duration) {
    let held = still_open(attack);
    println!(
        "| {listener:<22} | {ATTACKERS:>9} | {held:>4} | {:>10.1} |",
        latency.as_secs_f64() * 1e3
    );
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let out = f();
    (out, t.elapsed())
}

#[test]
#[ignore]
fn measure_hostile_listeners() {
    println!("| listener               | attackers | held | fresh (ms) |");
    let dir = TempDir::new("measure-share");
    let srv = share::server(&dir, 256, ShareLimits::default());
    let mut a = slow_senders(srv.local_addr(), 10, ATTACKERS, b"G");
    let (_, t) = timed(|| share::download(srv.local_addr(), LIMIT));
    report("share (HTTP GET)", &mut a, t);

    let srv = p2plab::napster::DirectoryServer::start("127.0.0.1:0", Default::default()).unwrap();
    let mut a = slow_senders(srv.local_addr(), 11, ATTACKERS, &[10]);
    let (_, t) = timed(|| {
        let mut s = p2plab::napster::Session::login(srv.local_addr(), "fresh", 6699).unwrap();
        napster::search(&mut s, "x")
    });
    report("napster directory", &mut a, t);

    let dir = TempDir::new("measure-gnutella");
    let v = gnutella::servent(&dir.sub("v"), |_| {});
    let mut a = slow_senders(v.addr(), 12, ATTACKERS, b"GNUTELLA");
    let (_, t) = timed(|| gnutella::knock(v.addr(), Ipv4Addr::LOCALHOST, 9, LIMIT));
    report("gnutella servent", &mut a, t);

    let dir = TempDir::new("measure-bt");
    let (meta, seeder) = bittorrent::seed(&dir, 100_000, 50);
    let mut a = slow_senders(seeder.local_addr(), 13, ATTACKERS, &[19]);
    let (_, t) = timed(|| {
        let mut s = TcpStream::connect(seeder.local_addr()).unwrap();
        s.set_read_timeout(Some(LIMIT)).unwrap();
        bittorrent::handshake(&mut s, meta.info_hash, 200);
    });
    report("bittorrent peer", &mut a, t);

    let tr =
        p2plab::bittorrent::tracker::Tracker::start("127.0.0.1:0", Default::default()).unwrap();
    let mut a = slow_senders(tr.local_addr(), 14, ATTACKERS, b"G");
    let (_, t) = timed(|| {
        let mut s = TcpStream::connect(tr.local_addr()).unwrap();
        s.set_read_timeout(Some(LIMIT)).unwrap();
        s.write_all(b"GET /scrape HTTP/1.0\r\n\r\n").unwrap();
        let mut b = Vec::new();
        s.read_to_end(&mut b).unwrap();
    });
    report("bittorrent tracker", &mut a, t);
}
