//! The first-byte line (issue 14): how long a connection waits, from its first SYN to
//! its first piece byte, plaintext and encrypted (MSE), ours and aria2c's side by side,
//! and aria2c leeching from our seeder (a real client meeting our peer).
//! Real clients pay this on every connection: a refused encrypted handshake and a retry
//! cost a second before any data flows.
//!
//! Measured on the wire, so both programs are timed the same way: dumpcap records the
//! two ports on loopback (snaplen 128: headers only), tshark lists the segments. t0 is
//! the first SYN between the two peers (either may dial); t1 is the first segment
//! towards the leecher after which its connection has carried more than
//! [`PIECE_THRESHOLD`] bytes that way: more than any handshake (MSE's two keys with
//! padding, the BitTorrent and extension handshakes, a bitfield), so it lies inside the
//! first 16 KiB block. Skipped, with a message, when dumpcap or tshark is missing.

use crate::leecher::{time_leecher, Killed};
use crate::scratch::{free_port, wait_until, write_file, Res};
use p2plab::bittorrent::make::make_torrent;
use p2plab::bittorrent::mse::Policy;
use p2plab::bittorrent::node::{seed_paths, Client, ClientConfig};
use p2plab::bittorrent::tracker::{Tracker, TrackerConfig};
use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Bytes towards the leecher on one connection beyond every handshake message.
pub const PIECE_THRESHOLD: u64 = 4096;
/// The torrent of this line: small, the first byte is what counts.
const SIZE: u64 = 8 << 20;
/// libpcap hands packets to dumpcap a block at a time (about a second's timeout).
const CAPTURE_FLUSH: Duration = Duration::from_secs(2);

#[derive(Clone, Copy, PartialEq)]
pub enum Who {
    Ours,
    Aria,
}

/// `(figure name, milliseconds)` for each pair and mode measured: from the first SYN,
/// and from the SYN of the connection that carried the piece (`…_own_connection_ms`).
pub fn measure(dir: &Path, p2plab: &Path, with_aria: bool) -> Res<Vec<(String, f64)>> {
    let have = |t: &str| {
        Command::new(t)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    };
    if !have("dumpcap") || !have("tshark") {
        println!("first-byte line skipped: dumpcap and tshark not found (apt-get install tshark)");
        return Ok(Vec::new());
    }
    let dir = dir.join("first-byte");
    fs::create_dir_all(&dir)?;
    let data = dir.join("data");
    fs::create_dir_all(&data)?;
    let src = data.join("first.bin");
    write_file(&src, SIZE)?;
    let mut out = Vec::new();
    let all = [
        ("ours", (Who::Ours, Who::Ours)),
        ("aria2c", (Who::Aria, Who::Aria)),
        ("ours_to_aria2c", (Who::Ours, Who::Aria)),
    ];
    let pairs = if with_aria { &all[..] } else { &all[..1] };
    for &(name, pair) in pairs {
        for enc in [false, true] {
            let (first_syn, own_syn) = one(&dir, &src, p2plab, pair, enc)?;
            let mode = if enc { "encrypted" } else { "plaintext" };
            let key = format!("first_byte_{name}_{mode}");
            out.push((format!("{key}_ms"), first_syn));
            out.push((format!("{key}_own_connection_ms"), own_syn));
        }
    }
    Ok(out)
}

