//! One connection, the same for both kinds of node: the opening exchange, then a reader
//! thread that turns frames into events for the coordinator, and a writer thread fed by
//! a bounded queue.
//!
//! ```text
//!   socket ──read_msg──► "kazaa-…-conn-ADDR" ──Event (bounded, waits)──► coordinator
//!   socket ◄─write_all── "kazaa-…-send-ADDR" ◄──frames (bounded, try_send)── coordinator
//! ```
//!
//! The coordinator never waits on a socket: [`Link::send`] puts encoded frames in the
//! writer's queue with `try_send`, and a full queue means the peer stopped reading, so
//! the coordinator drops it. A coordinator hands over a peer's frames of a whole batch
//! of events at once, and a writer takes everything queued in one write: on a busy
//! node, frames share thread wakeups and system calls instead of paying one each. The event queue into the coordinator is bounded too
//! ([`EVENT_QUEUE`]): when it is full the readers wait, the peers' TCP windows fill, and
//! nothing piles up without bound. These threads decide nothing; what a message means
//! is the coordinator's business (`state/`).
//!
//! | file | holds |
//! |---|---|
//! | `mod.rs` | this map |
//! | `reader.rs` | the reader thread and what it tells the coordinator ([`Event`]) |
//! | `writer.rs` | the writer thread and [`Link`], the coordinator's end of it; frames built in place |
//! | `open.rs` | the opening exchanges: [`accept`] (a newcomer's Hello), [`dial`] (a leader link, a child attaching) |

mod open;
mod reader;
mod writer;

pub use open::{accept, dial, Opening};
pub use reader::{ConnId, Ctx, Event, Opened, EVENT_QUEUE};
pub use writer::{frame, frame_into, Link};
