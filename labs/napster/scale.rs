//! `lab-napster --scale` (issue #16): one directory server and 125, 250, 500, 1,000 ...
//! logged-in peers (up to `--peers`), all in this one process on 127.0.0.1. Every peer
//! logs in, shares [`FILES`] files and searches [`SEARCHES`] times. Every one of those
//! messages lands on the directory's one coordinator thread, and every peer holds two of
//! the directory's threads (its reader and its writer, `src/napster/conn.rs`) for as
//! long as it stays logged in: the directory's threads grow as 2N and its work with N,
//! the bottleneck of notes 6.4 (性能瓶颈) as a growth curve. Shared with `bench-napster`.
// Shared by lab-napster and bench-napster; each uses a part.
#![allow(dead_code)]

use p2plab::distribution::chart::{save, svg_axes, Axis, Style};
use p2plab::napster::load::{publish_catalogue, queries_from};
use p2plab::napster::{DirectoryServer, NapsterError, ServerOptions, Session};
use p2plab::scale::{self, CostTable, Measured, Point};
use p2plab::usage::{self, Usage};
use std::path::Path;
use std::time::{Duration, Instant};

/// The smallest directory of the curve; each next one has twice the peers.
pub const FIRST: usize = 125;
/// The most peers the lab is tested with. A peer holds 5 descriptors: its socket and the
/// clone it reads from, the directory's socket and the two clones its writer and its
/// connection registry keep. 3,000 peers are 15,000 of the process's 20,000 files
/// (`ulimit -n`); 4,000 ran out of them (measured: "Too many open files").
pub const MAX_PEERS: usize = 3000;
/// Files each peer shares: 1,000 peers fill the directory with 10,000 files.
pub const FILES: usize = 10;
/// Searches each peer makes once every peer is logged in.
pub const SEARCHES: usize = 10;
/// Peers searching at the same moment (threads of this process, each asking for its
/// share of the peers in turn): the directory answers one search at a time whatever
/// the number, so more would only queue.
pub const SEARCHERS: usize = 8;
/// Longest the directory may take to index every share (shares are not acknowledged).
const INDEX_LIMIT: Duration = Duration::from_secs(60);

/// One directory's figures.
#[derive(Debug, Clone)]
pub struct Row {
    pub n: usize,
    /// Files in the directory once every peer has shared.
    pub files: usize,
    /// Seconds from the first login until every peer's files were indexed.
    pub login_s: f64,
    /// Seconds for every peer's searches, [`SEARCHERS`] at a time.
    pub search_s: f64,
    /// Seconds to close every peer and stop the server.
    pub stop_s: f64,
    pub searches: usize,
    pub results: usize,
    /// Measured with every peer logged in: the directory's threads and sockets and the
    /// peers' own sockets, divided by N.
    pub per_node: Usage,
    /// The machine's 1-minute load average at the end of the searches.
    pub load1: f64,
}

impl Measured for Row {
    fn point(&self) -> Point {
        let run_s = self.login_s + self.search_s + self.stop_s;
        Point::new(self.n, run_s, self.per_node)
    }
}

impl Row {
    pub fn searches_per_s(&self) -> f64 {
        self.searches as f64 / self.search_s
    }

    /// Milliseconds of [`Row::login_s`] per peer: one login and its shares, the peers
    /// one after another.
    pub fn login_ms(&self) -> f64 {
        self.login_s * 1e3 / self.n as f64
    }
}

/// The sizes of a scale run up to `max`, largest first (see
/// `p2plab::scale::sizes_largest_first`).
pub fn sizes(max: usize) -> Vec<usize> {
    scale::sizes_largest_first(FIRST, max)
}

/// Starts a directory, logs in `n` peers that share [`FILES`] files each, waits until
/// every file is indexed, reads the cost per peer, runs every peer's searches, stops.
pub fn measure(n: usize, seed: u64) -> Result<Row, String> {
    let err = |e: NapsterError| format!("N = {n}: {e}");
    let before = Usage::now();
    let mut server = DirectoryServer::start("127.0.0.1:0", ServerOptions::default())
        .map_err(|e| format!("N = {n}: directory: {e}"))?;
    let t = Instant::now();
    let (mut peers, names) = publish_catalogue(server.local_addr(), n, FILES, seed).map_err(err)?;
    let want = (n, names.len());
    if !p2plab::wait::until(INDEX_LIMIT, || server.counts() == want) {
        return Err(format!(
            "N = {n}: the directory holds {:?} (peers, files) after {} s, not {want:?}",
            server.counts(),
            INDEX_LIMIT.as_secs()
        ));
    }
    let login_s = t.elapsed().as_secs_f64();
    let per_node = Usage::now().per_node(&before, n);
    let queries = queries_from(&names, 1000, seed + 1);
    let t = Instant::now();
    let results = search_all(&mut peers, &queries).map_err(err)?;
    let search_s = t.elapsed().as_secs_f64();
    let load1 = usage::load1();
    let t = Instant::now();
    drop(peers);
    server.stop();
    Ok(Row {
        n,
        files: want.1,
        login_s,
        search_s,
        stop_s: t.elapsed().as_secs_f64(),
        searches: n * SEARCHES,
        results,
        per_node,
        load1,
    })
}

