//! # BitTorrent (notes 6.5, P2P文件分发：BitTorrent)
//!
//! A file is cut into pieces (块) of 256 KiB (文件被分为一个个块256KB). A **tracker**
//! (追踪器) knows which peers take part in a **torrent** (洪流: the group of peers
//! exchanging one file's pieces). Each peer keeps a **bitmap** (位图) of the pieces it
//! has, `0101…`, tells its neighbours, asks them for the pieces it lacks, the rarest
//! first (最稀缺优先), and serves the pieces it has while it is still downloading: peers
//! serve each other (相互服务). Whom it serves is tit-for-tat (一报还一报): the 4 peers that
//! send to it fastest, re-evaluated every 10 s, plus one optimistic unchoke (优化疏通)
//! every 30 s.
//!
//! ```text
//!        .torrent (name, piece length, SHA-1 of every piece, tracker URL)
//!              │ info-hash = SHA-1(info dict)
//!              ▼
//!   peer ──announce (info-hash, port, left)──► tracker ──► list of peers
//!     │
//!     └──TCP──► peer:  handshake (info-hash) · bitfield 0101… · interested
//!                      ◄── unchoke · request(index, begin, 16 KiB) ×64 ──►
//!                      ◄── piece(index, begin, block) ...  SHA-1 check, have ──►
//! ```
//!
//! This module speaks BEP 3 byte for byte (with BEP 23 compact peer lists and BEP 48
//! scrape), so aria2c, opentracker, mktorrent and Wireshark accept it (`make interop`).
//!
//! ## Which file holds which role
//!
//! | role | where |
//! |---|---|
//! | messages and their codec | `msg/` ([`msg::Message`], `msg/handshake.rs`, `msg/bitfield.rs`) |
//! | one connection | `conn/`: a reader thread and a writer thread fed by a bounded queue |
//! | the node: bind, accept, handle, stop | `node/` ([`node::Client`]); `node/coordinator.rs` decides |
//! | what the node knows | `state/` ([`state::State`], `state/pieces.rs`), owned by the coordinator |
//! | the decisions, as pure functions | `policy/` (`policy/pick.rs`: rarest first; `policy/choke.rs`: tit-for-tat) |
//! | the tracker | `tracker/` (`tracker/msg.rs`: announce and scrape; `tracker/node.rs`: the server) |
//! | the `.torrent` file | `bencode.rs`, `metainfo.rs`, `make.rs` |
//! | pieces on disk | `storage.rs` (a piece written in one call: `pwritev.rs`) |
//! | a whole swarm in one call | `swarm/` ([`swarm::run_swarm`]) |
//! | "no uTP here", so uTP-first clients use TCP at once | `utp_reset.rs` |
//! | magnet links, metadata from peers (BEP 9/10, 磁力链接) | `metadata/`, `msg/extended.rs` |
//! | encrypted handshakes (MSE/PE, 协议加密), as real clients try first | `mse/` ([`mse::initiate`], [`mse::accept`]) |
//!
//! ## Where to look first
//!
//! - [`policy`]: the two policies of the notes, with unit tests: the first 4 pieces at
//!   random, then rarest first, partial pieces first, endgame; the top 4 by rate every
//!   10 s and an optimistic unchoke every 30 s.
//! - `node/coordinator.rs`: where those decisions are applied, one event at a time.
//! - [`metainfo`] and [`bencode`]: what a `.torrent` holds and why the info-hash is
//!   computed over the exact bytes of the file.
//! - [`msg`]: the peer wire, each decoder a pure function tested from byte literals.
//! - [`swarm`]: a tracker, a seed and N capped peers in one call, measured against the
//!   notes' bound; the lab, the bench and the tests use it.
//!
//! ## Threads
//!
//! Per connection, `bt-peer-ADDR` reads and `bt-send-ADDR` writes; neither decides.
//! `bt-coord` owns the node's state and decides everything: it reads events from the
//! connections, the verifier, the handle and a tick, and hands messages to each
//! connection's bounded queue with a non-blocking try_send; a peer whose queue is full (it stopped
//! reading) is dropped, never waited for. `bt-verify` hashes and writes finished pieces,
//! so SHA-1 never delays a decision; `bt-announce` talks to the tracker.
//!
//! The transfer path keeps what it needs for speed (`bench-bittorrent` may not fall more
//! than 10 % behind the one-thread-per-peer design it replaced, issue 11). Handing
//! every message through the coordinator cost thread wake-ups (about 30,000 per
//! 256 MiB against 5,000), so four shortcuts remain, each applying a decision the
//! coordinator made, never making one:
//! - block *data* never passes through a decision: a received block is read once into
//!   its own buffer, moved (not copied) through the coordinator to the verifier, and
//!   recycled back to the readers (`conn/pool.rs`); a block we send is read from disk
//!   by the writer thread, straight into its send buffer;
//! - a peer's requests go from its reader straight to its writer when the coordinator
//!   has unchoked it and we have the piece (`conn/gate.rs`); its cancels likewise;
//! - our own small messages (haves, requests) are gathered per turn of the
//!   coordinator's loop and, on a plaintext connection whose writer is idle, written at
//!   once without waiting (`conn::Link::push`); a full socket still goes to the queue;
//! - the verifier writes a piece with one `pwritev` per file, not one `pwrite` per block.
//!
//! ## Transmission (3.00, what most Linux desktops ship)
//!
//! `tests/interop/transmission.sh` runs `transmission-cli` with its default settings against
//! our tracker, seed and leecher, each side in its own network namespace (Transmission
//! ignores peers on 127.x). What it expects, read from captures, its debug log
//! (`TR_DEBUG_FD=2`) and its source (handshake.c and peer-mgr.c of libtransmission):
//!
//! - **uTP first, and no TCP retry.** It opens every peer a tracker names as uTP. When that
//!   attempt fails, whether by our `ST_RESET` (`utp_reset.rs`; its libutp reports
//!   ECONNRESET within a millisecond, so the reset's fields are right) or by a timeout, its
//!   gotError() reconnects over TCP and sends the handshake, then falls through to its
//!   generic error branch and aborts that very handshake. The peer is marked unreachable and
//!   not called again for 15 min. Nothing we could answer on UDP makes it fall back to TCP;
//!   only speaking uTP (BEP 29) itself would. What works is the other way round: **we call
//!   Transmission.** It accepts incoming TCP, plaintext or MSE, even from a peer it marked
//!   unreachable. Its SYN comes from its listening port, so the uTP twin hands that address
//!   to the node, which calls it over TCP at once (a "call-back", rationed against forged
//!   SYNs); the tracker's next answer would name it too, but only after an interval.
//! - **Choking and interest only every 10 s.** It decides whom it is interested in and
//!   whom it unchokes in one pulse, every 10 s from the torrent's start
//!   (its RECHOKE_PERIOD_MSEC), never when a peer connects or says "interested". A new
//!   connection waits 0–10 s for Transmission's first request (it downloads) or its unchoke
//!   (it seeds), whatever the other side does, and its "interested" then leaves up to 2 s
//!   later (it batches such messages). Our call-back, handshake and unchoke take
//!   milliseconds of that. Measured: first piece byte 11–13.5 s after its first peer packet,
//!   or 1–2.5 s when the connection happened to land just before a pulse; the 8 MiB then
//!   take 3–3.6 s (MEASURE=1 in the interop test).
//! - **A slow start.** With default settings, port mapping (UPnP discovery) holds its event
//!   loop for about 8 s after start, before its first announce.
//!
//! ## Simplified here
//!
//! - One torrent per node, IPv4 only, HTTP trackers only (no UDP trackers, no DHT, no
//!   peer exchange, no `announce-list`). Encryption is MSE/PE (`mse/`); uTP is not
//!   spoken, only answered with a reset so that clients fall back to TCP (`utp_reset.rs`).
//! - Of the extensions only BEP 10 with BEP 9's `ut_metadata` (magnet links); no BEP 6
//!   (fast) messages; unknown message ids are skipped.
//! - Picking and choking follow mainline 4.x (see above). A leecher gives regular slots
//!   only to peers that sent it data in the last period, a seed ranks by its upload rate;
//!   there is no "anti-snubbing" extra optimistic slot. A piece that fails its SHA-1 is
//!   blamed on a peer only when that peer sent all of it (no block-level smart ban).
//! - Upload caps are one token bucket per node (its u_i); the protocol's periods scale
//!   with `time_scale`, byte rates never do.
//! - `--pipeline 1` (one request in flight, stop-and-wait) is the instructive slow case:
//!   every block then costs a round trip, which loopback hides and a real link does not.
//! - A leecher writes into `.<name>.part` files and renames them once every piece has
//!   passed its SHA-1 check (`storage.rs`); a restart resumes from the `.part` files and
//!   re-verifies them. If a complete-sized file already has the final name, it is used in
//!   place and checked piece by piece (that is how `p2plab bt get` seeds what it has).
//! - The tracker trusts the socket's address, not the `ip` parameter, and forgets
//!   peers silent for twice the interval.

pub mod bencode;
pub mod conn;
pub mod make;
pub mod metadata;
pub mod metainfo;
pub mod mse;
pub mod msg;
pub mod node;
pub mod policy;
mod pwritev;
pub mod state;
pub mod storage;
pub mod swarm;
pub mod tracker;
pub mod utp_reset;

pub use node::NodeEvent;
pub use state::MAX_BAD_PIECES;
