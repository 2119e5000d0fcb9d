//! The four designs of notes 6.4, as the lab starts them, and the growth each one is
//! expected to show as N grows.
//!
//! A design here is a constructor and a shape: `expected_shape(n)` is how its cost per
//! search should grow with the number of peers. Where only the growth is known, the lab
//! scales it through the first measured point ([`Fit::Ratio`]); where the shape counts
//! every message of a search (the ring: the lookup's hops, the GET, the provider's
//! PING), it is drawn as it is ([`Fit::Exact`]), and measured and expected must agree.

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
    /// That growth as a function of N, up to what [`Fit`] says.
    pub expected_shape: fn(usize) -> f64,
    pub fit: Fit,
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

/// How an expected shape is laid over the measured points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// The shape is right up to a constant factor: scale it through the first point.
    Ratio,
    /// The shape counts every message of a search: draw it as it is.
    Exact,
}

/// The overlay's mean degree: a joining servent dials `LOCATE_DEGREE` others and is
/// dialled by as many later joiners, so a servent has about twice that many neighbours.
/// (Using `LOCATE_DEGREE` itself made the bound stop growing at N = 128: 381 messages
/// at TTL 7, below what a flood of 128 servents of degree 6 sends.)
const MEAN_DEGREE: f64 = 2.0 * LOCATE_DEGREE as f64;

/// The flood bound of notes 6.3 on the lab's overlay, degree d and TTL t: at most
/// d·(d−1)^(k−1) new copies at hop k; and, with duplicate suppression, each servent
/// forwards once, to every neighbour but the sender, so never more than
/// d + (N−1)·(d−1) copies in all. With d ≈ 6 and t = 7 the second bound is the one
/// that holds up to N of about 23,000: on these overlays a flood grows linearly with N.
fn flood_bound(n: usize) -> f64 {
    let d = MEAN_DEGREE;
    let hops: f64 = (1..=DEFAULT_TTL as i32)
        .map(|k| d * (d - 1.0).powi(k - 1))
        .sum();
    hops.min(d + (n.max(1) - 1) as f64 * (d - 1.0))
}

/// Messages of one ring search (`dht::locate`), each a question and its answer:
/// - the lookup of the keyword's id: ½·log2 N hops on average (Chord's path length),
///   each a FIND_STEP and its NEXT or DONE: 2·½·log2 N;
/// - the GET to the owner and its VALUES: 2 (one page: the scaling runs search for
///   songs one peer holds);
/// - the PING to that provider, to check it is alive, and its PONG: 2, when the holder
///   is in the network, which it is for [`LIVE_SHARE`] of the songs (else the GET
///   finds nothing and there is no one to ping).
///
/// The searcher's first step is its own routing table, no message. Upkeep (stabilize,
/// fix-fingers) is counted apart and not part of a search.
fn ring_messages(n: usize) -> f64 {
    2.0 * 0.5 * (n.max(1) as f64).log2() + GET_MSGS + PING_MSGS * LIVE_SHARE
}

/// A search's GET and its one page of VALUES.
const GET_MSGS: f64 = 2.0;
/// A search's PING to its one provider, and the PONG.
const PING_MSGS: f64 = 2.0;
/// Peers in the network during a scaling run: the workload starts with three quarters
/// of them (`Workload::generate`), and a scaling run has no churn.
const LIVE_SHARE: f64 = 0.75;

/// Every design the lab knows, in the notes' order.
pub const DESIGNS: &[Entry] = &[
    Entry {
        key: "napster",
        start: napster,
        expected: "constant (集中)",
        expected_shape: |_| 1.0,
        fit: Fit::Ratio,
        special_threads: Some("napster-server"),
    },
    Entry {
        key: "gnutella",
        start: gnutella,
        expected: "the flood bound (分散)",
        expected_shape: flood_bound,
        fit: Fit::Ratio,
        special_threads: None,
    },
    Entry {
        key: "kazaa",
        start: kazaa,
        expected: "L² copies: TTL 2 over a full mesh of L leaders (半分散)",
        expected_shape: |n| ((n / 16).max(2) as f64).powi(2),
        fit: Fit::Ratio,
        special_threads: None,
    },
    Entry {
        key: "dht",
        start: dht,
        expected: "2·½·log2 N (hops) + 2 (GET) + 2·¾ (PING) (DHT)",
        expected_shape: ring_messages,
        fit: Fit::Exact,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flood_bound_keeps_growing_with_n_on_the_labs_overlay() {
        // Degree 6, TTL 7: 6 + 5·(N − 1) while that is below 6·(1 + 5 + … + 5^6).
        assert_eq!(flood_bound(16), 81.0);
        assert_eq!(flood_bound(128), 641.0);
        assert_eq!(flood_bound(256), 1281.0);
        assert_eq!(flood_bound(1 << 20), 6.0 * (5f64.powi(7) - 1.0) / 4.0);
    }

    #[test]
    fn a_ring_search_costs_two_messages_per_hop_then_a_get_and_a_ping() {
        // ½·log2 16 = 2 hops: 4 messages, then GET/VALUES, then PING/PONG for the 3
        // songs in 4 whose holder is in the network.
        assert_eq!(ring_messages(16), 7.5);
        assert_eq!(ring_messages(256), 11.5);
    }
}
