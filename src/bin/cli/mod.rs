//! The subcommands of `p2plab`, one file per architecture. Each parses its options
//! with getopts, starts nodes through the library, and waits for Ctrl-C or `quit`.

mod common;
mod dht;
mod share;

pub use dht::dht_node;
pub use share::share_serve;
