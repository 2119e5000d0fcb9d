//! Who carries the load: messages and bytes, counted where they cross a node's sockets.
//!
//! The notes say a central directory is a 性能瓶颈 (bottleneck) and flooding costs every
//! peer; a lab should show it, not say it. Each node owns a [`Traffic`]; its connection
//! threads count every message they read or write (atomics: no lock on the data path).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A node's counters, shared by its connection threads. Cloning shares them.
#[derive(Debug, Clone, Default)]
pub struct Traffic(Arc<Counters>);

#[derive(Debug, Default)]
struct Counters {
    msgs_sent: AtomicU64,
    msgs_received: AtomicU64,
    bytes_sent: AtomicU64,
    bytes_received: AtomicU64,
}

impl Traffic {
    pub fn new() -> Traffic {
        Traffic::default()
    }

    /// One message of `bytes` (framing included) written to a peer.
    pub fn sent(&self, bytes: usize) {
        self.0.msgs_sent.fetch_add(1, Ordering::Relaxed);
        self.0.bytes_sent.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// One message of `bytes` (framing included) read from a peer.
    pub fn received(&self, bytes: usize) {
        self.0.msgs_received.fetch_add(1, Ordering::Relaxed);
        self.0
            .bytes_received
            .fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// The counts now, under the name `node`.
    pub fn snapshot(&self, node: &str) -> NodeTraffic {
        let c = &self.0;
        NodeTraffic {
            node: node.to_string(),
            msgs_sent: c.msgs_sent.load(Ordering::Relaxed),
            msgs_received: c.msgs_received.load(Ordering::Relaxed),
            bytes_sent: c.bytes_sent.load(Ordering::Relaxed),
            bytes_received: c.bytes_received.load(Ordering::Relaxed),
        }
    }
}

/// One node's counts at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeTraffic {
    pub node: String,
    pub msgs_sent: u64,
    pub msgs_received: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

impl NodeTraffic {
    /// Messages this node handled, in and out.
    pub fn msgs(&self) -> u64 {
        self.msgs_sent + self.msgs_received
    }

    pub fn bytes(&self) -> u64 {
        self.bytes_sent + self.bytes_received
    }

    /// What happened between `before` and `self` (the same node, later).
    pub fn since(&self, before: &NodeTraffic) -> NodeTraffic {
        NodeTraffic {
            node: self.node.clone(),
            msgs_sent: self.msgs_sent.saturating_sub(before.msgs_sent),
            msgs_received: self.msgs_received.saturating_sub(before.msgs_received),
            bytes_sent: self.bytes_sent.saturating_sub(before.bytes_sent),
            bytes_received: self.bytes_received.saturating_sub(before.bytes_received),
        }
    }
}

/// Messages sent in the whole network: each message counted once, at its sender.
pub fn total_msgs(nodes: &[NodeTraffic]) -> u64 {
    nodes.iter().map(|n| n.msgs_sent).sum()
}

/// Bytes sent in the whole network.
pub fn total_bytes(nodes: &[NodeTraffic]) -> u64 {
    nodes.iter().map(|n| n.bytes_sent).sum()
}

/// The busiest node and its share of all message handling (its sent + received over
/// everyone's sent + received): 0.5 means one node took part in every message, as a
/// directory does in every search; 1/N means the load is spread evenly.
pub fn busiest(nodes: &[NodeTraffic]) -> Option<(&NodeTraffic, f64)> {
    let all: u64 = nodes.iter().map(NodeTraffic::msgs).sum();
    // On a tie the first node named wins: the design lists its special node first.
    let top = nodes
        .iter()
        .reduce(|b, n| if n.msgs() > b.msgs() { n } else { b })?;
    (all > 0).then(|| (top, top.msgs() as f64 / all as f64))
}

/// The change of every node between two snapshots (matched by name; a node that
/// appeared in between counts from zero).
pub fn delta(after: &[NodeTraffic], before: &[NodeTraffic]) -> Vec<NodeTraffic> {
    after
        .iter()
        .map(|a| match before.iter().find(|b| b.node == a.node) {
            Some(b) => a.since(b),
            None => a.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_takes_half_of_every_exchange() {
        // A search: one message up to the directory, one answer back.
        let (dir, peer) = (Traffic::new(), Traffic::new());
        peer.sent(40);
        dir.received(40);
        dir.sent(120);
        peer.received(120);
        let nodes = [dir.snapshot("directory"), peer.snapshot("peer 0")];
        assert_eq!(total_msgs(&nodes), 2);
        assert_eq!(total_bytes(&nodes), 160);
        let (top, share) = busiest(&nodes).unwrap();
        assert_eq!(share, 0.5);
        assert_eq!(top.node, "directory");
    }

    #[test]
    fn delta_counts_only_what_happened_between() {
        let t = Traffic::new();
        t.sent(10);
        let before = vec![t.snapshot("a")];
        t.sent(5);
        let b = Traffic::new();
        b.received(5);
        let after = vec![t.snapshot("a"), b.snapshot("b")];
        let d = delta(&after, &before);
        assert_eq!((d[0].msgs_sent, d[0].bytes_sent), (1, 5));
        assert_eq!(d[1].msgs_received, 1);
        assert_eq!(busiest(&[]), None);
    }
}