/// Every peer searches [`SEARCHES`] times, [`SEARCHERS`] peers at a time; the results.
fn search_all(peers: &mut [Session], queries: &[String]) -> Result<usize, NapsterError> {
    let chunk = peers.len().div_ceil(SEARCHERS).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = peers
            .chunks_mut(chunk)
            .enumerate()
            .map(|(c, group)| {
                s.spawn(move || -> Result<usize, NapsterError> {
                    let mut results = 0;
                    for round in 0..SEARCHES {
                        for (i, peer) in group.iter_mut().enumerate() {
                            let q = &queries[(c * chunk + i + round * 7) % queries.len()];
                            results += peer.search(q, 100)?.len();
                        }
                    }
                    Ok(results)
                })
            })
            .collect();
        handles.into_iter().try_fold(0, |sum, h| {
            let panicked = || NapsterError::Refused("a searcher panicked".into());
            Ok::<_, NapsterError>(sum + h.join().map_err(|_| panicked())??)
        })
    })
}

/// The growth table.
pub fn table(rows: &[Row]) -> CostTable {
    let mut t = CostTable::new(
        &[
            "N",
            "files",
            "log in s",
            "ms/login",
            "searches",
            "search s",
            "searches/s",
            "results/search",
            "stop s",
            "run s",
        ],
        &["load"],
    );
    for r in rows {
        t.row(
            &[
                &r.n,
                &r.files,
                &format!("{:.2}", r.login_s),
                &format!("{:.3}", r.login_ms()),
                &r.searches,
                &format!("{:.2}", r.search_s),
                &format!("{:.0}", r.searches_per_s()),
                &format!("{:.1}", r.results as f64 / r.searches.max(1) as f64),
                &format!("{:.2}", r.stop_s),
                &format!("{:.2}", r.point().run_s),
            ],
            &r.per_node,
            &[&format!("{:.1}", r.load1)],
        );
    }
    t
}

/// Log-log: the seconds grow with N, the cost per peer stays flat (and the directory's
/// total is N times it).
pub fn chart(rows: &[Row], path: &Path) -> Result<(), String> {
    let mut series = scale::series(
        rows,
        &[
            ("log in + share s", "#2ca02c", Style::Points, &|r| r.login_s),
            ("search s", "#9467bd", Style::Squares, &|r| r.search_s),
        ],
    );
    series.extend(scale::cost_series(rows));
    let doc = svg_axes(
        "Napster: one directory, N peers: what grows with N and what stays flat",
        "peers N (log)",
        "seconds; threads and KiB per peer (log)",
        &series,
        Axis::Log,
        Axis::Log,
    );
    save(path, &doc)
}

/// `lab-napster --scale`: measure every size, print the growth table and the N -> 4N
/// ratios, write the chart.
pub fn run(max: usize, seed: u64, path: &Path) -> Result<(), String> {
    println!(
        "lab-napster --scale: one directory on 127.0.0.1; every peer logs in, shares {FILES} files, searches {SEARCHES} times ({SEARCHERS} peers at a time)"
    );
    println!("   peers N = {:?}\n", sizes(max));
    let rows = scale::run_sizes(
        &sizes(max),
        |n| measure(n, seed),
        |r| {
            println!(
                "   N = {:>5}: logged in and indexed in {:.2} s, searched in {:.2} s, stopped in {:.2} s",
                r.n, r.login_s, r.search_s, r.stop_s
            )
        },
    )?;
    let how = "growth of this process's /proc/self figures with every peer logged in, divided by N";
    scale::print_growth_section(&table(&rows), &rows, how);
    println!("   (per peer: the directory's reader and writer threads, its socket and two clones; the peer's socket and its clone)");
    chart(&rows, path)?;
    println!("\nchart: {}", path.display());
    Ok(())
}
