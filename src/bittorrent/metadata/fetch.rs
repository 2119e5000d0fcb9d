//! The newcomer's side of metadata exchange: from a magnet link's info-hash and a list
//! of peers (from the link's trackers) to the info dict, before the node starts.
//!
//! ```text
//!   connect ─► MSE or not ─► handshake (BEP 10 bit) ─► extended handshake {m: {ut_metadata: 1}}
//!   ◄─ their extended handshake {m: {ut_metadata: X}, metadata_size: N}   N checked first
//!   ─► request piece 0..⌈N/16 KiB⌉ ─►   ◄─ data (block) ... ─► SHA-1 = info-hash? done
//! ```
//! Peers are asked one after the other; one that lacks BEP 10 or BEP 9, rejects a
//! request, breaks a rule, or sends a dict that does not hash to the info-hash is left
//! for the next. Nothing a peer says is allocated before its size meets a limit.

use super::{Assembler, MetadataError};
use crate::bittorrent::metainfo::{InfoHash, Metainfo};
use crate::bittorrent::mse::{self, MseError, MseStream, Policy};
use crate::bittorrent::msg::extended::{
    self, ExtHandshake, Metadata, MAX_METADATA_SIZE, METADATA_BLOCK, OUR_UT_METADATA,
};
use crate::bittorrent::msg::handshake::{Handshake, PeerId};
use crate::bittorrent::msg::{decode, Message};
use crate::rng::Rng;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// One peer gets this long to hand over the whole dict.
pub const PER_PEER: Duration = Duration::from_secs(20);
/// Each read and write on a peer's socket.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest frame accepted: a metadata block with its dict, or the bitfield of the
/// largest torrent whose metadata we accept (20 bytes of hash per piece).
const MAX_FRAME: usize = {
    let block = METADATA_BLOCK + 512;
    let bitfield = MAX_METADATA_SIZE / 20 / 8 + 1;
    if block > bitfield {
        block
    } else {
        bitfield
    }
};

/// How we meet the peers.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    pub peer_id: PeerId,
    pub encryption: Policy,
    pub rng_seed: u64,
}

/// Asks `peers` in turn for the info dict of `info_hash`; returns its bytes, which
/// hash to `info_hash`, or every peer's reason for failing.
pub fn fetch(
    info_hash: &InfoHash,
    peers: &[SocketAddr],
    cfg: &FetchConfig,
) -> Result<Vec<u8>, String> {
    let mut why = Vec::new();
    let mut rng = Rng::new(cfg.rng_seed);
    for &addr in peers {
        match from_peer(info_hash, addr, cfg, cfg.encryption, &mut rng) {
            Ok(info) => return Ok(info),
            Err(e) => why.push(format!("{addr}: {e}")),
        }
    }
    if why.is_empty() {
        return Err("no peers to ask for the metadata".into());
    }
    Err(format!("no peer gave the metadata: {}", why.join("; ")))
}

/// A `.torrent` around fetched info dict bytes: parsed by the same strict decoder as a
/// file, so a dict that hashes right but breaks a rule (a `..` path) is still refused.
pub fn metainfo_from(info: &[u8], announce: Option<&str>) -> Result<Metainfo, String> {
    let mut t = b"d".to_vec();
    if let Some(a) = announce {
        t.extend(format!("8:announce{}:{a}", a.len()).as_bytes());
    }
    t.extend(b"4:info");
    t.extend(info);
    t.push(b'e');
    Metainfo::from_bytes(&t).map_err(|e| format!("fetched metadata: {e}"))
}

