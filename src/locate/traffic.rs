//! Who carries the load: messages and bytes, counted where they cross a node's sockets.
//!
//! The notes say a central directory is a 性能瓶颈 (bottleneck) and flooding costs every
//! peer; a lab should show it, not say it. Each node owns a [`Traffic`]; its connection
//! threads count every message they read or write (atomics: no lock on the data path).
//! Bytes are counted where they cross the socket ([`Metered`]), messages by the code
//! that knows where one ends.
//!
//! **Upkeep**, the cost of keeping the structure, is counted apart as well: messages a
//! design sends on its own while nobody searches, joins or leaves (a ring's stabilize,
//! notify, fix-fingers, check-predecessor and replication rounds; KaZaA's and Gnutella's
//! keep-alive pings), and the answers to them. The upkeep counts are a part of the
//! totals, counted at both ends (the sender and the receiver each know the message is
//! upkeep: the ring carries a flag in its datagrams for that), so that "everything
//! minus upkeep" ([`NodeTraffic::without_upkeep`]) is what the network's users caused.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A node's counters, shared by its connection threads. Cloning shares them.
#[derive(Debug, Clone, Default)]
pub struct Traffic(Arc<Counters>);

/// Each message goes into exactly one of the two halves, so a snapshot taken while
/// messages cross never sees one counted in the total but not yet as upkeep.
#[derive(Debug, Default)]
struct Counters {
    /// What users caused: searches, joins, leaves.
    used: Half,
    /// The structure's upkeep.
    upkeep: Half,
}

#[derive(Debug, Default)]
struct Half {
    msgs_sent: AtomicU64,
    msgs_received: AtomicU64,
    bytes_sent: AtomicU64,
    bytes_received: AtomicU64,
}

impl Half {
    fn sent(&self, msgs: u64, bytes: u64) {
        self.msgs_sent.fetch_add(msgs, Ordering::Relaxed);
        self.bytes_sent.fetch_add(bytes, Ordering::Relaxed);
    }

    fn received(&self, msgs: u64, bytes: u64) {
        self.msgs_received.fetch_add(msgs, Ordering::Relaxed);
        self.bytes_received.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Takes back what [`Half::sent`] and [`Half::received`] added (never below 0).
    fn take(&self, sent: bool, msgs: u64, bytes: u64) {
        let (m, b) = if sent {
            (&self.msgs_sent, &self.bytes_sent)
        } else {
            (&self.msgs_received, &self.bytes_received)
        };
        let sub = |c: &AtomicU64, v: u64| {
            let _ = c.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |x| {
                Some(x.saturating_sub(v))
            });
        };
        sub(m, msgs);
        sub(b, bytes);
    }

    /// (msgs sent, msgs received, bytes sent, bytes received)
    fn load(&self) -> [u64; 4] {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        [
            get(&self.msgs_sent),
            get(&self.msgs_received),
            get(&self.bytes_sent),
            get(&self.bytes_received),
        ]
    }
}

impl Traffic {
    pub fn new() -> Traffic {
        Traffic::default()
    }

    /// One message of `bytes` (framing included) written to a peer.
    pub fn sent(&self, bytes: usize) {
        self.sent_as(false, bytes);
    }

    /// One message of `bytes` (framing included) read from a peer.
    pub fn received(&self, bytes: usize) {
        self.received_as(false, bytes);
    }

    /// The half of the counters a message goes to.
    fn half(&self, upkeep: bool) -> &Half {
        if upkeep {
            &self.0.upkeep
        } else {
            &self.0.used
        }
    }

    /// `msgs` messages and `bytes` bytes written to peers (either may be 0: a [`Metered`]
    /// socket counts the bytes, its owner the messages).
    pub fn add_sent(&self, msgs: u64, bytes: u64) {
        self.0.used.sent(msgs, bytes);
    }

    /// `msgs` messages and `bytes` bytes read from peers.
    pub fn add_received(&self, msgs: u64, bytes: u64) {
        self.0.used.received(msgs, bytes);
    }

    /// One message of `bytes` written to a peer, counted as upkeep if `upkeep`.
    pub fn sent_as(&self, upkeep: bool, bytes: usize) {
        self.half(upkeep).sent(1, bytes as u64);
    }

    /// One message of `bytes` read from a peer, counted as upkeep if `upkeep`.
    pub fn received_as(&self, upkeep: bool, bytes: usize) {
        self.half(upkeep).received(1, bytes as u64);
    }

    /// Takes back one message counted by [`Traffic::sent_as`] that the socket then
    /// refused (code that counts before it sends, so no reader sees the answer first).
    pub fn unsent_as(&self, upkeep: bool, bytes: usize) {
        self.half(upkeep).take(true, 1, bytes as u64);
    }

    /// Marks as upkeep `msgs` messages of `bytes` already counted as received: for a
    /// reader that counts what it reads before anyone knows what it is for (a sender
    /// always knows, and uses [`Traffic::sent_as`]).
    pub fn mark_upkeep_received(&self, msgs: u64, bytes: u64) {
        self.0.upkeep.received(msgs, bytes);
        self.0.used.take(false, msgs, bytes);
    }

