//! The extension protocol on a connection (BEP 10) and the seeder's side of metadata
//! exchange (BEP 9, `ut_metadata`): how a newcomer holding only a magnet link (磁力链接)
//! gets the info dict from us (notes 6.5, joining a torrent).
//!
//! Both handshakes set the reserved bit; then each side sends an extended handshake
//! naming the id it wants `ut_metadata` under, and the size of its info dict. A request
//! for block `piece` is answered here, by the reader, with the block or a reject: it
//! is this connection's business, not a decision for the coordinator. The answer goes
//! to the writer's queue like any other bytes (dropped if the queue is full: a peer
//! that floods us with requests gets fewer answers, never more memory).

use super::{Ctx, Out, OutQueue};
use crate::bittorrent::metadata;
use crate::bittorrent::metainfo::Metainfo;
use crate::bittorrent::msg::extended::{self, ExtHandshake, Metadata, OUR_UT_METADATA};
use crate::bittorrent::msg::handshake::Handshake;
use crate::wire::WireError;
use log::debug;
use sha1::{Digest, Sha1};
use std::sync::Arc;

/// What we call ourselves in the extended handshake (`v`).
pub const CLIENT_NAME: &str = "p2plab 0.1";

/// The info dict's bytes to serve, when they are exactly the ones the info-hash was
/// made from. We re-encode the parsed dict canonically (as `bt make` writes it): a
/// torrent whose dict had other keys or another order hashes differently, and then we
/// serve no metadata rather than wrong metadata.
pub fn metadata_of(meta: &Metainfo) -> Option<Arc<Vec<u8>>> {
    let bytes = crate::bittorrent::bencode::encode(&meta.info.to_value());
    let hash: [u8; 20] = Sha1::digest(&bytes).into();
    (hash == meta.info_hash && bytes.len() <= extended::MAX_METADATA_SIZE).then(|| Arc::new(bytes))
}

/// Our extended handshake frame, sent right after the BitTorrent handshake to a peer
/// that set the reserved bit.
pub(super) fn our_ext_handshake(ctx: &Ctx) -> Vec<u8> {
    let hs = ExtHandshake {
        ut_metadata: ctx.metadata.as_ref().map(|_| OUR_UT_METADATA),
        metadata_size: ctx.metadata.as_ref().map(|m| m.len()),
        client: Some(CLIENT_NAME.into()),
        port: None,
    };
    let mut out = Vec::new();
    extended::encode_into(extended::HANDSHAKE, &hs.encode(), &mut out);
    out
}

/// Does this peer speak BEP 10?
pub(super) fn supports(theirs: &Handshake) -> bool {
    extended::supports_extended(&theirs.reserved)
}

/// One connection's extension state: the id the peer receives ut_metadata under.
#[derive(Default)]
pub(super) struct ExtState {
    peer_ut_metadata: Option<u8>,
}

impl ExtState {
    /// Handles one id-20 message; a malformed one drops the peer like any other.
    pub fn on_message(
        &mut self,
        ctx: &Ctx,
        id: u8,
        payload: &[u8],
        out: &OutQueue,
    ) -> Result<(), WireError> {
        match id {
            extended::HANDSHAKE => {
                let hs = ExtHandshake::decode(payload)?;
                debug!("extended handshake: {hs:?}");
                self.peer_ut_metadata = hs.ut_metadata;
            }
            OUR_UT_METADATA => {
                if let Metadata::Request { piece } = Metadata::decode(payload)? {
                    self.answer(ctx, piece, out);
                }
                // Data or reject we never asked for: ignored.
            }
            id => debug!("ignoring extended id {id}"),
        }
        Ok(())
    }

    fn answer(&self, ctx: &Ctx, piece: u32, out: &OutQueue) {
        // A peer that did not say where it wants ut_metadata cannot be answered.
        let Some(their_id) = self.peer_ut_metadata else {
            return;
        };
        let mut frame = Vec::new();
        let reply = match ctx.metadata.as_deref() {
            Some(info) => match metadata::block(info, piece) {
                Some(block) => Metadata::Data {
                    piece,
                    total_size: info.len(),
                    block,
                },
                None => Metadata::Reject { piece },
            },
            None => Metadata::Reject { piece },
        };
        reply.encode_into(their_id, &mut frame);
        let _ = out.put(Out::Bytes(frame));
    }
}
