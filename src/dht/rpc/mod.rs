//! The ring's remote calls (远程调用) over UDP: one socket per node, transaction ids.
//!
//! | file | role |
//! |---|---|
//! | `serve.rs` | the reader thread (datagram → rate limit → decode → coordinator) and [`Replier`], how the coordinator answers without waiting |
//! | `call.rs` | the calling side: a [`Caller`] with a few private sockets, [`exchange`] (send, wait, retry, match txid and source) and the id checks |
//! | `limit.rs` | the per-source token buckets that stop a flooding peer at the door |
//!
//! ```text
//!   other node ──datagram──► node socket ──► reader "dht-recv-ADDR" ──Incoming──► coordinator
//!   other node ◄──datagram── node socket ◄──────────── Replier::reply (send_to) ── coordinator
//!
//!   worker / handle ──Caller::call──► private socket ──► another node's socket ...
//! ```

mod call;
mod limit;
mod serve;

pub use call::{check_node, exchange, honest, Caller, POOL_SIZE, TRIES, TRY_TIMEOUT};
pub use limit::{Limiter, BURST, RATE, SOURCES};
pub use serve::{reader, Counters, Ctx, Drops, Incoming, Replier, SEND_TIMEOUT, STOP_CHECK};
