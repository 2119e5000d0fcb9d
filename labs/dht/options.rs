//! The lab's options. Each size has a tested maximum; a larger value is clamped to it,
//! and one line says so (a ring the lab never ran could exhaust the process's threads or
//! files half-way, which teaches nothing).

use super::Opts;
use getopts::Options;
use p2plab::dht::scale::SCALE_MAX;

/// Nodes of the small ring of steps 1 to 4 (each is printed, with its fingers).
pub const MAX_NODES: usize = 128;
/// Nodes of the churn ring of step 6.
pub const MAX_CHURN: usize = 1024;
/// Keys stored in step 2.
pub const MAX_KEYS: usize = 10_000;
/// Lookups per ring in step 5.
pub const MAX_LOOKUPS: usize = 100_000;

/// `value` limited to `lo..=hi`; says so when it had to change it.
fn clamp(name: &str, value: usize, lo: usize, hi: usize) -> usize {
    p2plab::opts::clamp("lab-dht", name, value, lo, hi)
}

pub fn options() -> Result<Option<Opts>, String> {
    let mut opts = Options::new();
    let num_opts = [
        ("seed", "random seed: ports, keys, victims (default 7)", "N"),
        (
            "nodes",
            "nodes of the small ring, 2..=128 (default 32)",
            "N",
        ),
        ("bits", "m of the small ring, 6..=32 (default 8)", "m"),
        (
            "max",
            "largest ring of the hops table (default 256; with --scale 4096), at most 4096",
            "N",
        ),
        (
            "lookups",
            "lookups per ring in the hops table (default 500)",
            "N",
        ),
        (
            "churn-nodes",
            "nodes of the churn ring, 8..=1024 (default 64)",
            "N",
        ),
        ("keys", "keys stored (default 200)", "N"),
    ];
    for (name, help, hint) in num_opts {
        opts.optopt("", name, help, hint);
    }
    opts.optflag(
        "",
        "scale",
        "only the scale table: N = 64, 256, 1024, 4096 (up to --max): build and settle time, hops, threads and memory per node",
    );
    let usage = "Usage: lab-dht [options]   (make lab-dht ARGS='--seed 3')";
    let Some(m) = p2plab::opts::parse(&mut opts, std::env::args().skip(1), usage)? else {
        return Ok(None);
    };
    let num = |k: &str, d: usize| p2plab::opts::value(&m, k, d);
    let scale = m.opt_present("scale");
    let max_default = if scale { SCALE_MAX } else { 256 };
    Ok(Some(Opts {
        seed: num("seed", 7)? as u64,
        nodes: clamp("nodes", num("nodes", 32)?, 2, MAX_NODES),
        bits: clamp("bits", num("bits", 8)?, 6, 32) as u32,
        max: clamp("max", num("max", max_default)?, 8, SCALE_MAX),
        lookups: clamp("lookups", num("lookups", 500)?, 1, MAX_LOOKUPS),
        churn_nodes: clamp("churn-nodes", num("churn-nodes", 64)?, 8, MAX_CHURN),
        keys: clamp("keys", num("keys", 200)?, 1, MAX_KEYS),
        scale,
    }))
}
