//! The two policies of the notes, as pure functions: state in, decision out. A student
//! changes them without touching a socket; the node's coordinator applies them.
//!
//! | file | decision |
//! |---|---|
//! | `pick.rs` | which piece and which block to ask a peer for: [`pick::pick_piece`] (the first 4 at random, then rarest first 最稀缺优先), [`pick::pick_partial`], [`pick::pick_endgame`] |
//! | `pipeline.rs` | how many block requests to keep outstanding at a peer: [`pipeline::depth`], by the rate it sends us |
//! | `choke.rs` | whom to upload to: [`choke::choose_regular`] (一报还一报 tit-for-tat, the top [`choke::UPLOAD_SLOTS`] by rate), [`choke::choose_optimistic`] (优化疏通), [`choke::rechoke`] |

pub mod choke;
pub mod pick;
pub mod pipeline;
