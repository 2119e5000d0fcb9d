//! Calling a peer: connect on a short-lived thread, then run the connection on its own.
//! Under `--encryption prefer`, a peer that closes on our MSE handshake is called once
//! more in plaintext (see `open.rs` for what real clients do).

use super::{open, serve, Ctx, Event, HANDSHAKE_TIMEOUT};
use crate::bittorrent::mse::Policy;
use log::debug;
use std::net::SocketAddr;
use std::sync::Arc;

/// Calls `addr` from this thread and, once connected, runs the connection on a
/// thread of its own (`bt-peer-ADDR`) with the node's encryption policy.
pub fn call(ctx: &Arc<Ctx>, addr: SocketAddr) -> std::io::Result<()> {
    call_with(ctx, addr, ctx.encryption)
}

/// [`call`] with a given policy. Under `Prefer`, a peer that closes on our MSE
/// handshake is called once more in plaintext, on a new connection (its own thread),
/// as real clients do.
pub(super) fn call_with(ctx: &Arc<Ctx>, addr: SocketAddr, policy: Policy) -> std::io::Result<()> {
    let stream = crate::net::connect(addr, Some(HANDSHAKE_TIMEOUT))?;
    let c = ctx.clone();
    ctx.conns.spawn(
        format!("bt-peer-{addr}"),
        stream,
        move |stream| match serve(c.clone(), stream, Some(policy)) {
            Err(e) if policy == Policy::Prefer => match e.downcast::<open::OpenError>() {
                Ok(o) if o.no_mse_peer() => {
                    debug!("peer {addr}: {o}; calling again in plaintext");
                    call_with(&c, addr, Policy::Off)?;
                    Ok(())
                }
                Ok(o) => Err(o),
                Err(e) => Err(e),
            },
            r => r,
        },
    )
}

/// Calls `addr` on a short-lived thread of its own, so that the caller (the
/// coordinator) never waits for a TCP connect; a failure comes back as an event.
pub fn dial(ctx: &Arc<Ctx>, addr: SocketAddr) {
    let c = ctx.clone();
    let r = ctx.conns.spawn_worker(format!("bt-dial-{addr}"), move || {
        if let Err(e) = call(&c, addr) {
            debug!("cannot connect to {addr}: {e}");
            let _ = c.events.send(Event::DialFailed(addr));
        }
    });
    if r.is_err() {
        let _ = ctx.events.try_send(Event::DialFailed(addr));
    }
}
