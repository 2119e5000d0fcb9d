//! The four designs of notes 6.4, as the lab starts them, and the growth each one is
//! expected to show as N grows.
//!
//! A design here is a constructor and a shape: `expected_shape(n)` is how its cost per
//! search should grow with the number of peers (up to a constant factor), and the lab
//! scales it to the first measured point so the chart compares shapes, not units.

use p2plab::dht::locate::Ring;
use p2plab::gnutella::locate::{GnutellaNet, NetOptions, LOCATE_DEGREE};
use p2plab::gnutella::DEFAULT_TTL;
use p2plab::kazaa::locate::Groups;
use p2plab::locate::Design;
use p2plab::napster::{NapsterNet, ServerOptions};

/// What a design is started with.
pub struct Setup {
    pub peers: usize,
    pub seed: u64,
}

/// One design of the lab.
pub struct Entry {
    /// The word for `--designs`.
    pub key: &'static str,
    pub start: fn(&Setup) -> Result<Box<dyn Design>, String>,
    /// The expected growth, in words, for the chart's legend.
    pub expected: &'static str,
    /// That growth as a function of N, up to a constant factor.
    pub expected_shape: fn(usize) -> f64,
    /// The thread-name prefix of its special node, when it is one server whose load
    /// step 2 measures (the directory).
    pub special_threads: Option<&'static str>,
}

fn napster(_: &Setup) -> Result<Box<dyn Design>, String> {
    Ok(Box::new(
        NapsterNet::start(ServerOptions::default()).map_err(|e| e.to_string())?,
    ))
}

fn gnutella(s: &Setup) -> Result<Box<dyn Design>, String> {
    let opts = NetOptions {
        seed: s.seed,
        ..NetOptions::default()
    };
    Ok(Box::new(GnutellaNet::new(opts).map_err(|e| e.to_string())?))
}

fn kazaa(s: &Setup) -> Result<Box<dyn Design>, String> {
    Ok(Box::new(Groups::new(s.peers).map_err(|e| e.to_string())?))
}

fn dht(s: &Setup) -> Result<Box<dyn Design>, String> {
    Ok(Box::new(Ring::new(s.peers, s.seed)))
}

/// The flood bound of notes 6.3: degree d, TTL t, at most d·(d−1)^(k−1) new copies at
/// hop k, and never more than each of the N·d/2 edges crossed both ways.
fn flood_bound(n: usize) -> f64 {
    let d = LOCATE_DEGREE as f64;
    let hops: f64 = (1..=DEFAULT_TTL as i32)
        .map(|k| d * (d - 1.0).powi(k - 1))
        .sum();
    hops.min(n as f64 * d)
}

/// Every design the lab knows, in the notes' order.
pub const DESIGNS: &[Entry] = &[
    Entry {
        key: "napster",
        start: napster,
        expected: "constant (集中)",
        expected_shape: |_| 1.0,
        special_threads: Some("napster-server"),
    },
    Entry {
        key: "gnutella",
        start: gnutella,
        expected: "the flood bound (分散)",
        expected_shape: flood_bound,
        special_threads: None,
    },
    Entry {
        key: "kazaa",
        start: kazaa,
        expected: "L² copies: TTL 2 over a full mesh of L leaders (半分散)",
        expected_shape: |n| ((n / 16).max(2) as f64).powi(2),
        special_threads: None,
    },
    Entry {
        key: "dht",
        start: dht,
        expected: "½·log2 N hops (DHT)",
        expected_shape: |n| 0.5 * (n as f64).log2(),
        special_threads: None,
    },
];

pub fn default_keys() -> Vec<String> {
    DESIGNS.iter().map(|e| e.key.to_string()).collect()
}

pub fn find(key: &str) -> Result<&'static Entry, String> {
    DESIGNS.iter().find(|e| e.key == key).ok_or_else(|| {
        format!(
            "--designs: no design '{key}' (known: {})",
            default_keys().join(", ")
        )
    })
}
