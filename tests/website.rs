//! The tracker's website (BT网站, notes 6.5; issue 14), over real sockets on 127.0.0.1:
//! a torrent is published by POST, listed on `GET /` (its name escaped), downloaded
//! byte for byte, and its swarm page shows the peers that announced; oversized and
//! invalid uploads are refused with a reason and change nothing; a `registered_only`
//! tracker refuses announces for torrents it does not list.

use p2plab::bittorrent::metainfo::{FileEntry, Info, Metainfo};
use p2plab::bittorrent::tracker::msg::{announce, Announce, Event, TrackerError};
use p2plab::bittorrent::tracker::site::publish::publish;
use p2plab::bittorrent::tracker::site::{MAX_UPLOAD, PAGE_REFRESH};
use p2plab::bittorrent::tracker::{Tracker, TrackerConfig, TrackerLimits};
use p2plab::share::ids::to_hex;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Generous: two cores shared with other builds.
const LIMIT: Duration = Duration::from_secs(60);
/// A name a hostile uploader might choose: markup, quotes, an ampersand.
const NASTY: &str = "<b onclick=x>song & \"more\".mp3";

fn tracker(registered_only: bool) -> Tracker {
    let lim = TrackerLimits {
        registered_only,
        ..TrackerLimits::default()
    };
    Tracker::start_with("127.0.0.1:0", TrackerConfig::default(), lim).unwrap()
}

/// A one-file torrent of `size` bytes in 256 KiB pieces (the hashes need not match
/// any data: the site never reads the file).
fn torrent(name: &str, size: u64, announce: &str) -> Metainfo {
    let pieces = size.div_ceil(1 << 18) as usize;
    let info = Info {
        name: name.into(),
        piece_length: 1 << 18,
        pieces: (0..pieces).map(|i| [i as u8; 20]).collect(),
        files: vec![FileEntry {
            path: vec![],
            length: size,
        }],
        multi_file: false,
    };
    Metainfo::new(info, Some(announce.into()))
}

/// Sends `request` as is; the status code and the body of the answer.
fn http(t: &Tracker, request: &[u8]) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(t.local_addr()).unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    s.write_all(request).unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let at = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status = String::from_utf8_lossy(&all[..at]);
    let code = status.split(' ').nth(1).unwrap().parse().unwrap();
    (code, all.split_off(at + 4))
}

fn get(t: &Tracker, target: &str) -> (u16, String) {
    let req = format!("GET {target} HTTP/1.0\r\nHost: {}\r\n\r\n", t.local_addr());
    let (code, body) = http(t, req.as_bytes());
    (code, String::from_utf8(body).unwrap())
}

