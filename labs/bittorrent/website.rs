//! Step 0 of the handout: the website (BT网站). The notes' story of joining a torrent
//! starts on a site that lists torrents: the publisher uploads the `.torrent`, a newcomer
//! takes it from the site's page (or its magnet link), announces to the tracker the
//! file names and receives peers. Here the tracker serves that site itself
//! (`src/bittorrent/tracker/site/`); a seed and three newcomers run it once, small and
//! fast, before the big swarm of steps 1-4.

use p2plab::bittorrent::make::make_torrent;
use p2plab::bittorrent::metadata::fetch::{fetch, metainfo_from, FetchConfig};
use p2plab::bittorrent::metadata::Magnet;
use p2plab::bittorrent::metainfo::Metainfo;
use p2plab::bittorrent::mse::Policy;
use p2plab::bittorrent::node::{download_paths, seed_paths, Client, ClientConfig};
use p2plab::bittorrent::tracker::msg::{announce, get_file, Announce, Event};
use p2plab::bittorrent::tracker::site::publish::publish;
use p2plab::bittorrent::tracker::site::MAX_UPLOAD;
use p2plab::bittorrent::tracker::{Tracker, TrackerConfig};
use p2plab::rng::Rng;
use p2plab::share::ids::to_hex;
use p2plab::wait;
use std::path::Path;
use std::time::{Duration, Instant};

/// The published file: small, so that the step takes a few seconds.
const FILE_BYTES: usize = 4 << 20;
/// The seed's upload cap: slow enough that the swarm page catches the newcomers mid-way.
const SEED_UP: u64 = 2 << 20;
/// Newcomers, and how each takes the torrent.
const NEWCOMERS: [(&str, How); 3] = [
    ("W1", How::Torrent),
    ("W2", How::Torrent),
    ("W3", How::Magnet),
];
/// How often the lab reloads the swarm page while it waits (a browser: `PAGE_REFRESH`).
const RELOAD: Duration = Duration::from_millis(200);
/// The whole step gives up after this long.
const STEP_LIMIT: Duration = Duration::from_secs(60);

#[derive(Clone, Copy)]
enum How {
    Torrent,
    Magnet,
}

fn err(what: &str) -> impl Fn(std::io::Error) -> String + '_ {
    move |e| format!("website step, {what}: {e}")
}

/// Runs step 0 in `work/website` and prints it.
pub fn website(seed: u64, work: &Path) -> Result<(), String> {
    let dir = work.join("website");
    std::fs::create_dir_all(&dir).map_err(err("work folder"))?;
    let tracker = Tracker::start(
        "127.0.0.1:0",
        TrackerConfig {
            interval: Duration::from_secs(1), // re-announce often: the page shows progress
        },
    )
    .map_err(err("tracker"))?;
    let site = tracker.site_url();
    println!("Step 0. The website (BT网站): the tracker serves {site}");
    let src = dir.join("lecture.bin");
    std::fs::write(&src, Rng::new(seed).bytes(FILE_BYTES)).map_err(err("file"))?;
    let meta = make_torrent(&src, 256 * 1024, Some(tracker.announce_url())).map_err(err("make"))?;
    let said = publish(&site, &meta.to_bytes()).map_err(|e| e.to_string())?;
    println!(
        "  publisher: p2plab bt make lecture.bin --publish {site}  -> {}",
        said.lines().next().unwrap_or("")
    );
    let front = page(&site)?;
    println!("  GET /  lists (name | size | pieces | seeders | leechers | completed | links):");
    for row in rows(&front, "class=\"torrent\"") {
        println!("    {row}");
    }
    let hex = to_hex(&meta.info_hash);
    let mut seeder = client(
        meta.clone(),
        &seed_paths(&meta, &src),
        false,
        "seed",
        Some(SEED_UP),
    )?;
    let started = Instant::now();
    let mut peers = Vec::new();
    for (i, (name, how)) in NEWCOMERS.iter().enumerate() {
        print!("  newcomer {name}: ");
        let got = match how {
            How::Torrent => by_file(&format!("{site}torrent/{hex}.torrent"))?,
            How::Magnet => by_magnet(&magnet_of(&front)?, seed + i as u64)?,
        };
        if got.info_hash != meta.info_hash {
            return Err(format!(
                "website step: {name} got another torrent from the site"
            ));
        }
        let out = dir.join(name);
        peers.push(client(
            got.clone(),
            &download_paths(&got, &out),
            true,
            name,
            None,
        )?);
    }
    // The page shows what the peers last announced (`left`): wait for a newcomer between
    // 0 and 100 %, as a browser on the page would see after a reload or two.
    let swarm_url = format!("{site}torrent/{hex}");
    let mid = |html: &str| {
        html.contains("<progress")
            && rows(html, "class=\"peer\"")
                .iter()
                .any(|r| !r.contains(" 0.0 %") && !r.contains("100.0 %"))
    };
    let mut seen = String::new();
    wait::until_every(STEP_LIMIT, RELOAD, || {
        seen = page(&swarm_url).unwrap_or_default();
        mid(&seen) || peers.iter().all(|p| p.progress().complete)
    });
    println!(
        "  GET /torrent/{}… {:.1} s later (address | peer id | left | progress | last announce):",
        &hex[..8],
        started.elapsed().as_secs_f64()
    );
    for row in rows(&seen, "class=\"peer\"") {
        println!("    {row}");
    }
    let all_done = peers.iter().all(|p| p.wait_complete(STEP_LIMIT));
    // Each newcomer tells the tracker with `event=completed`: wait for the last one.
    let seeds = peers.len() + 1;
    wait::until(STEP_LIMIT, || tracker.counts(&meta.info_hash) == (seeds, 0));
    println!(
        "  {} newcomers {} in {:.1} s; the page now says: {}\n",
        peers.len(),
        if all_done {
            "have the file"
        } else {
            "did NOT finish"
        },
        started.elapsed().as_secs_f64(),
        swarm_line(&page(&swarm_url)?)
    );
    for p in &mut peers {
        p.stop();
    }
    seeder.stop();
    if all_done {
        Ok(())
    } else {
        Err("website step: a newcomer did not finish".into())
    }
}

