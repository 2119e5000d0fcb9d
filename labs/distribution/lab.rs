//! The lab's steps, one method each, in the handout's order (README.md here).

use crate::report::{self, Row};
use crate::Args;
use p2plab::bittorrent::swarm::{run_swarm, run_swarm_hosts, SwarmConfig};
use p2plab::distribution::cs::{measure_cs, measure_cs_hosts};
use p2plab::distribution::{cs_bound, p2p_bound};
use p2plab::rng::Rng;
use p2plab::testnet::{self, HostSpec, Rate, Testnet};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const MIB: f64 = 1024.0 * 1024.0;
/// How long one swarm may take before the lab gives up on it.
const SWARM_TIMEOUT: Duration = Duration::from_secs(300);

/// The experiment: its options, the file size F in bytes, a scratch folder, and what was
/// measured so far (one row per N).
pub struct Lab {
    pub a: Args,
    f: f64,
    work: PathBuf,
    rows: Vec<Row>,
}

impl Lab {
    pub fn new(a: Args, work: &Path) -> Lab {
        let f = (a.file_mb * MIB).round();
        let rows =
            a.ns.iter()
                .map(|&n| {
                    let p = p2p_bound(f, a.server, f64::INFINITY, &vec![a.peer; n]);
                    Row {
                        n,
                        cs_bound: cs_bound(f, n, a.server, f64::INFINITY).seconds,
                        cs: None,
                        p2p_bound: p.seconds,
                        binding: p.binding.to_string(),
                        p2p: None,
                        cs_real: None,
                        p2p_real: None,
                    }
                })
                .collect();
        Lab {
            a,
            f,
            work: work.to_path_buf(),
            rows,
        }
    }

    /// The two bounds of the notes, with this run's F, u_s and u.
    pub fn bounds(&self) {
        println!("== Distribution time, client-server vs P2P (notes 6.2, 文件分发 C/S vs P2P)\n");
        println!(
            "F = {:.1} MiB, u_s = {:.1} MiB/s, u = {:.1} MiB/s per peer, d_min = loopback (far above u_s)",
            self.f / MIB,
            self.a.server / MIB,
            self.a.peer / MIB
        );
        println!("   D_cs  >= max{{N·F/u_s, F/d_min}}");
        println!("   D_p2p >= max{{F/u_s, F/d_min, N·F/(u_s + Σu_i)}}\n");
    }

    /// Step 1: one HTTP server, its upload capped at u_s, serves N clients at once.
    pub fn client_server(&mut self) -> Result<(), String> {
        println!("1. Client-server: one HTTP server, its upload capped at u_s, serves N clients at once.");
        let src = self.work.join("cs-src");
        let file = src.join("lecture.mp4");
        std::fs::create_dir_all(&src)
            .and_then(|()| std::fs::write(&file, Rng::new(self.a.seed).bytes(self.f as usize)))
            .map_err(|e| format!("cannot write the file to serve, {}: {e}", file.display()))?;
        for r in &mut self.rows {
            let run = measure_cs(&src, r.n, self.a.server as u64, &self.work.join("cs")).map_err(
                |e| {
                    format!(
                        "client-server, N = {}: expected every client to hold a verified copy: {e}",
                        r.n
                    )
                },
            )?;
            let t = run.total.as_secs_f64();
            println!(
                "   N = {:>2}: every copy verified after {t:>6.2} s; bound N·F/u_s = {:>6.2} s",
                r.n, r.cs_bound
            );
            r.cs = Some(t);
        }
        println!();
        Ok(())
    }

    /// Step 2: a BitTorrent swarm; the seed uploads at u_s, every leecher at u.
    pub fn p2p(&mut self) -> Result<(), String> {
        println!("2. P2P: a BitTorrent swarm; the seed uploads at u_s, every leecher at u (rarest first, tit-for-tat).");
        for r in &mut self.rows {
            let mut cfg = SwarmConfig::uniform(
                r.n,
                self.f as u64,
                Some(self.a.server as u64),
                Some(self.a.peer as u64),
                self.work.join(format!("p2p-{}", r.n)),
            );
            cfg.seed = self.a.seed;
            cfg.time_scale = self.a.time_scale;
            cfg.timeout = SWARM_TIMEOUT;
            let report = run_swarm(&cfg, None)
                .map_err(|e| format!("P2P, N = {}: the swarm could not run: {e}", r.n))?;
            let _ = std::fs::remove_dir_all(&cfg.work_dir); // N copies of F: free the disk
            let t = report
                .distribution_time
                .ok_or_else(|| {
                    format!(
                        "P2P, N = {}: expected every leecher to finish within {} s; the swarm did not",
                        r.n,
                        SWARM_TIMEOUT.as_secs()
                    )
                })?
                .as_secs_f64();
            if !report.all_verified {
                return Err(format!(
                    "P2P, N = {}: expected every copy to match the seed's SHA-1; one did not",
                    r.n
                ));
            }
            println!(
                "   N = {:>2}: every copy verified after {t:>6.2} s; bound {:>6.2} s ({}); seed uploaded {:.1} copies",
                r.n,
                r.p2p_bound,
                r.binding,
                report.seed_uploaded as f64 / self.f
            );
            r.p2p = Some(t);
        }
        println!();
        Ok(())
    }

