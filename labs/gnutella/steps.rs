//! Steps 3 to 5 of the lab: a newcomer joins, asks and downloads; a servent leaves.

use super::{Lab, WAIT};
use p2plab::gnutella::{hosts, observe, Trace};
use p2plab::share::{fetch, ids};
use p2plab::wait;
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

impl Lab {
    /// A newcomer whose host list is dead joins through the host cache and Ping/Pong.
    pub fn join(&mut self) -> Result<(), String> {
        let (n, d) = (self.p.n, self.p.d);
        for x in &self.s {
            x.set_degree(d); // from now on every servent keeps its degree by itself
        }
        // A port that was just free: nobody answers there.
        let dead = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?;
        let list = self.dir.join("newcomer-hosts.txt");
        hosts::save(&list, &[dead]).map_err(|e| e.to_string())?;
        let folder = self.share(n, false)?;
        let t0 = Instant::now();
        self.start(n, folder, |c| {
            c.host_list = Some(list.clone());
            c.degree = d;
        })?;
        let me = self.s[n].addr();
        println!(
            "\n== 3. newcomer {me} joins (对等方加入); its host list (死党列表) holds only {dead}"
        );
        let mut pongs = Vec::new();
        let end = Instant::now() + WAIT;
        while self.s[n].neighbours().len() < d && Instant::now() < end {
            let Ok(ev) = self.trace.recv_timeout(Duration::from_millis(50)) else {
                continue;
            };
            match ev {
                Trace::DialFailed { at, peer, why } if at == me => {
                    println!("   dial {peer}: {why}")
                }
                Trace::CacheAsked { at, got } if at == me => {
                    println!("   host cache {}: {got} addresses", self.cache.url())
                }
                Trace::Connected {
                    at,
                    peer,
                    outgoing: true,
                } if at == me => println!(
                    "   connected to {} ({} Pongs so far)",
                    self.name(peer),
                    pongs.len()
                ),
                Trace::PongArrived {
                    at,
                    host,
                    files,
                    kbytes,
                } if at == me => pongs.push((host, files, kbytes)),
                _ => {}
            }
        }
        let join_ms = t0.elapsed().as_millis();
        // Pongs still on their way count too: wait until the trace goes quiet.
        while let Ok(ev) = self.trace.recv_timeout(Duration::from_millis(200)) {
            if let Trace::PongArrived {
                at,
                host,
                files,
                kbytes,
            } = ev
            {
                if at == me {
                    pongs.push((host, files, kbytes));
                }
            }
        }
        for (host, files, kb) in pongs.iter().take(3) {
            println!(
                "   Pong: {} shares {files} files, {kb} KB",
                self.name(*host)
            );
        }
        let nb: Vec<String> = self.s[n]
            .neighbours()
            .into_iter()
            .map(|a| self.name(a))
            .collect();
        println!(
            "   {} Pongs in all; after {join_ms} ms its neighbours are {}",
            pongs.len(),
            nb.join(", ")
        );
        self.row(
            "newcomer: Pongs / ms until its degree",
            format!("{} / {join_ms}", pongs.len()),
        );
        Ok(())
    }

