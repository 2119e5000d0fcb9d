//! The periodic threads that keep the ring correct while peers come and go (Peer波动).
//!
//! ```text
//!   stabilize          ask successor for its predecessor x; x between us? adopt x;
//!                      copy its successor list; notify it that we exist
//!   fix-fingers        look up one finger's start; fill every finger that node covers
//!   check-predecessor  ping the predecessor; forget it if it does not answer
//!   replicate          copy the keys we own to our r successors
//! ```
//!
//! Each runs on its own named thread, every `period x time_scale`, and ends when the
//! node's stop channel closes.

use super::id::{in_half_open, in_open};
use super::lookup::{lookup, lookup_via};
use super::msg::{Reply, Request};
use super::routing::{by_distance_from, finger_start, successor_list, NodeRef, Routing};
use super::state::*;
use super::store::batches;
use crate::net::Conns;
use crossbeam_channel::{Receiver, RecvTimeoutError};
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// A maintenance job: its thread name, its period at time scale 1, what it does.
type Job = (&'static str, Duration, fn(&Inner));

pub(crate) fn start(n: &Arc<Inner>, conns: &Conns, stop: &Receiver<()>) -> io::Result<()> {
    let jobs: [Job; 4] = [
        ("stabilize", STABILIZE_EVERY, stabilize),
        ("fix-fingers", FIX_FINGERS_EVERY, fix_fingers),
        ("check-pred", CHECK_PREDECESSOR_EVERY, check_predecessor),
        ("replicate", REPLICATE_EVERY, replicate),
    ];
    for (name, base, job) in jobs {
        let (n, stop) = (n.clone(), stop.clone());
        let period = n.cfg.period(base);
        conns.spawn_worker(format!("dht-{name}-{}", n.me.addr), move || loop {
            match stop.recv_timeout(period) {
                Err(RecvTimeoutError::Timeout) => job(&n),
                _ => return, // the node is stopping
            }
        })?;
    }
    Ok(())
}

fn successors_of(n: &Inner, s: &NodeRef) -> Option<Vec<NodeRef>> {
    match n.call(s, &Request::GetSuccessors) {
        Ok(Reply::Successors(v)) => Some(v),
        _ => None,
    }
}

/// Chord's `stabilize`, with the successor list: the first successor that answers is
/// kept; if none does, the nearest other node we know of takes its place.
pub(crate) fn stabilize(n: &Inner) {
    let me = n.me;
    let (succs, pred, known, bootstrap) = {
        let st = n.state();
        (st.succs.clone(), st.pred, st.known(), st.bootstrap)
    };
    if succs.is_empty() {
        // Alone so far: someone notified us, so make it our successor. This is how the
        // first two nodes of a ring find each other.
        if let Some(p) = pred.filter(|p| *p != me) {
            n.state().set_succs(vec![p]);
        }
        return;
    }
    let mut candidates = succs.clone();
    candidates.extend(by_distance_from(&me, &known, n.cfg.bits));
    let mut tried = std::collections::HashSet::new();
    for s in candidates {
        if !tried.insert(s) {
            continue;
        }
        let x = match n.call(&s, &Request::GetPredecessor) {
            Ok(Reply::Predecessor(x)) => x,
            _ => {
                n.forget(&s);
                continue;
            }
        };
        let better = x.filter(|x| *x != me && in_open(&x.id, &me.id, &s.id));
        let found = better
            .and_then(|x| successors_of(n, &x).map(|l| (x, l)))
            .or_else(|| successors_of(n, &s).map(|l| (s, l)));
        let Some((succ, list)) = found else {
            n.forget(&s);
            continue;
        };
        n.state()
            .set_succs(successor_list(&me, &succ, &list, n.cfg.r));
        match n.call(&succ, &Request::Notify(me)) {
            Ok(_) => {}
            Err(e) => log::warn!("{}: notify {} refused: {e}", me.addr, succ.addr),
        }
        return;
    }
    // Every node we knew has failed. Start again from where we joined.
    n.state().set_succs(Vec::new());
    if let Some(b) = bootstrap.filter(|b| *b != me.addr) {
        let first = NodeRef {
            id: super::id::Id::of_addr(&b, n.cfg.bits),
            addr: b,
        };
        if let Ok(l) = lookup_via(n, first, &me.id, Routing::Fingers) {
            if l.owner != me {
                n.state().set_succs(vec![l.owner]);
            }
        }
    }
}

/// Chord's `fix_fingers`, one finger per round, and since the node found is also the
/// successor of every later start up to its own id, those fingers are filled too: a
/// full table costs about log2 N rounds, not m.
///
/// A finger that is still right is confirmed by asking it for its predecessor (it owns
/// `(predecessor, itself]`), one call on a connection we already hold. Only a wrong or
/// missing finger costs a lookup, whose later hops open connections to nodes we do not
/// otherwise talk to: done every round by every node, that churn of short connections
/// was most of a 256-node ring's load.
pub(crate) fn fix_fingers(n: &Inner) {
    let bits = n.cfg.bits;
    if bits < 2 {
        return;
    }
    let me = n.me;
    let (i, current) = {
        let st = n.state();
        let i = st.next_finger.clamp(1, bits - 1);
        (i, st.fingers[i as usize])
    };
    let start = finger_start(&me.id, i, bits);
    let confirmed = current.filter(|f| match n.call(f, &Request::GetPredecessor) {
        Ok(Reply::Predecessor(Some(p))) => in_half_open(&start, &p.id, &f.id),
        _ => false,
    });
    let owner = match confirmed {
        Some(f) => f,
        None => match lookup(n, &start, Routing::Fingers) {
            Ok(l) => l.owner,
            Err(_) => return,
        },
    };
    let mut st = n.state();
    let mut j = i;
    while j < bits {
        let sj = finger_start(&me.id, j, bits);
        // When we own the start ourselves, every later start lies between it and us.
        let covered = owner == me || in_half_open(&sj, &me.id, &owner.id);
        if j > i && !covered {
            break;
        }
        st.fingers[j as usize] = (owner != me).then_some(owner);
        j += 1;
    }
    st.next_finger = if j >= bits { 1 } else { j };
}

/// Chord's `check_predecessor`.
pub(crate) fn check_predecessor(n: &Inner) {
    let Some(p) = n.state().pred else { return };
    if n.call(&p, &Request::Ping).is_err() {
        log::debug!("{}: predecessor {} is gone", n.me.addr, p.addr);
        n.forget(&p);
    }
}

/// Copies every key this node owns to its r successors, so that when it crashes the
/// next node already holds them. Sets merge by union, so sending again is harmless.
pub(crate) fn replicate(n: &Inner) {
    let (owned, succs) = {
        let st = n.state();
        let Some(p) = st.pred else { return };
        (st.store.in_range(&p.id, &n.me.id), st.succs.clone())
    };
    if owned.is_empty() {
        return;
    }
    for s in succs.iter().take(n.cfg.r) {
        for batch in batches(owned.clone()) {
            if n.call(s, &Request::Store(batch)).is_err() {
                break;
            }
        }
    }
}
