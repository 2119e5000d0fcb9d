//! bench-napster: directory searches per second as concurrent searching peers grow.
//!
//! A directory holding 10,000 files (100 peers × 100 made-up songs), then 1, 8 and 64
//! peers searching at once over real sockets. Prints a table and writes
//! `target/bench/napster.json`. Issue target: ≥ 20,000 searches/s at 64 peers.
//!
//! The `scale` section (issue #16): a directory with 250 and 1,000 logged-in peers, each
//! sharing and searching; threads, memory and files per peer, and how the run time grows
//! from N to 4N (`labs/napster/scale.rs`).

#[path = "../napster/scale.rs"]
mod scale;

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
    o.optopt(
        "",
        "scale-max",
        "most peers of the scale section, N/4 and N (default 1000, at most 3000; 0 skips it)",
        "N",
    );
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
        let scale_max = opts::value(&m, "scale-max", 1000usize)?;
        let mut figures = run(files, total, &levels).map_err(|e| e.to_string())?;
        if scale_max > 0 {
            let max = opts::clamp("bench-napster", "scale-max", scale_max, 8, scale::MAX_PEERS);
            figures.extend(scale_section(max)?);
        }
        let path = write_bench_json("napster", &figures).map_err(|e| e.to_string())?;
        println!("figures written to {}", path.display());
        Ok(())
    });
    opts::finish("bench-napster", result)
}

type Figures = Vec<(String, f64)>;

fn run(
    files: usize,
    total: usize,
    levels: &[usize],
) -> Result<Figures, Box<dyn std::error::Error>> {
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
    Ok(figures)
}

/// Directories of `max`/4 and `max` peers (the larger first: `scale::sizes`).
fn scale_section(max: usize) -> Result<Figures, String> {
    println!(
        "\n== scale: a directory with {} and {max} peers; each logs in, shares {} files, searches {} times ({} at a time)",
        max / 4,
        scale::FILES,
        scale::SEARCHES,
        scale::SEARCHERS
    );
    let rows = p2plab::scale::run_sizes(&[max, max / 4], |n| scale::measure(n, 1), |_| ())?;
    scale::table(&rows).print();
    p2plab::scale::print_growth(&rows);
    let mut fig = p2plab::scale::figures(&rows);
    for r in &rows {
        let n = r.n;
        fig.push((format!("scale_n{n}_files"), r.files as f64));
        fig.push((format!("scale_n{n}_login_s"), r.login_s));
        fig.push((format!("scale_n{n}_ms_per_login"), r.login_ms()));
        fig.push((format!("scale_n{n}_search_s"), r.search_s));
        fig.push((format!("scale_n{n}_searches_per_s"), r.searches_per_s()));
        fig.push((format!("scale_n{n}_load1"), r.load1));
    }
    Ok(fig)
}
