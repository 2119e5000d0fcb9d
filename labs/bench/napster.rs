//! bench-napster: directory searches per second as concurrent searching peers grow.
//!
//! A directory holding 10,000 files (100 peers × 100 made-up songs), then 1, 8 and 64
//! peers searching at once over real sockets. Prints a table and writes
//! `target/bench/napster.json`. Issue target: ≥ 20,000 searches/s at 64 peers.

use getopts::Options;
use p2plab::napster::load::{publish_catalogue, queries_from, search_load};
use p2plab::napster::{DirectoryServer, ServerOptions};
use p2plab::report::{write_bench_json, Table};
use std::process::ExitCode;

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let mut opts = Options::new();
    opts.optopt("", "files", "files in the directory (default 10000)", "N");
    opts.optopt(
        "",
        "searches",
        "searches per concurrency level (default 60000)",
        "N",
    );
    opts.optopt("", "clients", "concurrency levels (default 1,8,64)", "LIST");
    opts.optflag("h", "help", "print this help");
    let m = match opts.parse(std::env::args().skip(1)) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}\n{}", opts.usage("Usage: bench-napster [options]"));
            return ExitCode::FAILURE;
        }
    };
    if m.opt_present("help") {
        println!("{}", opts.usage("Usage: bench-napster [options]"));
        return ExitCode::SUCCESS;
    }
    let num = |k: &str, d: usize| m.opt_str(k).and_then(|v| v.parse().ok()).unwrap_or(d);
    let files = num("files", 10_000);
    let total = num("searches", 60_000);
    let levels: Vec<usize> = m
        .opt_str("clients")
        .map(|l| l.split(',').filter_map(|c| c.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 8, 64]);
    match run(files, total, &levels) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-napster: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(files: usize, total: usize, levels: &[usize]) -> Result<(), Box<dyn std::error::Error>> {
    let server = DirectoryServer::start("127.0.0.1:0", ServerOptions::default())?;
    let peers = files.div_ceil(100);
    let (_library, names) = publish_catalogue(server.local_addr(), peers, files / peers, 1)?;
    let queries = queries_from(&names, 5000, 2);
    // Wait until the directory has indexed every share (shares are not acknowledged).
    while server.counts().1 < names.len() {
        std::thread::yield_now();
    }
    println!(
        "bench-napster: {} files indexed, {} searches per level",
        server.counts().1,
        total
    );
    let mut table = Table::new(&[
        "peers searching",
        "searches/s",
        "mean ms",
        "p99 ms",
        "results/search",
    ]);
    let mut figures = vec![("files_indexed", server.counts().1 as f64)];
    for &c in levels {
        let r = search_load(server.local_addr(), c, total.div_ceil(c), &queries)?;
        let ms = |d: std::time::Duration| format!("{:.3}", d.as_secs_f64() * 1e3);
        table.row(&[
            &c,
            &format!("{:.0}", r.per_second()),
            &ms(r.mean()),
            &ms(r.quantile(0.99)),
            &format!("{:.1}", r.results as f64 / r.searches as f64),
        ]);
        figures.push((
            Box::leak(format!("searches_per_s_{c}_peers").into_boxed_str()),
            r.per_second(),
        ));
        figures.push((
            Box::leak(format!("p99_ms_{c}_peers").into_boxed_str()),
            r.quantile(0.99).as_secs_f64() * 1e3,
        ));
    }
    table.print();
    let path = write_bench_json("napster", &figures)?;
    println!("figures written to {}", path.display());
    Ok(())
}
