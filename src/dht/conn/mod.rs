//! One connection (连接) between two ring nodes, from either end.
//!
//! | file | role |
//! |---|---|
//! | `incoming.rs` | a connection another node opened to us: a reader thread that turns frames into [`Incoming`] events for the coordinator, and a writer thread fed by a bounded queue ([`OUT_QUEUE`]) |
//! | `outgoing.rs` | the calling side: a [`Pool`] of idle connections to other nodes and a [`Caller`] that sends one request and reads its reply; it blocks, so it runs on a worker or on the thread that asked, never on the coordinator |
//!
//! ```text
//!   other node ──request──► reader "dht-conn-ADDR" ──Incoming──► coordinator
//!   other node ◄──reply──── writer "dht-send-ADDR" ◄──Out─────── coordinator
//!
//!   worker / handle ──Caller::call──► pooled socket ──► another node's reader ...
//! ```

mod incoming;
mod outgoing;

pub use incoming::{serve, Ctx, Incoming, Out, IDLE_TIMEOUT, OUT_QUEUE};
pub use outgoing::{check_node, honest, Caller, POOL_SIZE, RPC_TIMEOUT};