    /// Step 3 (`--netns`): both runs again with every peer on its own host of a testnet,
    /// u_s and u set on the hosts' links by the kernel and no token bucket in our code.
    pub fn real_links(&mut self) -> Result<(), String> {
        println!("3. Real links: the server (or seed) on host 0, peer i on host i, rates shaped by the kernel (tbf), no token buckets.");
        if let Err(e) = testnet::available() {
            println!("   skipped: {e}\n");
            return Ok(());
        }
        testnet::cleanup_on_interrupt();
        let src = self.work.join("cs-src");
        let file = src.join("lecture.mp4");
        if !file.exists() {
            std::fs::create_dir_all(&src)
                .and_then(|()| std::fs::write(&file, Rng::new(self.a.seed).bytes(self.f as usize)))
                .map_err(|e| format!("cannot write the file to serve, {}: {e}", file.display()))?;
        }
        for r in &mut self.rows {
            let mut specs = vec![HostSpec {
                up: Some(Rate::bytes_per_s(self.a.server as u64)),
                down: None,
            }];
            specs.extend((0..r.n).map(|_| HostSpec {
                up: Some(Rate::bytes_per_s(self.a.peer as u64)),
                down: None,
            }));
            let net = Testnet::create(&specs)
                .map_err(|e| format!("N = {}: cannot make {} hosts: {e}", r.n, r.n + 1))?;
            if !self.a.skip_cs {
                let run = measure_cs_hosts(&net, &src, r.n, &self.work.join("cs-real"))
                    .map_err(|e| format!("client-server on real links, N = {}: expected every client to hold a verified copy: {e}", r.n))?;
                r.cs_real = Some(run.total.as_secs_f64());
            }
            if !self.a.skip_p2p {
                let mut cfg = SwarmConfig::uniform(
                    r.n,
                    self.f as u64,
                    None,
                    None,
                    self.work.join(format!("p2p-real-{}", r.n)),
                );
                cfg.seed = self.a.seed;
                cfg.time_scale = self.a.time_scale;
                cfg.timeout = SWARM_TIMEOUT;
                let run = run_swarm_hosts(&net, &cfg)
                    .map_err(|e| format!("P2P on real links, N = {}: {e}", r.n))?;
                let _ = std::fs::remove_dir_all(&cfg.work_dir);
                if !run.all_verified {
                    return Err(format!("P2P on real links, N = {}: expected every copy within {} s and matching the seed's SHA-1; not so", r.n, SWARM_TIMEOUT.as_secs()));
                }
                r.p2p_real = run.distribution_time.map(|d| d.as_secs_f64());
            }
            println!(
                "   N = {:>2} on {} hosts: C/S {} s (bound {:.2}), P2P {} s (bound {:.2})",
                r.n,
                r.n + 1,
                r.cs_real.map_or("-".into(), |v| format!("{v:.2}")),
                r.cs_bound,
                r.p2p_real.map_or("-".into(), |v| format!("{v:.2}")),
                r.p2p_bound
            );
        }
        println!();
        Ok(())
    }

    /// The end table: each measured time beside its bound, and how far above it.
    pub fn table(&self) {
        report::table(&self.rows);
    }

    /// The figure: a sketch in the terminal, and the SVG file.
    pub fn chart(&self) -> Result<(), String> {
        let title = format!(
            "Distribution time of a {:.0} MiB file, u_s = {:.0} MiB/s, u = {:.0} MiB/s",
            self.f / MIB,
            self.a.server / MIB,
            self.a.peer / MIB
        );
        report::chart(&self.rows, &title, &self.a.svg)
    }
}