    /// The newcomer floods the query; one hit's reverse path; a direct download.
    /// Returns that reverse path (empty without a hit).
    pub fn ask_and_download(&mut self) -> Result<Vec<SocketAddr>, String> {
        let (n, t) = (self.p.n, self.p.t_max);
        let me = self.s[n].addr();
        println!("\n== 4. the newcomer floods 'abbey road' with TTL {t}");
        let guid = self.s[n].query("abbey road", t);
        let f =
            observe::collect(&self.trace, guid, WAIT).map_err(|_| "the flood did not finish")?;
        let hits: Vec<_> = self.s[n].hits().try_iter().collect();
        println!(
            "   reached {} servents with {} messages ({} duplicate copies); {} QueryHits came back",
            f.reached.len(),
            f.messages,
            f.duplicates,
            hits.len()
        );
        let Some(hit) = hits.first() else {
            println!("   no holder within {t} hops: nothing to download (try a larger --ttl)");
            self.row("QueryHit hops back to the newcomer", "no hit".into());
            return Ok(Vec::new());
        };
        let holder = self
            .s
            .iter()
            .find(|x| x.http_addr() == hit.http)
            .map_or(hit.http, |x| x.addr());
        let path = f.reverse_path(holder, me);
        println!("   the QueryHit from {} walked the Query's path backwards (TTL {} = the query's hops):",
            self.name(holder), hit.hops);
        for (k, w) in path.windows(2).enumerate() {
            println!(
                "     hop {}: {} -> {}",
                k + 1,
                self.name(w[0]),
                self.name(w[1])
            );
        }
        // Had the holder been firewalled, we would ask it to connect out with a Push,
        // routed by its servent id along the hit's path.
        let push = self.s[n].push(hit.servent_id, hit.results[0].index);
        let p = observe::collect(&self.trace, push, WAIT).map_err(|_| "the Push got lost")?;
        println!(
            "   a Push for it would travel {} hops and reach {}",
            p.reply_hops.len(),
            p.push_arrived
                .first()
                .map_or("nobody".into(), |a| self.name(*a))
        );
        let dl = hit.download(0).ok_or("a hit without urn:sha1")?;
        let out = self.dir.join("downloads");
        std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
        // From the newcomer's own host: with --netns nothing else can reach the holder.
        let (t0, job) = (Instant::now(), dl.clone());
        self.place.run(n, move || {
            fetch(&job, &out, &mut |_| {}).map_err(|e| e.to_string())
        })??;
        let ms = t0.elapsed().as_secs_f64() * 1000.0;
        println!("   GET http://{}{} straight from the holder: {} bytes in {ms:.1} ms, SHA-1 {}.. checked",
            dl.from, dl.target, dl.size, &ids::to_hex(&dl.sha1)[..12]);
        self.row(
            "QueryHit hops back to the newcomer",
            (path.len() - 1).to_string(),
        );
        self.row("download KiB / ms", format!("{} / {ms:.1}", dl.size / 1024));
        Ok(path)
    }

    /// The first relay of that path (or #1, without one) leaves with a Bye; its
    /// neighbours refill.
    pub fn leave(&mut self, path: &[SocketAddr]) -> Result<(), String> {
        let d = self.p.d;
        let gone = if path.len() > 2 {
            path[1]
        } else {
            self.s[1].addr()
        };
        let label = self.name(gone);
        let v = self
            .s
            .iter()
            .position(|x| x.addr() == gone)
            .ok_or("no such servent")?;
        let orphans = self.s[v].neighbours();
        let degree = |lab: &Lab, a: &SocketAddr| {
            lab.s
                .iter()
                .find(|x| x.addr() == *a)
                .map_or(0, |x| x.neighbours().len())
        };
        let before: Vec<usize> = orphans.iter().map(|o| degree(self, o)).collect();
        println!(
            "\n== 5. {label} leaves (对等方离开): a Bye to each of its {} neighbours",
            orphans.len()
        );
        self.cache.forget(&gone);
        let t0 = Instant::now();
        self.s.remove(v).leave();
        let repaired = wait::until(WAIT, || {
            orphans.iter().all(|o| {
                let nb = self
                    .s
                    .iter()
                    .find(|x| x.addr() == *o)
                    .map(|x| x.neighbours());
                nb.is_none_or(|nb| nb.len() >= d && !nb.contains(&gone))
            })
        });
        let ms = t0.elapsed().as_millis();
        for (o, b) in orphans.iter().zip(&before) {
            println!(
                "   {}: {b} neighbours with {label}, {} now",
                self.name(*o),
                degree(self, o)
            );
        }
        let verdict = if repaired {
            "every one is back to its degree"
        } else {
            "NOT all repaired"
        };
        println!(
            "   {verdict} after {ms} ms (an orphan may end above {d}: other orphans dialled it)"
        );
        self.row(
            "leave: orphans / ms until all back to degree",
            format!(
                "{} / {ms}{}",
                orphans.len(),
                if repaired { "" } else { " (not all)" }
            ),
        );
        Ok(())
    }
}
