//! Who carries the load: messages and bytes, counted where they cross a node's sockets.
//!
//! The notes say a central directory is a 性能瓶颈 (bottleneck) and flooding costs every
//! peer; a lab should show it, not say it. Each node owns a [`Traffic`]; its connection
//! threads count every message they read or write (atomics: no lock on the data path).
//! Bytes are counted where they cross the socket ([`Metered`]), messages by the code
//! that knows where one ends.

use std::io::{self, Read, Write};
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

    /// `msgs` messages and `bytes` bytes written to peers (either may be 0: a [`Metered`]
    /// socket counts the bytes, its owner the messages).
    pub fn add_sent(&self, msgs: u64, bytes: u64) {
        self.0.msgs_sent.fetch_add(msgs, Ordering::Relaxed);
        self.0.bytes_sent.fetch_add(bytes, Ordering::Relaxed);
    }

    /// `msgs` messages and `bytes` bytes read from peers.
    pub fn add_received(&self, msgs: u64, bytes: u64) {
        self.0.msgs_received.fetch_add(msgs, Ordering::Relaxed);
        self.0.bytes_received.fetch_add(bytes, Ordering::Relaxed);
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

/// A socket (or any reader/writer) that adds every byte it moves to a [`Traffic`]: the
/// bytes that really crossed the wire, framing and handshakes included.
#[derive(Debug)]
pub struct Metered<S> {
    inner: S,
    traffic: Traffic,
}

impl<S> Metered<S> {
    pub fn new(inner: S, traffic: Traffic) -> Metered<S> {
        Metered { inner, traffic }
    }

    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: Read> Read for Metered<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.traffic.add_received(0, n as u64);
        Ok(n)
    }
}

impl<S: Write> Write for Metered<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.traffic.add_sent(0, n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
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
    fn metered_counts_bytes_and_the_owner_counts_messages() {
        let t = Traffic::new();
        let mut w = Metered::new(Vec::new(), t.clone());
        w.write_all(b"hello").unwrap();
        t.add_sent(1, 0);
        let mut r = Metered::new(&b"abc"[..], t.clone());
        let mut buf = Vec::new();
        r.read_to_end(&mut buf).unwrap();
        t.add_received(1, 0);
        let n = t.snapshot("x");
        assert_eq!((n.msgs_sent, n.bytes_sent), (1, 5));
        assert_eq!((n.msgs_received, n.bytes_received), (1, 3));
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
