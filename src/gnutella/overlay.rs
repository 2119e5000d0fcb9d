//! Overlay shapes for labs, tests and benches: pure functions on servent indices.
//!
//! The notes' overlay (覆盖网络) is "arbitrary": real Gnutella grew it from whoever
//! answered. Labs want the same graph for the same seed, so they build it on purpose.

use crate::rng::Rng;
use std::collections::VecDeque;

/// A random overlay where every servent has at most `d` neighbours and almost all
/// have exactly `d`: pairs of servents still below `d` are joined at random.
pub fn random_regular(n: usize, d: usize, seed: u64) -> Vec<(usize, usize)> {
    let mut rng = Rng::new(seed);
    let mut deg = vec![0usize; n];
    let mut edges: Vec<(usize, usize)> = Vec::new();
    let linked = |e: &[(usize, usize)], a: usize, b: usize| {
        e.iter().any(|&(x, y)| (x, y) == (a, b) || (x, y) == (b, a))
    };
    for _ in 0..n * d * 20 {
        let open: Vec<usize> = (0..n).filter(|&i| deg[i] < d).collect();
        if open.len() < 2 {
            break;
        }
        let a = open[rng.below(open.len())];
        let b = open[rng.below(open.len())];
        if a == b || linked(&edges, a, b) {
            continue;
        }
        edges.push((a.min(b), a.max(b)));
        deg[a] += 1;
        deg[b] += 1;
    }
    edges
}

/// Hop distance from `origin` to every servent (`None`: unreachable): how far a
/// query with a given TTL can possibly get.
pub fn distances(n: usize, edges: &[(usize, usize)], origin: usize) -> Vec<Option<u32>> {
    let mut adj = vec![Vec::new(); n];
    for &(a, b) in edges {
        adj[a].push(b);
        adj[b].push(a);
    }
    let mut dist = vec![None; n];
    dist[origin] = Some(0);
    let mut q = VecDeque::from([origin]);
    while let Some(x) = q.pop_front() {
        let dx = dist[x].unwrap_or(0);
        for &y in &adj[x] {
            if dist[y].is_none() {
                dist[y] = Some(dx + 1);
                q.push_back(y);
            }
        }
    }
    dist
}

/// Neighbour counts.
pub fn degrees(n: usize, edges: &[(usize, usize)]) -> Vec<usize> {
    let mut deg = vec![0; n];
    for &(a, b) in edges {
        deg[a] += 1;
        deg[b] += 1;
    }
    deg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_enough_and_repeatable() {
        let e = random_regular(30, 4, 7);
        assert_eq!(e, random_regular(30, 4, 7), "same seed, same overlay");
        let deg = degrees(30, &e);
        assert!(deg.iter().all(|&x| x <= 4));
        assert!(deg.iter().filter(|&&x| x == 4).count() >= 27, "{deg:?}");
        assert!(e.iter().all(|&(a, b)| a < b));
    }

    #[test]
    fn distances_on_a_line() {
        let line: Vec<(usize, usize)> = (0..4).map(|i| (i, i + 1)).collect();
        let d = distances(6, &line, 0);
        assert_eq!(d, [Some(0), Some(1), Some(2), Some(3), Some(4), None]);
    }
}
