//! The steps of lab-napster: one method of [`Lab`] per step of the handout (README.md
//! here), in its order. `main.rs` parses the options and calls them.

use crate::folders::{make_folders, Args, UPLOADER};
use crate::offline::try_without_directory;
use p2plab::napster::load::{publish_catalogue, queries_from, search_load};
use p2plab::napster::{DirectoryServer, Peer, PeerConfig, SearchHit, ServerOptions};
use p2plab::report::Table;
use p2plab::share::{ids, keywords};
use p2plab::wait;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// How long the lab waits for the directory to index what peers announced.
const WAIT: Duration = Duration::from_secs(10);

pub type LabResult<T> = Result<T, Box<dyn std::error::Error>>;

/// The directory server, the peers, and what the steps measured; one method per step
/// of the handout (README.md here), in its order.
pub struct Lab<'a> {
    a: &'a Args,
    root: &'a Path,
    folders: Vec<PathBuf>,
    server: DirectoryServer,
    center: SocketAddr,
    peers: Vec<Peer>,
    /// Files in the directory after step 1.
    files: usize,
    table: Table,
}

impl<'a> Lab<'a> {
    pub fn start(a: &'a Args, root: &'a Path) -> LabResult<Lab<'a>> {
        let folders = make_folders(a, root)?;
        let server = DirectoryServer::start("127.0.0.1:0", ServerOptions::default())?;
        let center = server.local_addr();
        println!("The directory server listens on {center}.");
        Ok(Lab {
            a,
            root,
            folders,
            server,
            center,
            peers: Vec::new(),
            files: 0,
            table: Table::new(&["measured", "value"]),
        })
    }

    /// Waits until the directory holds `n` files (shares are not acknowledged).
    fn wait_indexed(&self, n: usize) -> LabResult<()> {
        if wait::until(WAIT, || self.server.counts().1 >= n) {
            return Ok(());
        }
        let has = self.server.counts().1;
        Err(
            format!("expected the directory to index {n} files within {WAIT:?}; it holds {has}")
                .into(),
        )
    }

    /// Step 1: each peer logs in and shares its folder.
    pub fn announce(&mut self) -> LabResult<()> {
        println!("\n1. Announce: {} peers connect and tell it their IP address and content (告知中心服务器：IP地址，内容):", self.a.peers);
        for (p, folder) in self.folders.iter().enumerate() {
            // The uploader's link is capped so that its big file takes about two seconds.
            let upload_rate = (p == UPLOADER).then_some((self.a.big_mb as u64) << 19);
            let peer = Peer::start(PeerConfig {
                server: self.center,
                nick: format!("peer{p}"),
                share_dir: folder.clone(),
                listen: "127.0.0.1:0".into(),
                upload_rate,
            })?;
            let files = peer.folder().files();
            println!(
                "   {} at {}  shares {} files, e.g. \"{}\"",
                peer.nick(),
                peer.data_addr(),
                files.len(),
                files.first().map(|f| f.name.as_str()).unwrap_or("")
            );
            self.peers.push(peer);
        }
        let shared: usize = self.peers.iter().map(|p| p.folder().files().len()).sum();
        self.wait_indexed(shared)?;
        let (np, nf) = self.server.counts();
        println!("   The directory now knows {np} peers and {nf} files.");
        self.table
            .row(&[&"peers / files in the directory", &format!("{np} / {nf}")]);
        self.files = nf;
        Ok(())
    }

    /// Step 2: peer1 searches for a file of peer 5's (or the last peer's).
    pub fn search(&mut self) -> LabResult<SearchHit> {
        let target = self.peers[5.min(self.a.peers - 1)]
            .folder()
            .files()
            .first()
            .cloned()
            .ok_or("expected peer5 to share a file")?;
        let words: Vec<String> = keywords(&target.name).into_iter().take(3).collect();
        let query = words.join(" ");
        println!("\n2. Search: peer1 searches \"{query}\" and gets a directory back (用户查询 → 获得目录):");
        let t = Instant::now();
        let hits = self.peers[1].search(&query, 100)?;
        let search_ms = t.elapsed().as_secs_f64() * 1e3;
        for (i, h) in hits.iter().enumerate() {
            println!(
                "   [{i}] \"{}\"  {} bytes  held by {} at {}",
                h.file.name, h.file.size, h.nick, h.ip
            );
        }
        self.table.row(&[
            &"one search, request to last result",
            &format!("{search_ms:.2} ms"),
        ]);
        hits.into_iter()
            .find(|h| h.file.name == target.name)
            .ok_or_else(|| format!("expected the directory to find \"{}\"", target.name).into())
    }

    /// Step 3: peer1 locates the holder and fetches the file straight from it.
    pub fn download(&mut self, hit: &SearchHit) -> LabResult<()> {
        println!("\n3. Download: peer1 asks where {} serves it, then fetches it straight from that peer (从XX用户处请求文件):", hit.nick);
        let out = self.root.join("downloads");
        std::fs::create_dir_all(&out)?;
        let traffic = |s: &DirectoryServer| {
            s.stats().bytes_in.load(Ordering::Relaxed) + s.stats().bytes_out.load(Ordering::Relaxed)
        };
        let before = traffic(&self.server);
        let t = Instant::now();
        let path = self.peers[1].download(hit, &out, &mut |_| {})?;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        let through = traffic(&self.server) - before;
        let source = self
            .peers
            .iter()
            .flat_map(|p| p.folder().files())
            .find(|f| f.name == hit.file.name)
            .ok_or("expected the file to be in some peer's folder")?;
        let ok = ids::sha1_file(&path)? == source.sha1;
        println!(
            "   {} bytes in {ms:.1} ms, SHA-1 {}",
            source.size,
            if ok { "matches the source" } else { "DIFFERS" }
        );
        println!(
            "   Bytes through the directory for this download: {through}; bytes peer to peer: {}.",
            source.size
        );
        self.table.row(&[
            &"directory bytes for that download",
            &format!("{through} B"),
        ]);
        self.table
            .row(&[&"file bytes, peer to peer", &format!("{} B", source.size)]);
        Ok(())
    }

    /// Step 4: a big catalogue, then more and more peers searching at once.
    pub fn bottleneck(&mut self) -> LabResult<()> {
        println!("\n4. Bottleneck (性能瓶颈): every search of every peer goes to one server.");
        let a = self.a;
        let (_library, names) =
            publish_catalogue(self.center, a.catalogue.div_ceil(100), 100, a.seed)?;
        self.wait_indexed(self.files + names.len())?;
        println!(
            "   {} more files are announced by library peers; now {} files. Searching peers:",
            names.len(),
            self.server.counts().1
        );
        let queries = queries_from(&names, 2000, a.seed);
        let mut load = Table::new(&["peers searching", "searches/s", "mean latency ms", "p99 ms"]);
        for &c in &a.levels {
            let r = search_load(self.center, c, (4000 / c).max(50), &queries)?;
            let (mean, p99) = (
                r.mean().as_secs_f64() * 1e3,
                r.quantile(0.99).as_secs_f64() * 1e3,
            );
            load.row(&[
                &c,
                &format!("{:.0}", r.per_second()),
                &format!("{mean:.3}"),
                &format!("{p99:.3}"),
            ]);
            self.table.row(&[
                &format!("searches/s, {c} searching at once"),
                &format!("{:.0} (p99 {p99:.2} ms)", r.per_second()),
            ]);
        }
        for line in load.render().lines() {
            println!("   {line}");
        }
        println!("   Throughput stops growing once the server's cores are busy; after that more peers only wait longer.");
        Ok(())
    }

    /// Step 5: the directory dies while peer2 downloads from the uploader.
    pub fn single_point_of_failure(&mut self) -> LabResult<()> {
        println!("\n5. Single point of failure (单点故障): the directory dies during a transfer.");
        let big = self.peers[UPLOADER]
            .folder()
            .files()
            .iter()
            .find(|f| f.name.ends_with(".flac"))
            .cloned()
            .ok_or("expected the uploader to share a .flac file")?;
        let hit = self.peers[2]
            .search("live wembley concert", 10)?
            .into_iter()
            .next()
            .ok_or("expected the directory to find the big file")?;
        let out = self.root.join("downloads");
        let searcher = 4.min(self.a.peers - 1);
        // peer2 downloads on its own thread while another peer (peer4) keeps asking.
        let (low, high) = self.peers.split_at_mut(UPLOADER);
        let (downloader, asker) = (&mut low[2], &mut high[searcher - UPLOADER]);
        let (started_tx, started_rx) = mpsc::channel();
        let (server, table, center) = (&mut self.server, &mut self.table, self.center);
        let (result, took) = thread::scope(|s| -> LabResult<_> {
            let h = s.spawn(|| {
                let mut signalled = false;
                let t = Instant::now();
                let r = downloader.download(&hit, &out, &mut |n| {
                    if !signalled && n > big.size / 4 {
                        signalled = true;
                        let _ = started_tx.send(());
                    }
                });
                (r, t.elapsed())
            });
            started_rx
                .recv_timeout(Duration::from_secs(30))
                .map_err(|_| "expected the big download to pass a quarter within 30 s")?;
            println!(
                "   peer2 is downloading \"{}\" ({} MiB) from peer{UPLOADER}, a quarter done...",
                big.name, self.a.big_mb
            );
            server.stop();
            println!("   ...and the directory server is killed.");
            let failed = try_without_directory(asker, center, &self.folders[0]);
            table.row(&[
                &"directory operations after it died",
                &format!("{failed} of 2 failed"),
            ]);
            Ok(h.join().map_err(|_| "download thread panicked")?)
        })?;
        let path = result?;
        let ok = ids::sha1_file(&path)? == big.sha1;
        println!(
            "   The transfer in flight needs no directory: it completes in {:.2} s, SHA-1 {}.",
            took.as_secs_f64(),
            if ok { "matches" } else { "DIFFERS" }
        );
        self.table.row(&[
            &"transfer in flight when the server died",
            &format!(
                "completed in {:.2} s, SHA-1 {}",
                took.as_secs_f64(),
                if ok { "ok" } else { "BAD" }
            ),
        ]);
        Ok(())
    }

    /// The end table: everything the steps measured.
    pub fn finish(mut self) {
        println!("\n== What was measured\n");
        self.table.print();
        for p in &mut self.peers {
            p.stop();
        }
    }
}
