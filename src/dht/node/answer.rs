//! What a node answers to each request: state in, [`Answer`] out.
//!
//! Called by the coordinator only, with the state it owns. Nothing here waits: a
//! request whose answer needs calls to other nodes (a put's replicas, a hand-over of
//! keys to a new predecessor) returns the [`Job`] to run, and the coordinator sends the
//! reply when the job is done. Anything wrong (another node lying about its id, an id
//! already taken) is refused with an error naming the problem.

use super::jobs::Job;
use crate::dht::error::DhtError;
use crate::dht::id::{in_open, Id};
use crate::dht::lookup::STEP_NODES;
use crate::dht::msg::{Reply, Request, MAX_BODY};
use crate::dht::policy::{next_step, NodeRef, Step};
use crate::dht::rpc::check_node;
use crate::dht::state::{Config, State};
use std::collections::BTreeSet;
use std::net::SocketAddr;

/// The coordinator's next move for one request.
pub(crate) enum Answer {
    /// Send this reply now.
    Reply(Reply),
    /// Run this STORE job, then reply OK (a put's replicas, a hand-over).
    After(Job),
    /// Reply now, and have this job run (a put passed back to the owner).
    ReplyThen(Reply, Job),
    /// Reply ERROR with this text.
    Refuse(DhtError),
}

/// The answer to `req`, which came from `from` (the datagram's source address).
pub(crate) fn answer(
    me: &NodeRef,
    cfg: &Config,
    st: &mut State,
    from: SocketAddr,
    req: Request,
) -> Answer {
    let r = match req {
        Request::Ping => Ok(Answer::Reply(Reply::Pong(*me))),
        Request::FindStep { id, routing } => {
            let step = next_step(me, &st.succs, &st.fingers, &id, routing, STEP_NODES);
            Ok(Answer::Reply(match step {
                Step::Done(v) => Reply::Done(v),
                Step::Next(v) => Reply::Next(v),
            }))
        }
        Request::GetPredecessor => Ok(Answer::Reply(Reply::Predecessor(st.pred))),
        Request::GetSuccessors => Ok(Answer::Reply(Reply::Successors(st.succs.clone()))),
        Request::Notify(p) => notify(me, cfg, st, p),
        Request::Get(key) => Ok(Answer::Reply(page(st.store.get(&key), None))),
        Request::GetAfter { key, after } => {
            Ok(Answer::Reply(page(st.store.get(&key), Some(&after))))
        }
        Request::Put {
            key,
            value,
            forwards,
        } => put(me, cfg, st, key, value, forwards),
        Request::Store(entries) => {
            st.store.merge(entries);
            Ok(Answer::Reply(Reply::Ok))
        }
        Request::PredLeaving { leaver, .. } | Request::SuccLeaving { leaver, .. }
            if leaver.addr != from =>
        {
            Err(DhtError::NotTheLeaver {
                leaver: leaver.addr,
                from,
            })
        }
        Request::PredLeaving { leaver, pred } => pred_leaving(me, cfg, st, leaver, pred),
        Request::SuccLeaving { leaver, succs } => check_node(&leaver, cfg.bits)
            .and_then(|_| succs.iter().try_for_each(|s| check_node(s, cfg.bits)))
            .map(|_| {
                if st.succs.first() == Some(&leaver) {
                    let mut v: Vec<_> = succs.into_iter().filter(|s| s != me).collect();
                    v.truncate(cfg.r);
                    st.set_succs(v);
                }
                st.forget(&leaver);
                Answer::Reply(Reply::Ok)
            }),
    };
    r.unwrap_or_else(Answer::Refuse)
}

/// The values after `after` (all, if None) that fit one reply: VALUES if that is the
/// rest, MORE if the asker must come back for the next page.
fn page(values: BTreeSet<Vec<u8>>, after: Option<&Vec<u8>>) -> Reply {
    let mut room = MAX_BODY - 3; // type and count
    let mut out = BTreeSet::new();
    let rest = values.into_iter().filter(|v| after.is_none_or(|a| v > a));
    for v in rest {
        if 2 + v.len() > room {
            return Reply::More(out);
        }
        room -= 2 + v.len();
        out.insert(v);
    }
    Reply::Values(out)
}

/// To the leaver's successor: your predecessor leaves; here is its predecessor.
fn pred_leaving(
    me: &NodeRef,
    cfg: &Config,
    st: &mut State,
    leaver: NodeRef,
    pred: Option<NodeRef>,
) -> Result<Answer, DhtError> {
    check_node(&leaver, cfg.bits)?;
    if let Some(p) = &pred {
        check_node(p, cfg.bits)?;
    }
    if st.pred == Some(leaver) {
        st.pred = pred.filter(|p| p != me);
    }
    st.forget(&leaver);
    Ok(Answer::Reply(Reply::Ok))
}

