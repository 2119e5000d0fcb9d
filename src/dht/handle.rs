//! One connection's thread: read a request, answer it, repeat until the caller hangs up.
//!
//! Anything wrong with a request (bad bytes, a lying length, another ring size, a node
//! whose id is not the hash of its address) gets an ERROR reply naming the problem, and
//! the connection is closed. The node itself keeps serving everyone else.

use super::decode::decode_request;
use super::error::DhtError;
use super::id::{in_open, Id};
use super::msg::{encode_reply, Reply, Request, MAX_FRAME};
use super::rpc::check_node;
use super::state::Inner;
use super::store::batches;
use crate::net::ConnResult;
use crate::wire::{read_frame, write_frame, Prefix};
use std::net::TcpStream;

pub(crate) fn serve(n: &Inner, mut s: TcpStream) -> ConnResult {
    loop {
        let body = match read_frame(&mut s, Prefix::U32Be, MAX_FRAME) {
            Ok(Some(b)) => b,
            Ok(None) => return Ok(()),
            // An idle pooled connection: the caller will open a new one if it needs to.
            Err(e) if e.is_timeout() => return Ok(()),
            Err(e) => return Err(refuse(&mut s, e.into())),
        };
        let answer = decode_request(&body)
            .map_err(DhtError::from)
            .and_then(|(bits, req)| {
                if bits != n.cfg.bits {
                    return Err(DhtError::BitsMismatch {
                        ours: n.cfg.bits,
                        theirs: bits,
                    });
                }
                handle(n, req)
            });
        match answer {
            Ok(rep) => write_frame(&mut s, Prefix::U32Be, &encode_reply(&rep))?,
            Err(e) => return Err(refuse(&mut s, e)),
        }
    }
}

/// Tells the peer what was wrong (best effort: it may be gone) and returns the error,
/// which ends this connection's thread.
fn refuse(s: &mut TcpStream, e: DhtError) -> Box<dyn std::error::Error + Send + Sync> {
    let _ = write_frame(
        s,
        Prefix::U32Be,
        &encode_reply(&Reply::Error(e.to_string())),
    );
    Box::new(e)
}

/// The answer to one request. Calls this makes to other nodes (replicas, hand-over)
/// are best effort: their failure is logged, never blamed on the caller.
pub(crate) fn handle(n: &Inner, req: Request) -> Result<Reply, DhtError> {
    let me = n.me;
    Ok(match req {
        Request::Ping => Reply::Pong(me),
        Request::FindStep { id, routing } => match super::lookup::local_step(n, &id, routing) {
            super::routing::Step::Done(v) => Reply::Done(v),
            super::routing::Step::Next(v) => Reply::Next(v),
        },
        Request::GetPredecessor => Reply::Predecessor(n.state().pred),
        Request::GetSuccessors => Reply::Successors(n.state().succs.clone()),
        Request::Notify(p) => notify(n, p)?,
        Request::Get(key) => Reply::Values(n.state().store.get(&key)),
        Request::Put {
            key,
            value,
            forwards,
        } => put(n, key, value, forwards)?,
        Request::Store(entries) => {
            n.state().store.merge(entries);
            Reply::Ok
        }
        Request::PredLeaving { leaver, pred } => {
            check_node(&leaver, n.cfg.bits)?;
            if let Some(p) = &pred {
                check_node(p, n.cfg.bits)?;
            }
            let mut st = n.state();
            if st.pred == Some(leaver) {
                st.pred = pred.filter(|p| *p != me);
            }
            st.forget(&leaver);
            Reply::Ok
        }
        Request::SuccLeaving { leaver, succs } => {
            check_node(&leaver, n.cfg.bits)?;
            succs.iter().try_for_each(|s| check_node(s, n.cfg.bits))?;
            let mut st = n.state();
            if st.succs.first() == Some(&leaver) {
                let mut v: Vec<_> = succs.into_iter().filter(|s| *s != me).collect();
                v.truncate(n.cfg.r);
                st.set_succs(v);
            }
            st.forget(&leaver);
            Reply::Ok
        }
    })
}

/// Chord's `notify(p)`: p thinks it might be our predecessor. If it is closer than the
/// one we have, adopt it and hand it the keys that are now its to keep: everything we
/// hold outside `(p, me]` (its own range, and replicas it should hold as our neighbour).
fn notify(n: &Inner, p: super::routing::NodeRef) -> Result<Reply, DhtError> {
    let me = n.me;
    check_node(&p, n.cfg.bits)?;
    if p.id == me.id {
        if p.addr == me.addr {
            return Ok(Reply::Ok);
        }
        return Err(DhtError::IdTaken {
            id: p.id,
            by: me.addr,
        });
    }
    let handover = {
        let mut st = n.state();
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
            return Ok(Reply::Ok);
        }
        st.pred = Some(p);
        st.store.outside(&p.id, &me.id)
    };
    log::debug!("{}: new predecessor {}", me.addr, p.addr);
    for batch in batches(handover) {
        if let Err(e) = n.call(&p, &Request::Store(batch)) {
            log::info!("{}: hand-over to {} failed: {e}", me.addr, p.addr);
        }
    }
    Ok(Reply::Ok)
}

/// Stores a value. The owner copies it to its r successors before answering, so a put
/// that returned survives the owner's crash. A node that no longer owns the key (its new
/// predecessor joined while the putter's lookup was under way) passes it back.
fn put(n: &Inner, key: Vec<u8>, value: Vec<u8>, forwards: u8) -> Result<Reply, DhtError> {
    let id = Id::hash(&key, n.cfg.bits);
    let (owns, succs, pred) = {
        let mut st = n.state();
        st.store
            .insert(&key, &value)
            .map_err(|e| DhtError::Remote(e.to_string()))?;
        (st.owns(&n.me, &id), st.succs.clone(), st.pred)
    };
    if owns {
        let entry = vec![(key, [value].into())];
        for s in succs.iter().take(n.cfg.r) {
            if let Err(e) = n.call(s, &Request::Store(entry.clone())) {
                log::info!("{}: replica to {} failed: {e}", n.me.addr, s.addr);
            }
        }
    } else if let (Some(p), true) = (pred, forwards > 0) {
        let fwd = Request::Put {
            key,
            value,
            forwards: forwards - 1,
        };
        if let Err(e) = n.call(&p, &fwd) {
            log::info!(
                "{}: passing a put back to {} failed: {e}",
                n.me.addr,
                p.addr
            );
        }
    }
    Ok(Reply::Ok)
}