fn post(t: &Tracker, body: &[u8]) -> (u16, String) {
    let mut req = format!(
        "POST /publish HTTP/1.0\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    let (code, body) = http(t, &req);
    (code, String::from_utf8(body).unwrap())
}

fn ann(hash: [u8; 20], id: &[u8; 20], port: u16, left: u64) -> Announce {
    Announce {
        info_hash: hash,
        peer_id: *id,
        port,
        uploaded: 0,
        downloaded: 0,
        left,
        event: Event::Started,
        numwant: 50,
    }
}

#[test]
fn a_published_torrent_is_listed_escaped_and_downloads_byte_for_byte() {
    let t = tracker(false);
    let meta = torrent(NASTY, 3 << 20, &t.announce_url());
    let bytes = meta.to_bytes();
    let said = publish(&t.site_url(), &bytes).unwrap();
    let hex = to_hex(&meta.info_hash);
    assert!(said.starts_with("listed ") && said.contains(&hex), "{said}");

    let (code, page) = get(&t, "/");
    assert_eq!(code, 200);
    assert!(page.contains("&lt;b onclick=x&gt;song &amp; &quot;more&quot;.mp3"));
    assert!(!page.contains("<b onclick"), "the name is never markup");
    assert!(
        page.contains("3.0 MiB") && page.contains(">12<"),
        "size, pieces"
    );
    assert!(page.contains(&format!(
        "href=\"magnet:?xt=urn:btih:{hex}&amp;dn=%3Cb%20onclick%3Dx%3Esong"
    )));
    assert!(page.contains(&format!("href=\"/torrent/{hex}.torrent\"")));

    let mut s = TcpStream::connect(t.local_addr()).unwrap();
    write!(s, "GET /torrent/{hex}.torrent HTTP/1.0\r\n\r\n").unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    assert!(all.starts_with(b"HTTP/1.0 200 OK\r\n"));
    assert!(all.ends_with(&bytes), "the bytes as published");
    let url = format!("{}torrent/{hex}.torrent", t.site_url());
    let fetched = p2plab::bittorrent::tracker::msg::get_file(&url, MAX_UPLOAD).unwrap();
    assert_eq!(fetched, bytes);
    assert_eq!(
        Metainfo::from_bytes(&fetched).unwrap().info_hash,
        meta.info_hash
    );

    let again = publish(&t.site_url(), &bytes).unwrap();
    assert!(again.starts_with("already listed"), "{again}");
}

#[test]
fn the_swarm_page_shows_each_peer_and_its_progress_after_announces() {
    let t = tracker(false);
    let meta = torrent("file.bin", 4 << 20, &t.announce_url());
    publish(&t.site_url(), &meta.to_bytes()).unwrap();
    let hash = meta.info_hash;
    let url = t.announce_url();
    announce(&url, &ann(hash, b"-PL0001-seed--------", 7001, 0)).unwrap();
    announce(&url, &ann(hash, b"-PL0001-<leech>-----", 7002, 1 << 20)).unwrap();
    announce(&url, &ann(hash, b"-PL0001-new---------", 7003, 4 << 20)).unwrap();

    let (code, page) = get(&t, &format!("/torrent/{}", to_hex(&hash)));
    assert_eq!(code, 200);
    assert!(page.contains(&format!(
        "http-equiv=\"refresh\" content=\"{PAGE_REFRESH}\""
    )));
    assert!(page.contains("<span id=\"peers\">3</span> peers: 1 seeders, 2 leechers"));
    for (addr, pct) in [("7001", "100.0"), ("7002", "75.0"), ("7003", "0.0")] {
        let row = page
            .lines()
            .find(|l| l.contains(&format!("127.0.0.1:{addr}")))
            .unwrap_or_else(|| panic!("no row for {addr} in {page}"));
        assert!(row.contains(&format!("value=\"{pct}\"")), "{row}");
    }
    assert!(
        page.contains("-PL0001-&lt;leech&gt;-----"),
        "peer ids escaped"
    );
    let (_, index) = get(&t, "/");
    assert!(index.contains(">1</td><td class=\"n\">2</td><td class=\"n\">0<"));

    // A torrent only announced is listed by its info-hash, with a magnet link only.
    announce(&url, &ann([0x5a; 20], b"-PL0001-other-------", 7004, 9)).unwrap();
    let (_, index) = get(&t, "/");
    assert!(index.contains(&format!("<code>{}</code>", "5a".repeat(20))));
    assert!(index.contains("(announced, not published)"));
    let (code, _) = get(&t, &format!("/torrent/{}.torrent", "5a".repeat(20)));
    assert_eq!(code, 404, "no file for a torrent nobody published");
    assert_eq!(get(&t, &format!("/torrent/{}", "77".repeat(20))).0, 404);
    assert_eq!(get(&t, "/torrent/nothex").0, 404);
}

#[test]
fn oversized_and_invalid_uploads_are_refused_and_change_nothing() {
    let t = tracker(false);
    // Too large: refused from the header, before the body is read; and when sent whole.
    let head = format!(
        "POST /publish HTTP/1.0\r\nContent-Length: {}\r\n\r\n",
        u64::MAX
    );
    let (code, body) = http(&t, head.as_bytes());
    assert_eq!(code, 413);
    assert!(String::from_utf8_lossy(&body).contains("MAX_UPLOAD"));
    let (code, why) = post(&t, &vec![b'd'; MAX_UPLOAD as usize + 1]);
    assert_eq!(code, 413, "{why}");
    match publish(&t.site_url(), &vec![b'd'; MAX_UPLOAD as usize + 1]) {
        Err(TrackerError::Failure(why)) => assert!(why.contains("413"), "{why}"),
        other => panic!("{other:?}"),
    }
    // Not a torrent, a torrent with a byte too many, a torrent missing its pieces.
    let good = torrent("ok.bin", 1 << 20, &t.announce_url()).to_bytes();
    let mut trailing = good.clone();
    trailing.push(b'x');
    for bad in [&b"hello"[..], &trailing, &good[..good.len() - 1]] {
        let (code, why) = post(&t, bad);
        assert_eq!(code, 400, "{why}");
        assert!(why.starts_with("not a valid .torrent: "), "{why}");
    }
    // No length: the site cannot know where the file ends.
    let (code, _) = http(&t, b"POST /publish HTTP/1.0\r\n\r\nd4:infoe");
    assert_eq!(code, 411);
    let (_, index) = get(&t, "/");
    assert!(index.contains("No torrent yet."), "{index}");
    // The site still serves.
    let (code, why) = post(&t, &good);
    assert_eq!(code, 201, "{why}");
}

#[test]
fn a_registered_only_tracker_refuses_an_unknown_info_hash() {
    let t = tracker(true);
    let meta = torrent("listed.bin", 1 << 20, &t.announce_url());
    let url = t.announce_url();
    let id = b"-PL0001-aaaaaaaaaaaa";
    match announce(&url, &ann(meta.info_hash, id, 7001, 0)) {
        Err(TrackerError::Failure(why)) => assert!(why.contains("not registered"), "{why}"),
        other => panic!("announced before it was published: {other:?}"),
    }
    assert_eq!(t.held(), (0, 0), "a refused announce leaves no entry");
    publish(&t.site_url(), &meta.to_bytes()).unwrap();
    announce(&url, &ann(meta.info_hash, id, 7001, 0)).unwrap();
    assert_eq!(t.counts(&meta.info_hash), (1, 0));
    assert!(announce(&url, &ann([9; 20], id, 7001, 0)).is_err());
    let (_, index) = get(&t, "/");
    assert!(index.contains("Only the torrents listed here are tracked."));
}

#[test]
fn bt_make_publish_uploads_what_it_wrote() {
    let t = tracker(true);
    let dir = std::env::temp_dir().join(format!("p2plab-web-make-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("notes.bin");
    std::fs::write(&file, vec![7u8; 300_000]).unwrap();
    let out = dir.join("notes.torrent");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_p2plab"))
        .args(["bt", "make"])
        .arg(&file)
        .arg("-o")
        .arg(&out)
        .args(["--announce", &t.announce_url(), "--publish", &t.site_url()])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(
        run.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        said.contains("published to") && said.contains("listed notes.bin"),
        "{said}"
    );
    let written = std::fs::read(&out).unwrap();
    let meta = Metainfo::from_bytes(&written).unwrap();
    let (code, page) = get(&t, "/");
    assert_eq!(code, 200);
    assert!(page.contains(">notes.bin</a>"));
    let url = format!(
        "{}torrent/{}.torrent",
        t.site_url(),
        to_hex(&meta.info_hash)
    );
    assert_eq!(
        p2plab::bittorrent::tracker::msg::get_file(&url, MAX_UPLOAD).unwrap(),
        written
    );
    // Now registered: announces for it are tracked.
    announce(
        &t.announce_url(),
        &ann(meta.info_hash, b"-PL0001-bbbbbbbbbbbb", 7001, 0),
    )
    .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_upload_trickled_past_the_deadline_is_cut_and_the_site_still_serves() {
    let lim = TrackerLimits {
        head_deadline: Duration::from_millis(300),
        ..TrackerLimits::default()
    };
    let t = Tracker::start_with("127.0.0.1:0", TrackerConfig::default(), lim).unwrap();
    let mut s = TcpStream::connect(t.local_addr()).unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    s.write_all(b"POST /publish HTTP/1.0\r\nContent-Length: 1000\r\n\r\nd8:announce")
        .unwrap();
    // The rest never comes: the listener closes the connection at its opening deadline.
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest); // a reset or a clean close, never an answer
    assert!(
        !rest.starts_with(b"HTTP/1.0 201"),
        "{}",
        String::from_utf8_lossy(&rest)
    );
    let (code, index) = get(&t, "/");
    assert_eq!(code, 200);
    assert!(index.contains("No torrent yet."));
}
