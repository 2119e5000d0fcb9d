//! The verifier (`bt-verify`): checks a finished piece's SHA-1 and writes it, off the
//! coordinator, so hashing never delays a decision. It hashes and writes the piece block
//! by block, never joining the blocks (that would copy every byte once more). The verdict
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
    for f in rx.iter() {
        let ok = ctx.storage.verify_blocks(f.index, &f.blocks);
        let written = ok
            && match ctx.storage.write_blocks(f.index, &f.blocks) {
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
        ctx.blocks.give_back(f.blocks);
        if verdicts.send(v).is_err() {
            return;
        }
    }
}