/// One seeder, one leecher (each ours or aria2c), captured; the milliseconds from t0 to t1.
fn one(
    dir: &Path,
    src: &Path,
    p2plab: &Path,
    (seeder, leecher): (Who, Who),
    enc: bool,
) -> Res<(f64, f64)> {
    // A tracker of its own: a killed aria2c never announces `stopped`.
    let tracker = Tracker::start("127.0.0.1:0", TrackerConfig::default())?;
    let meta = make_torrent(src, 256 * 1024, Some(tracker.announce_url()))?;
    let torrent = dir.join("first.torrent");
    fs::write(&torrent, meta.to_bytes())?;
    let (s, l) = (free_port()?, free_port()?);
    let cap = dir.join("first.pcapng");
    let _ = fs::remove_file(&cap);
    let mut dumpcap = Killed(
        Command::new("dumpcap")
            .args(["-q", "-i", "lo", "-s", "128", "-f"])
            .arg(format!("tcp port {s} or tcp port {l}"))
            .arg("-w")
            .arg(&cap)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    wait_until(|| fs::metadata(&cap).is_ok_and(|m| m.len() > 0))?;
    let out = dir.join("out");
    let _ = fs::remove_dir_all(&out);
    let aria_enc: &[&str] = if enc {
        &["--bt-require-crypto=true", "--bt-min-crypto-level=arc4"]
    } else {
        &[]
    };
    let mut ours_seed = None;
    let mut aria_seed = None;
    match seeder {
        Who::Ours => {
            // As `bt seed` runs: MSE and plaintext both accepted.
            let cfg = ClientConfig {
                listen: format!("127.0.0.1:{s}"),
                encryption: Policy::Prefer,
                ..ClientConfig::default()
            };
            let paths = seed_paths(&meta, src);
            ours_seed = Some(Client::start(meta.clone(), &paths, false, cfg)?);
        }
        Who::Aria => {
            let mut seed = Command::new("aria2c");
            seed.args(crate::aria_common())
                .arg(format!("--dir={}", src.parent().unwrap_or(dir).display()))
                .arg(format!("--listen-port={s}"))
                .args(["--seed-ratio=0.0", "--bt-seed-unverified=true"])
                .args(aria_enc)
                .arg(&torrent)
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            aria_seed = Some(Killed(seed.spawn()?));
        }
    }
    let mut cmd;
    match leecher {
        Who::Ours => {
            cmd = Command::new(p2plab);
            cmd.args(["bt", "get"]).arg(&torrent).arg("-o").arg(&out);
            cmd.args(["--listen", &format!("127.0.0.1:{l}"), "--timeout", "60"]);
            cmd.args(["--encryption", if enc { "require" } else { "off" }]);
        }
        Who::Aria => {
            cmd = Command::new("aria2c");
            cmd.args(crate::aria_common())
                .arg(format!("--dir={}", out.display()))
                .arg(format!("--listen-port={l}"))
                .args(["--seed-time=0"])
                .args(aria_enc)
                .arg(&torrent);
        }
    }
    wait_until(|| tracker.counts(&meta.info_hash).0 == 1)?;
    time_leecher(cmd, leecher == Who::Ours)?;
    std::thread::sleep(CAPTURE_FLUSH);
    Command::new("kill")
        .args(["-INT", &dumpcap.0.id().to_string()])
        .status()?;
    let _ = dumpcap.0.wait();
    if let Some(mut c) = ours_seed.take() {
        c.stop();
    }
    drop(aria_seed);
    let _ = fs::remove_dir_all(&out);
    first_piece_ms(&cap, s, l)
}

/// t1 − t0 of the capture (see the module doc), and t1 − the SYN of the connection that
/// carried the piece (the two differ by the connections that failed first), in milliseconds.
fn first_piece_ms(cap: &Path, seeder: u16, leecher: u16) -> Res<(f64, f64)> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(cap)
        .args([
            "-T",
            "fields",
            "-e",
            "frame.time_epoch",
            "-e",
            "tcp.srcport",
            "-e",
            "tcp.dstport",
        ])
        .args([
            "-e",
            "tcp.flags.syn",
            "-e",
            "tcp.flags.ack",
            "-e",
            "tcp.len",
            "-e",
            "tcp.stream",
        ])
        .stderr(Stdio::null())
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let flag = |f: &str| f == "1" || f.eq_ignore_ascii_case("true");
    let mut t0 = None;
    let mut syn_of: HashMap<&str, f64> = HashMap::new();
    let mut to_leecher: HashMap<&str, u64> = HashMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let [time, sport, dport, syn, ack, len, stream] = f[..] else {
            continue;
        };
        let (Ok(t), Ok(sp), Ok(dp)) = (
            time.parse::<f64>(),
            sport.parse::<u16>(),
            dport.parse::<u16>(),
        ) else {
            continue;
        };
        if flag(syn) && !flag(ack) {
            t0.get_or_insert(t);
            syn_of.entry(stream).or_insert(t);
        }
        if dp == leecher || sp == seeder {
            let sum = to_leecher.entry(stream).or_default();
            *sum += len.parse::<u64>().unwrap_or(0);
            if *sum > PIECE_THRESHOLD {
                let (Some(t0), Some(own)) = (t0, syn_of.get(stream)) else {
                    return Err("piece data before any SYN".into());
                };
                return Ok(((t - t0) * 1000.0, (t - own) * 1000.0));
            }
        }
    }
    Err(format!("no piece data in the capture {}", cap.display()).into())
}