/// Chord's `notify(p)`: p thinks it might be our predecessor. If it is closer than the
/// one we have, adopt it and hand it the keys that are now its to keep: everything we
/// hold outside `(p, me]` (its own range, and replicas it should hold as our neighbour).
fn notify(me: &NodeRef, cfg: &Config, st: &mut State, p: NodeRef) -> Result<Answer, DhtError> {
    check_node(&p, cfg.bits)?;
    if p.id == me.id {
        if p.addr == me.addr {
            return Ok(Answer::Reply(Reply::Ok));
        }
        return Err(DhtError::IdTaken {
            id: p.id,
            by: me.addr,
        });
    }
    if let Some(q) = st.pred.filter(|q| q.id == p.id && q.addr != p.addr) {
        return Err(DhtError::IdTaken {
            id: p.id,
            by: q.addr,
        });
    }
    let closer = st
        .pred
        .is_none_or(|q| q != p && in_open(&p.id, &q.id, &me.id));
    if !closer {
        return Ok(Answer::Reply(Reply::Ok));
    }
    log::debug!("{}: new predecessor {}", me.addr, p.addr);
    st.pred = Some(p);
    let handover = st.store.outside(&p.id, &me.id);
    if handover.is_empty() {
        return Ok(Answer::Reply(Reply::Ok));
    }
    Ok(Answer::After(Job::Store {
        to: vec![p],
        entries: handover,
        answer: None, // the coordinator fills in the connection
    }))
}

/// Stores a value. The owner copies it to its r successors before answering, so a put
/// that returned survives the owner's crash. A node that no longer owns the key (its new
/// predecessor joined while the putter's lookup was under way) passes it back.
fn put(
    me: &NodeRef,
    cfg: &Config,
    st: &mut State,
    key: Vec<u8>,
    value: Vec<u8>,
    forwards: u8,
) -> Result<Answer, DhtError> {
    let id = Id::hash(&key, cfg.bits);
    st.store
        .insert(&key, &value)
        .map_err(|e| DhtError::Remote(e.to_string()))?;
    if st.owns(me, &id) {
        let to: Vec<NodeRef> = st.succs.iter().take(cfg.r).copied().collect();
        if to.is_empty() {
            return Ok(Answer::Reply(Reply::Ok));
        }
        return Ok(Answer::After(Job::Store {
            to,
            entries: vec![(key, [value].into())],
            answer: None,
        }));
    }
    match st.pred {
        Some(p) if forwards > 0 => Ok(Answer::ReplyThen(
            Reply::Ok,
            Job::Forward {
                to: p,
                req: Request::Put {
                    key,
                    value,
                    forwards: forwards - 1,
                },
            },
        )),
        _ => Ok(Answer::Reply(Reply::Ok)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FROM: SocketAddr = SocketAddr::new(
        std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1)),
        9999,
    );

    fn node(port: u16, bits: u32) -> NodeRef {
        let addr = format!("127.0.0.1:{port}").parse().unwrap();
        NodeRef {
            id: Id::of_addr(&addr, bits),
            addr,
        }
    }

    #[test]
    fn a_lone_node_owns_a_put_and_answers_at_once() {
        let cfg = Config::new(160);
        let me = node(4000, 160);
        let mut st = State::new(160, crate::dht::store::MAX_STORE_BYTES);
        let a = answer(&me, &cfg, &mut st, FROM, Request::Get(b"k".to_vec()));
        assert!(matches!(a, Answer::Reply(Reply::Values(v)) if v.is_empty()));
        let put = Request::Put {
            key: b"k".to_vec(),
            value: b"v".to_vec(),
            forwards: 0,
        };
        assert!(matches!(
            answer(&me, &cfg, &mut st, FROM, put),
            Answer::Reply(Reply::Ok)
        ));
        assert_eq!(st.store.get(b"k").len(), 1);
    }

    #[test]
    fn an_owner_with_successors_answers_a_put_after_its_replicas() {
        let cfg = Config::new(160);
        let me = node(4000, 160);
        let mut st = State::new(160, crate::dht::store::MAX_STORE_BYTES);
        st.set_succs(vec![node(4001, 160), node(4002, 160)]);
        let put = Request::Put {
            key: b"k".to_vec(),
            value: b"v".to_vec(),
            forwards: 0,
        };
        match answer(&me, &cfg, &mut st, FROM, put) {
            Answer::After(Job::Store { to, .. }) => assert_eq!(to.len(), 2),
            _ => panic!("the reply must wait for the replicas"),
        }
    }

    #[test]
    fn a_notify_from_a_liar_is_refused_and_changes_nothing() {
        let cfg = Config::new(160);
        let me = node(4000, 160);
        let mut st = State::new(160, crate::dht::store::MAX_STORE_BYTES);
        let liar = NodeRef {
            id: me.id.sub(&Id::pow2(0), 160),
            addr: "127.0.0.1:9".parse().unwrap(),
        };
        let a = answer(&me, &cfg, &mut st, FROM, Request::Notify(liar));
        assert!(matches!(a, Answer::Refuse(DhtError::BadId { .. })));
        assert_eq!(st.pred, None);
        let honest = node(4001, 160);
        let a = answer(&me, &cfg, &mut st, FROM, Request::Notify(honest));
        assert!(
            matches!(a, Answer::Reply(Reply::Ok)),
            "nothing to hand over"
        );
        assert_eq!(st.pred, Some(honest));
    }
}
