//! bench-napster: directory searches per second as concurrent searching peers grow.
//!
//! A directory holding 10,000 files (100 peers × 100 made-up songs), then 1, 8 and 64
//! peers searching at once over real sockets. Prints a table and writes
//! `target/bench/napster.json`. Issue target: ≥ 20,000 searches/s at 64 peers.

use getopts::Options;
use p2plab::napster::load::{publish_catalogue, queries_from, search_load};
use p2plab::napster::{DirectoryServer, ServerOptions};
use p2plab::opts;
use p2plab::report::{write_bench_json, Table};
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let mut o = Options::new();
    o.optopt("", "files", "files in the directory (default 10000)", "N");
    o.optopt(
        "",
        "searches",
        "searches per concurrency level (default 60000)",
        "N",
    );
    o.optopt("", "clients", "concurrency levels (default 1,8,64)", "LIST");
    let result = opts::parse(
        &mut o,
        std::env::args().skip(1),
        "Usage: bench-napster [options]",
    )
    .and_then(|m| {
        let Some(m) = m else { return Ok(()) };
        let files = opts::value(&m, "files", 10_000usize)?.max(100);
        let total = opts::value(&m, "searches", 60_000usize)?.max(1);
        let levels = opts::list(&m, "clients", &[1usize, 8, 64])?;
        run(files, total, &levels).map_err(|e| e.to_string())
    });
    opts::finish("bench-napster", result)
}

fn run(files: usize, total: usize, levels: &[usize]) -> Result<(), Box<dyn std::error::Error>> {
    let server = DirectoryServer::start("127.0.0.1:0", ServerOptions::default())?;
    let peers = files.div_ceil(100);
    let (_library, names) = publish_catalogue(server.local_addr(), peers, files / peers, 1)?;
    let queries = queries_from(&names, 5000, 2);
    // Wait until the directory has indexed every share (shares are not acknowledged).
    if !p2plab::wait::until(Duration::from_secs(30), || server.counts().1 >= names.len()) {
        return Err(format!(
            "expected {} files indexed within 30 s, the directory holds {}",
            names.len(),
            server.counts().1
        )
        .into());
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
    let mut figures = vec![("files_indexed".to_string(), server.counts().1 as f64)];
    for &c in levels {
        let r = search_load(server.local_addr(), c, total.div_ceil(c), &queries)?;
        let ms = |d: Duration| format!("{:.3}", d.as_secs_f64() * 1e3);
        table.row(&[
            &c,
            &format!("{:.0}", r.per_second()),
            &ms(r.mean()),
            &ms(r.quantile(0.99)),
            &format!("{:.1}", r.results as f64 / r.searches as f64),
        ]);
        figures.push((format!("searches_per_s_{c}_peers"), r.per_second()));
        figures.push((
            format!("p99_ms_{c}_peers"),
            r.quantile(0.99).as_secs_f64() * 1e3,
        ));
    }
    table.print();
    let path = write_bench_json("napster", &figures)?;
    println!("figures written to {}", path.display());
    Ok(())
}
