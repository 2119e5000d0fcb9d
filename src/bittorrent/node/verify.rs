//! The verifier (`bt-verify`): joins a finished piece's blocks, checks its SHA-1 and
//! writes it, off the coordinator, so hashing never delays a decision. The verdict
//! goes back to the coordinator, which alone changes what the node has.

use crate::bittorrent::conn::{Ctx, PeerKey};
use crate::bittorrent::state::pieces::Finished;
use crossbeam_channel::{Receiver, Sender};
use log::warn;

/// The verifier's answer on one piece.
pub struct Verdict {
    pub index: usize,
    /// The SHA-1 matched.
    pub ok: bool,
    /// ... and the piece is on disk.
    pub written: bool,
    /// Every peer that sent a block of it.
    pub from: Vec<PeerKey>,
}

/// Runs until the coordinator drops its end of `rx`.
pub fn verifier(ctx: &Ctx, rx: &Receiver<Finished>, verdicts: &Sender<Verdict>) {
    let mut buf = Vec::new();
    for f in rx.iter() {
        buf.clear();
        f.blocks.iter().for_each(|b| buf.extend_from_slice(b));
        let ok = ctx.storage.verify(f.index, &buf);
        let written = ok
            && match ctx.storage.write_piece(f.index, &buf) {
                Ok(()) => true,
                Err(e) => {
                    warn!("cannot write piece {}: {e}", f.index);
                    false
                }
            };
        let v = Verdict {
            index: f.index,
            ok,
            written,
            from: f.from,
        };
        if verdicts.send(v).is_err() {
            return;
        }
    }
}