    /// The counts now, under the name `node`.
    pub fn snapshot(&self, node: &str) -> NodeTraffic {
        let [um, ur, ub, ubr] = self.0.used.load();
        let [km, kr, kb, kbr] = self.0.upkeep.load();
        NodeTraffic {
            node: node.to_string(),
            msgs_sent: um + km,
            msgs_received: ur + kr,
            bytes_sent: ub + kb,
            bytes_received: ubr + kbr,
            upkeep_msgs_sent: km,
            upkeep_msgs_received: kr,
            upkeep_bytes_sent: kb,
            upkeep_bytes_received: kbr,
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

/// One node's counts at one moment. The `upkeep_` counts are the part of the others
/// that kept the structure (see the module doc).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeTraffic {
    pub node: String,
    pub msgs_sent: u64,
    pub msgs_received: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub upkeep_msgs_sent: u64,
    pub upkeep_msgs_received: u64,
    pub upkeep_bytes_sent: u64,
    pub upkeep_bytes_received: u64,
}

impl NodeTraffic {
    /// Messages this node handled, in and out.
    pub fn msgs(&self) -> u64 {
        self.msgs_sent + self.msgs_received
    }

    pub fn bytes(&self) -> u64 {
        self.bytes_sent + self.bytes_received
    }

    /// Upkeep messages this node handled, in and out.
    pub fn upkeep_msgs(&self) -> u64 {
        self.upkeep_msgs_sent + self.upkeep_msgs_received
    }

    /// Every count minus its upkeep: the traffic the network's users caused.
    pub fn without_upkeep(&self) -> NodeTraffic {
        NodeTraffic {
            node: self.node.clone(),
            msgs_sent: self.msgs_sent.saturating_sub(self.upkeep_msgs_sent),
            msgs_received: self.msgs_received.saturating_sub(self.upkeep_msgs_received),
            bytes_sent: self.bytes_sent.saturating_sub(self.upkeep_bytes_sent),
            bytes_received: self
                .bytes_received
                .saturating_sub(self.upkeep_bytes_received),
            ..NodeTraffic::default()
        }
    }

    /// Both nodes' counts added, under `self`'s name.
    pub fn plus(&self, other: &NodeTraffic) -> NodeTraffic {
        self.each_count(other, |a, b| a + b)
    }

    /// What happened between `before` and `self` (the same node, later).
    pub fn since(&self, before: &NodeTraffic) -> NodeTraffic {
        self.each_count(before, u64::saturating_sub)
    }

    /// Every count of `self` combined with the same count of `other` by `f`, under
    /// `self`'s name: the one place that lists the counters, so that a new one is
    /// added here and [`NodeTraffic::plus`] and [`NodeTraffic::since`] both follow.
    fn each_count(&self, other: &NodeTraffic, f: impl Fn(u64, u64) -> u64) -> NodeTraffic {
        NodeTraffic {
            node: self.node.clone(),
            msgs_sent: f(self.msgs_sent, other.msgs_sent),
            msgs_received: f(self.msgs_received, other.msgs_received),
            bytes_sent: f(self.bytes_sent, other.bytes_sent),
            bytes_received: f(self.bytes_received, other.bytes_received),
            upkeep_msgs_sent: f(self.upkeep_msgs_sent, other.upkeep_msgs_sent),
            upkeep_msgs_received: f(self.upkeep_msgs_received, other.upkeep_msgs_received),
            upkeep_bytes_sent: f(self.upkeep_bytes_sent, other.upkeep_bytes_sent),
            upkeep_bytes_received: f(self.upkeep_bytes_received, other.upkeep_bytes_received),
        }
    }
}

/// Messages sent in the whole network: each message counted once, at its sender.
pub fn total_msgs(nodes: &[NodeTraffic]) -> u64 {
    nodes.iter().map(|n| n.msgs_sent).sum()
}

/// Upkeep messages sent in the whole network, each counted once, at its sender.
pub fn total_upkeep_msgs(nodes: &[NodeTraffic]) -> u64 {
    nodes.iter().map(|n| n.upkeep_msgs_sent).sum()
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
    fn upkeep_is_a_part_of_the_totals_and_can_be_taken_off() {
        // A stabilize question and its answer, then a search's lookup step and its answer.
        let (a, b) = (Traffic::new(), Traffic::new());
        a.sent_as(true, 7);
        b.received_as(true, 7);
        b.sent_as(true, 40);
        a.received_as(true, 40);
        a.sent_as(false, 27);
        b.received_as(false, 27);
        b.sent_as(false, 60);
        a.received_as(false, 60);
        let nodes = [a.snapshot("a"), b.snapshot("b")];
        assert_eq!((total_msgs(&nodes), total_upkeep_msgs(&nodes)), (4, 2));
        assert_eq!((nodes[0].upkeep_msgs(), nodes[0].msgs()), (2, 4));
        let used: Vec<NodeTraffic> = nodes.iter().map(NodeTraffic::without_upkeep).collect();
        assert_eq!((total_msgs(&used), total_bytes(&used)), (2, 87));
        assert_eq!(total_upkeep_msgs(&used), 0);
        // A message counted first and understood later (a Pong to our keep-alive).
        a.received(20);
        a.mark_upkeep_received(1, 20);
        let later = a.snapshot("a").since(&nodes[0]);
        assert_eq!((later.msgs_received, later.upkeep_msgs_received), (1, 1));
        assert_eq!(later.without_upkeep().msgs(), 0);
    }

    #[test]
    fn plus_and_since_undo_each_other_on_every_count() {
        let count = |start: u64| {
            let t = Traffic::new();
            for i in 0..start {
                t.sent_as(i.is_multiple_of(2), 10 + i as usize);
                t.received_as(i.is_multiple_of(3), 7);
            }
            t.snapshot("n")
        };
        let (a, b) = (count(5), count(3));
        let sum = a.plus(&b);
        assert_eq!(
            (
                sum.msgs_sent,
                sum.upkeep_msgs_sent,
                sum.upkeep_bytes_received
            ),
            (8, 5, 21)
        );
        assert_eq!(sum.since(&b), a);
        // Counters never go below zero: a restarted node's later snapshot is smaller.
        assert_eq!(b.since(&a).msgs(), 0);
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