fn from_peer(
    info_hash: &InfoHash,
    addr: SocketAddr,
    cfg: &FetchConfig,
    policy: Policy,
    rng: &mut Rng,
) -> Result<Vec<u8>, String> {
    let stream = crate::net::connect(addr, Some(IO_TIMEOUT)).map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(IO_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let mut ours = Handshake::new(*info_hash, cfg.peer_id);
    extended::set_extended(&mut ours.reserved);
    let mut s = match policy {
        Policy::Off => {
            let mut s = MseStream::plaintext(stream, Vec::new());
            ours.write_to(&mut s).map_err(|e| e.to_string())?;
            s
        }
        _ => match mse::initiate(stream, info_hash, policy, &ours.encode(), rng) {
            Ok(s) => s,
            // A peer without MSE closes on it: once more in plaintext, as conn does.
            Err(MseError::Closed { .. } | MseError::Io(_)) if policy == Policy::Prefer => {
                return from_peer(info_hash, addr, cfg, Policy::Off, rng);
            }
            Err(e) => return Err(e.to_string()),
        },
    };
    let theirs = Handshake::read_from(&mut s).map_err(|e| e.to_string())?;
    if theirs.info_hash != *info_hash {
        return Err("handshake names another torrent".into());
    }
    if !extended::supports_extended(&theirs.reserved) {
        return Err("peer does not speak the extension protocol (BEP 10)".into());
    }
    let hs = ExtHandshake {
        ut_metadata: Some(OUR_UT_METADATA),
        client: Some(crate::bittorrent::conn::ext::CLIENT_NAME.into()),
        ..ExtHandshake::default()
    };
    let mut out = Vec::new();
    extended::encode_into(extended::HANDSHAKE, &hs.encode(), &mut out);
    s.write_all(&out).map_err(|e| e.to_string())?;
    exchange(&mut s, info_hash).map_err(|e| e.to_string())
}

/// Reads messages until the dict is whole; asks for every block at once (at most
/// 512 of them, 8 MiB).
fn exchange(s: &mut MseStream<TcpStream>, info_hash: &InfoHash) -> Result<Vec<u8>, String> {
    let deadline = Instant::now() + PER_PEER;
    let mut asm: Option<(Assembler, u8)> = None;
    let mut body = Vec::new();
    loop {
        if Instant::now() > deadline {
            return Err(format!("no whole dict within {PER_PEER:?}"));
        }
        read_frame(s, &mut body)?;
        let Message::Extended { id, payload } = decode(&body).map_err(|e| e.to_string())? else {
            continue; // bitfield, have, ...: not what we came for
        };
        if id == extended::HANDSHAKE {
            let hs = ExtHandshake::decode(payload).map_err(|e| e.to_string())?;
            let (Some(their_id), Some(size)) = (hs.ut_metadata, hs.metadata_size) else {
                return Err("peer does not offer ut_metadata (BEP 9)".into());
            };
            let a = Assembler::new(*info_hash, size).map_err(|e| e.to_string())?;
            let mut out = Vec::new();
            for piece in 0..a.num_pieces() as u32 {
                Metadata::Request { piece }.encode_into(their_id, &mut out);
            }
            s.write_all(&out).map_err(|e| e.to_string())?;
            asm = Some((a, their_id));
            continue;
        }
        let Some((a, _)) = asm.as_mut() else {
            continue; // before the handshake: nothing asked yet
        };
        if id != OUR_UT_METADATA {
            continue;
        }
        match Metadata::decode(payload).map_err(|e| e.to_string())? {
            Metadata::Data {
                piece,
                total_size,
                block,
            } => {
                if total_size != a.size() {
                    return Err(MetadataError::BadBlock {
                        piece,
                        len: block.len(),
                    }
                    .to_string());
                }
                if let Some(info) = a.add(piece, block).map_err(|e| e.to_string())? {
                    return Ok(info);
                }
            }
            Metadata::Reject { piece } => return Err(format!("peer rejected block {piece}")),
            Metadata::Request { .. } => {} // we have nothing to give yet
        }
    }
}

/// One frame's body into `body`, its length checked before it is read.
fn read_frame(s: &mut impl Read, body: &mut Vec<u8>) -> Result<(), String> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).map_err(|e| e.to_string())?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(format!("message of {len} bytes exceeds {MAX_FRAME}"));
    }
    body.resize(len, 0);
    s.read_exact(body).map_err(|e| e.to_string())
}
