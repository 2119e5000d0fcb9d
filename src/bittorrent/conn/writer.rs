//! The writing half of a connection: drains its bounded queue into the socket.
//!
//! Our own messages arrive encoded; a `Serve` is answered here by reading the block
//! from disk straight into the send buffer (through the node's upload cap, its u_i,
//! when it has one). A `Serve` queued before a choke is skipped (its generation is
//! old): a choked peer's requests are dropped, as BEP 3 says; so is one the peer
//! cancelled (its reader passes cancels straight here). When the peer stops
//! reading, `write_all` blocks here, not in the coordinator; the queue fills, and the
//! coordinator drops the peer.

use super::gate::Gate;
use super::open::Writer;
use super::{
    CancelRx, Ctx, Out, OutRx, PeerCounters, Slot, KEEPALIVE_EVERY, MAX_QUEUED_REQUESTS, SEND_FLUSH,
};
use crate::bittorrent::msg::piece_header;
use crate::net::ConnResult;
use crossbeam_channel::select;
use std::collections::HashSet;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Bytes of a `piece` message before its block.
const PIECE_HEADER: usize = 13;

/// Writes until the coordinator drops the queue or the socket fails.
pub(super) fn write_loop(
    ctx: &Ctx,
    stream: &mut Writer,
    (rx, cancels): (&OutRx, &CancelRx),
    (gate, queued): (&Gate, &AtomicUsize),
) -> ConnResult {
    let mut out = Vec::with_capacity(SEND_FLUSH + 64 * 1024);
    let mut counters = Arc::new(PeerCounters::default());
    let mut cancelled = HashSet::new();
    // With an upload cap, each block is sent as soon as it is paid for: a choke or a
    // cancel then takes back every block still queued, not a buffer's worth.
    let flush_at = if ctx.upload_bucket.is_some() {
        1
    } else {
        SEND_FLUSH
    };
    loop {
        let first = select! {
            recv(rx) -> o => match o {
                Ok(o) => o,
                Err(_) => return Ok(()), // the coordinator dropped this peer
            },
            recv(ctx.stop) -> _ => return Ok(()),
            default(KEEPALIVE_EVERY) => {
                // Taken like the coordinator takes it (`Link::push`): never mid-message.
                if queued.compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                    let r = stream.write_all(&[0; 4]); // keep-alive
                    queued.fetch_sub(1, Ordering::AcqRel);
                    r?;
                }
                continue;
            }
        };
        // Items taken from the queue whose bytes are not on the wire yet.
        let mut taken = 0;
        let mut next = Some(first);
        while let Some(o) = next {
            taken += 1;
            match o {
                Out::Bytes(b) => out.extend_from_slice(&b),
                Out::Counters(c) => counters = c,
                Out::Serve { req, slot, gen: g } => {
                    cancelled.extend(cancels.try_iter());
                    if cancelled.len() > MAX_QUEUED_REQUESTS {
                        cancelled.clear(); // stale: cancels of blocks long sent
                    }
                    if g == gate.gen() && !cancelled.remove(&req) {
                        serve(ctx, req, slot, &counters, &mut out)?;
                    }
                }
            }
            if out.len() >= flush_at {
                stream.send_in_place(&mut out)?;
                out.clear();
                queued.fetch_sub(std::mem::take(&mut taken), Ordering::AcqRel);
            }
            next = rx.try_recv().ok();
        }
        if !out.is_empty() {
            stream.send_in_place(&mut out)?;
            out.clear();
        }
        queued.fetch_sub(taken, Ordering::AcqRel);
    }
}

/// Appends one `piece` message: header, then the block read from disk.
fn serve(
    ctx: &Ctx,
    (index, begin, length): (u32, u32, u32),
    slot: Slot,
    counters: &PeerCounters,
    out: &mut Vec<u8>,
) -> ConnResult {
    if let Some(b) = &ctx.upload_bucket {
        b.take(PIECE_HEADER + length as usize);
    }
    piece_header(index, begin, length as usize, out);
    let at = out.len();
    out.resize(at + length as usize, 0);
    let offset = index as u64 * ctx.storage.piece_length() + begin as u64;
    ctx.storage.read_at(offset, &mut out[at..])?;
    if ctx.corrupt && length > 0 {
        out[at] ^= 0xFF; // the corrupt peer of the tests: one wrong byte per block
    }
    let len = length as u64;
    ctx.uploaded.fetch_add(len, Ordering::Relaxed);
    counters.up.fetch_add(len, Ordering::Relaxed);
    match slot {
        Slot::Optimistic => counters.up_optimistic.fetch_add(len, Ordering::Relaxed),
        Slot::RegularLeeching => counters
            .up_regular_leeching
            .fetch_add(len, Ordering::Relaxed),
        Slot::RegularSeeding => 0,
    };
    Ok(())
}
