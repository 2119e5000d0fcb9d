//! The ring's upkeep (notes 6.4: the cost of keeping the structure) is counted apart
//! from what a user asked for, at both ends of every call: the caller knows which of
//! its calls are a maintenance round's, and the upkeep flag in the datagram's head
//! tells the answerer (`dht/msg/mod.rs`). Real nodes on 127.0.0.1; the waits are on
//! "ring settled" conditions with a deadline, never a sleep.

use p2plab::dht::rpc::Caller;
use p2plab::dht::{Config, Id, LocalRing, Node, NodeRef, Request, Routing};
use p2plab::locate::{delta, total_msgs, total_upkeep_msgs, NodeTraffic, Traffic};
use std::time::Duration;

const SETTLE: Duration = Duration::from_secs(60);

#[test]
fn a_maintenance_call_is_upkeep_at_both_ends_and_a_lookup_step_is_not() {
    // A node alone calls no one, so every datagram it counts is one of ours.
    let node = Node::start("127.0.0.1:0", Config::new(160)).unwrap();
    let mine = "127.0.0.1:1".parse().unwrap();
    let me = NodeRef {
        id: Id::of_addr(&mine, 160),
        addr: mine,
    };
    let t = Traffic::new();
    let caller = Caller::new(me, 160, 1, t.clone());
    // Stabilize's question, from a maintenance round's caller.
    caller
        .for_upkeep()
        .call(&node.me(), &Request::GetPredecessor)
        .unwrap();
    // One step of a search's lookup, from the same node's ordinary caller.
    let step = Request::FindStep {
        id: Id::hash(b"yellow", 160),
        routing: Routing::Fingers,
    };
    caller.call(&node.me(), &step).unwrap();

    let (asker, answerer) = (t.snapshot("asker"), node.traffic().snapshot("node"));
    // Two datagrams each way; one of each is upkeep, at the asker and at the answerer.
    assert_eq!((asker.msgs_sent, asker.upkeep_msgs_sent), (2, 1));
    assert_eq!((asker.msgs_received, asker.upkeep_msgs_received), (2, 1));
    assert_eq!(
        (answerer.msgs_received, answerer.upkeep_msgs_received),
        (2, 1)
    );
    assert_eq!((answerer.msgs_sent, answerer.upkeep_msgs_sent), (2, 1));
    // GET_PREDECESSOR is 7 bytes: txid (4), flags 01, type 03, m a0. Its answer,
    // PREDECESSOR without one, is 7 too: txid, flags 01 (echoed), type 84, has 00.
    assert_eq!(
        (asker.upkeep_bytes_sent, asker.upkeep_bytes_received),
        (7, 7)
    );
    assert_eq!(
        (answerer.upkeep_bytes_received, answerer.upkeep_bytes_sent),
        (7, 7)
    );
    // What is left without upkeep is the lookup step alone.
    let used = asker.without_upkeep();
    assert_eq!((used.msgs_sent, used.msgs_received), (1, 1));
    assert_eq!(
        used.bytes_sent,
        5 + 2 + 20 + 1,
        "head, type and m, id, routing"
    );
}

#[test]
fn while_the_ring_keeps_itself_a_lookup_costs_two_messages_a_hop() {
    let mut cfg = Config::new(160);
    cfg.time_scale = 0.05; // stabilize every 50 ms: upkeep flows during the lookups
    let ring = LocalRing::start(3, &cfg).unwrap();
    assert!(ring.wait_settled(true, SETTLE), "a ring of 3 settles");
    let snap = |ring: &LocalRing| -> Vec<NodeTraffic> {
        (ring.nodes.iter())
            .map(|n| n.traffic().snapshot(&n.addr().to_string()))
            .collect()
    };
    // Settling took stabilize, notify and fix-fingers calls: upkeep at every node, both
    // ways, and nothing else (a ring without keys has nothing to hand over).
    for n in snap(&ring) {
        assert!(
            n.upkeep_msgs_sent > 0 && n.upkeep_msgs_received > 0,
            "{n:?}"
        );
    }
    let mut hops = 0;
    for i in 0..12 {
        let id = Id::hash(format!("song {i}").as_bytes(), 160);
        let before = snap(&ring);
        let l = ring.nodes[0].lookup(&id).unwrap();
        let spent = delta(&snap(&ring), &before);
        let used: Vec<NodeTraffic> = spent.iter().map(NodeTraffic::without_upkeep).collect();
        // Each hop is one FIND_STEP and its answer, counted once sent and once received,
        // whatever maintenance ran meanwhile.
        assert_eq!(total_msgs(&used), 2 * l.hops() as u64, "{spent:?}");
        let received: u64 = used.iter().map(|n| n.msgs_received).sum();
        assert_eq!(received, 2 * l.hops() as u64, "{spent:?}");
        assert_eq!(total_upkeep_msgs(&used), 0);
        hops += l.hops();
    }
    assert!(hops > 0, "some lookup left node 0");
}
