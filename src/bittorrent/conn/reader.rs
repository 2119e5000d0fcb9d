//! The reading half of a connection: bytes → checked messages → one event per read.
//!
//! Everything a peer sends is checked here against the torrent (a block must fit its
//! piece, a have must name a piece, a bitfield must have the right length and no spare
//! bit set); a peer that breaks the wire rules is dropped. What the messages *mean*
//! (interest, requests to answer, blocks to keep) is the coordinator's business.

use super::ext::ExtState;
use super::gate::Gate;
use super::inbuf::InBuf;
use super::open::Reader;
use super::{is_timeout, Ctx, Event, In, Out, OutQueue, PeerKey, Request};
use super::{MAX_QUEUED_REQUESTS, PEER_TIMEOUT, RECV_BUF};
use crate::bittorrent::msg::bitfield::Bitfield;
use crate::bittorrent::msg::{decode, max_message_len, split_frame, Message, MAX_BLOCK};
use crate::net::ConnResult;
use crate::wire::WireError;
use crossbeam_channel::{Sender, TrySendError};
use log::debug;

/// Reads until the peer hangs up, breaks a rule, or stays silent [`PEER_TIMEOUT`].
pub(super) fn read_loop(
    ctx: &Ctx,
    key: PeerKey,
    mut stream: Reader,
    (cancels, replies, gate): (&Sender<Request>, &OutQueue, &Gate),
) -> ConnResult {
    let mut ext = ExtState::default();
    stream.get_ref().set_read_timeout(Some(PEER_TIMEOUT))?;
    let max_len = max_message_len(ctx.num_pieces());
    let mut inb = InBuf {
        buf: vec![0; RECV_BUF + max_len + 4],
        start: 0,
        end: 0,
    };
    loop {
        match inb.fill(&mut stream) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                if let Some(b) = &ctx.download_bucket {
                    b.take(n); // a download cap: TCP flow control slows the sender
                }
            }
            Err(e) if is_timeout(&e) => return Err(format!("silent for {PEER_TIMEOUT:?}").into()),
            Err(e) => return Err(e.into()),
        }
        let mut batch = Vec::new();
        while let Some(total) = split_frame(inb.data(), max_len)? {
            let msg = decode(&inb.data()[4..total])?;
            if let Message::Extended { id, payload } = msg {
                ext.on_message(ctx, id, payload, replies)?;
                inb.start += total;
                continue;
            }
            match check(ctx, msg)? {
                Checked::Msg(m) => batch.push(m),
                // Full: more cancels than requests it may queue; the rest are served.
                Checked::Cancel(r) => drop(cancels.try_send(r)),
                Checked::Request(req) => answer(ctx, req, gate, replies)?,
                Checked::Nothing => {}
            }
            inb.start += total;
        }
        if !batch.is_empty() {
            ctx.events
                .send(Event::Msgs { key, batch })
                .map_err(|_| "node is stopping")?;
        }
    }
}

/// What a checked message asks for.
enum Checked {
    Msg(In),
    Cancel(Request),
    Request(Request),
    Nothing,
}

/// A request: to the writer when the gate is open and we have the piece (`gate.rs`),
/// else dropped. More than the writer's queue holds is abuse: the peer is dropped.
fn answer(ctx: &Ctx, req: Request, gate: &Gate, out: &OutQueue) -> ConnResult {
    let Some((slot, gen)) = gate
        .admit(&ctx.ours)
        .filter(|_| ctx.ours.has(req.0 as usize))
    else {
        debug!(
            "ignoring request for piece {} (choked, or we lack it)",
            req.0
        );
        return Ok(());
    };
    match out.put(Out::Serve { req, slot, gen }) {
        Ok(()) => Ok(()),
        Err(TrySendError::Full(_)) => {
            Err(format!("more than {MAX_QUEUED_REQUESTS} requests queued").into())
        }
        Err(TrySendError::Disconnected(_)) => Err("the writer has ended".into()),
    }
}

/// A decoded message, checked against the torrent.
fn check(ctx: &Ctx, msg: Message<'_>) -> Result<Checked, WireError> {
    let n = ctx.num_pieces();
    let piece_size = |i: usize| ctx.storage.piece_size(i) as u64;
    Ok(Checked::Msg(match msg {
        Message::KeepAlive | Message::Port(_) | Message::Extended { .. } => {
            return Ok(Checked::Nothing)
        }
        Message::Unknown(id) => {
            debug!("ignoring message id {id}");
            return Ok(Checked::Nothing);
        }
        Message::Choke => In::Choke,
        Message::Unchoke => In::Unchoke,
        Message::Interested => In::Interested,
        Message::NotInterested => In::NotInterested,
        Message::Have(i) if i as usize >= n => {
            return Err(WireError::Malformed(
                "have names a piece that does not exist",
            ))
        }
        Message::Have(i) => In::Have(i as usize),
        // BEP 3 allows it only first, but aria2c 1.36 sends it again mid-stream: a
        // later one (still fully checked) is the peer's new state.
        Message::Bitfield(bits) => In::Bitfield(Bitfield::from_bytes(bits, n)?),
        Message::Request {
            index,
            begin,
            length,
        }
        | Message::Cancel {
            index,
            begin,
            length,
        } => {
            let i = index as usize;
            if i >= n || begin as u64 + length as u64 > piece_size(i) {
                return Err(WireError::Malformed("request outside the piece"));
            }
            let r = (index, begin, length);
            if !matches!(msg, Message::Request { .. }) {
                return Ok(Checked::Cancel(r));
            }
            return Ok(Checked::Request(r));
        }
        Message::Piece {
            index,
            begin,
            block,
        } => {
            let i = index as usize;
            let fits = i < n && begin.is_multiple_of(MAX_BLOCK) && {
                let (size, b) = (piece_size(i), begin as u64);
                b < size && block.len() as u64 == (size - b).min(MAX_BLOCK as u64)
            };
            if !fits {
                return Err(WireError::Malformed("block does not match any request"));
            }
            In::Block {
                index: i,
                begin,
                data: ctx.blocks.copy_of(block),
            }
        }
    }))
}