fn client(
    meta: Metainfo,
    paths: &[std::path::PathBuf],
    writable: bool,
    name: &str,
    up: Option<u64>,
) -> Result<Client, String> {
    let cfg = ClientConfig {
        upload_rate: up,
        time_scale: 0.1,
        ..ClientConfig::default()
    };
    Client::start(meta, paths, writable, cfg).map_err(err(name))
}

/// The page at `url`, as a browser would get it.
fn page(url: &str) -> Result<String, String> {
    let bytes = get_file(url, 4 * MAX_UPLOAD).map_err(|e| format!("GET {url}: {e}"))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// A newcomer clicks the `.torrent` link.
fn by_file(url: &str) -> Result<Metainfo, String> {
    let bytes = get_file(url, MAX_UPLOAD).map_err(|e| format!("GET {url}: {e}"))?;
    let m = Metainfo::from_bytes(&bytes).map_err(|e| format!("{url}: {e}"))?;
    println!(
        "GET {url} -> {} bytes, {} (checked by the same strict decoder)",
        bytes.len(),
        m.info.name
    );
    Ok(m)
}

/// A newcomer clicks the magnet link: asks the tracker for peers, the metadata from them (BEP 9).
fn by_magnet(link: &str, rng_seed: u64) -> Result<Metainfo, String> {
    let m = Magnet::parse(link).map_err(|e| e.to_string())?;
    let tr = m
        .trackers
        .first()
        .ok_or("the magnet link names no tracker")?;
    let a = Announce {
        info_hash: m.info_hash,
        peer_id: *b"-PL0001-magnet------",
        port: 1, // only asking: it stops at once below
        uploaded: 0,
        downloaded: 0,
        left: 1,
        event: Event::Started,
        numwant: 50,
    };
    let peers = announce(tr, &a).map_err(|e| e.to_string())?.peers;
    let _ = announce(
        tr,
        &Announce {
            event: Event::Stopped,
            ..a
        },
    );
    let fc = FetchConfig {
        peer_id: *b"-PL0001-metadata----",
        encryption: Policy::Off,
        rng_seed,
    };
    let info = fetch(&m.info_hash, &peers, &fc)?;
    println!("magnet link -> tracker names {} peer(s) -> info dict ({} bytes) from a peer, hashes to the link's info-hash", peers.len(), info.len());
    metainfo_from(&info, Some(tr))
}

fn magnet_of(html: &str) -> Result<String, String> {
    let at = html
        .find("href=\"magnet:")
        .ok_or("no magnet link on the page")?;
    let link = &html[at + 6..];
    let end = link.find('"').ok_or("unterminated magnet link")?;
    Ok(link[..end].replace("&amp;", "&"))
}

/// The text of the table rows of `class`, tags stripped, cells split by `|`.
fn rows(html: &str, class: &str) -> Vec<String> {
    html.lines()
        .filter(|l| l.contains(class))
        .map(text)
        .collect()
}

fn swarm_line(html: &str) -> String {
    html.lines()
        .find(|l| l.contains("id=\"peers\""))
        .map(text)
        .unwrap_or_default()
}

fn text(line: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    let line = line.replace("</td><td", "</td> | <td");
    for c in line.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}
