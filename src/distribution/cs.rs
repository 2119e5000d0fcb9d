//! The client-server half of the experiment: one server, upload capped at u_s, serves
//! the same file to N clients at once over real sockets.
//!
//! The server is `src/share`'s HTTP server with one [`TokenBucket`] shared by all its
//! connections, so N clients split u_s between them, just as the formula assumes.
//! Downloads are not capped (loopback is far faster than u_s), so d_min does not bind.
//!
//! [`measure_cs_hosts`] runs the same experiment on a [`Testnet`]: the server on host 0,
//! client i on host i, and no token bucket at all: the kernel's links carry the rates.

use crate::net::TokenBucket;
use crate::share::{fetch, Download, Folder, HttpConfig, ShareServer, SharedFile};
use crate::testnet::Testnet;
use std::io;
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

/// One C/S run.
#[derive(Debug, Clone)]
pub struct CsRun {
    pub n: usize,
    /// From the common start until the last client holds a verified copy.
    pub total: Duration,
    /// Each client's own finish time, from the common start.
    pub finish: Vec<Duration>,
}

/// The scanned folder and its one file: what the server serves.
fn only_file(folder: &Path) -> io::Result<(Arc<Folder>, SharedFile)> {
    let folder = Arc::new(Folder::scan(folder)?);
    let file = folder
        .files()
        .first()
        .cloned()
        .ok_or_else(|| io::Error::other("the folder holds no file"))?;
    Ok((folder, file))
}

/// Serves the only file of `folder` to `n` clients at once with the server's upload
/// capped at `server_up` bytes/s. Each client saves into its own folder under `work`
/// and checks the SHA-1 (a corrupted copy is an error, not a time).
pub fn measure_cs(folder: &Path, n: usize, server_up: u64, work: &Path) -> io::Result<CsRun> {
    let (folder, file) = only_file(folder)?;
    let bucket = TokenBucket::new(server_up);
    let cfg = HttpConfig {
        rate: Some(bucket.clone()),
        max_conns: n + 8,
    };
    let server = ShareServer::start(folder, "127.0.0.1:0", cfg)?;
    let d = Download::by_index(
        server.local_addr(),
        file.index,
        &file.name,
        file.size,
        file.sha1,
    );
    let start = Arc::new(Barrier::new(n + 1));
    let mut handles = Vec::with_capacity(n);
    for i in 0..n {
        let out = work.join(format!("client{i}"));
        std::fs::create_dir_all(&out)?;
        let _ = std::fs::remove_file(out.join(&file.name));
        let (d, start) = (d.clone(), start.clone());
        handles.push(
            thread::Builder::new()
                .name(format!("cs-client-{i}"))
                .spawn(move || {
                    start.wait();
                    let t = Instant::now();
                    fetch(&d, &out, &mut |_| {}).map(|_| t.elapsed())
                })?,
        );
    }
    // Clock first, then an empty bucket, then go: the tokens saved while the clients
    // were starting are thrown away, so no run can beat the bound N·F/u_s.
    let t0 = Instant::now();
    bucket.empty();
    start.wait();
    let mut finish = Vec::with_capacity(n);
    for h in handles {
        let took = h
            .join()
            .map_err(|_| io::Error::other("client thread panicked"))?;
        finish.push(took.map_err(io::Error::other)?);
    }
    Ok(CsRun {
        n,
        total: t0.elapsed(),
        finish,
    })
}

/// The port the server listens on in a testnet: every host has its own address, so a
/// fixed, well-known port is free on host 0.
pub const HOSTS_PORT: u16 = 8080;

/// [`measure_cs`] with every machine real: the server on host 0 of `net`, whose link
/// carries u_s, and client i on host i (hosts 1 ..= n). Nothing is rate-limited in code.
pub fn measure_cs_hosts(net: &Testnet, folder: &Path, n: usize, work: &Path) -> io::Result<CsRun> {
    let hosts = net.hosts();
    if hosts.len() < n + 1 {
        return Err(io::Error::other(format!(
            "{n} clients need {} hosts, the testnet has {}",
            n + 1,
            hosts.len()
        )));
    }
    let (folder, file) = only_file(folder)?;
    let listen = format!("{}:{HOSTS_PORT}", hosts[0].addr);
    let cfg = HttpConfig {
        rate: None,
        max_conns: n + 8,
    };
    let server = hosts[0]
        .spawn("cs-server", move || {
            ShareServer::start(folder, &listen, cfg)
        })?
        .join()
        .map_err(|_| io::Error::other("server thread panicked"))?
        .map_err(io::Error::other)??;
    let d = Download::by_index(
        server.local_addr(),
        file.index,
        &file.name,
        file.size,
        file.sha1,
    );
    // Dropping `go` starts every client at once; unlike a barrier, a client whose host
    // could not be entered cannot leave the others waiting.
    let (go, wait) = crossbeam_channel::bounded::<()>(0);
    let mut handles = Vec::with_capacity(n);
    for (i, host) in hosts[1..=n].iter().enumerate() {
        let out = work.join(format!("client{i}"));
        std::fs::create_dir_all(&out)?;
        let _ = std::fs::remove_file(out.join(&file.name));
        let (d, wait) = (d.clone(), wait.clone());
        handles.push(host.spawn(&format!("cs-client-{i}"), move || {
            let _ = wait.recv();
            let t = Instant::now();
            fetch(&d, &out, &mut |_| {}).map(|_| t.elapsed())
        })?);
    }
    let t0 = Instant::now();
    drop(go);
    let mut finish = Vec::with_capacity(n);
    for h in handles {
        let took = h
            .join()
            .map_err(|_| io::Error::other("client thread panicked"))?
            .map_err(io::Error::other)?;
        finish.push(took.map_err(io::Error::other)?);
    }
    drop(server);
    Ok(CsRun {
        n,
        total: t0.elapsed(),
        finish,
    })
}
