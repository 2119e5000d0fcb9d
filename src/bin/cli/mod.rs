//! The subcommands of `p2plab`, one file per architecture. Each parses its options
//! with getopts, starts nodes through the library, and waits for Ctrl-C or `quit`.

mod common;
mod gnutella;
mod kazaa;
mod share;

pub use gnutella::{gnutella_cache, gnutella_node};
pub use kazaa::{kazaa_leader, kazaa_node};
pub use share::share_serve;
