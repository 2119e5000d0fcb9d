//! The subcommands of `p2plab`, one file per architecture. Each parses its options
//! with getopts, starts nodes through the library, and waits for Ctrl-C or `quit`.

mod bittorrent;
mod common;
mod dht;
pub mod distribution;
mod gnutella;
mod kazaa;
pub mod napster;
mod net;
mod share;

pub use bittorrent::{bt_get, bt_make, bt_seed, bt_show, bt_tracker};
pub use dht::dht_node;
pub use gnutella::{gnutella_cache, gnutella_node};
pub use kazaa::{kazaa_leader, kazaa_node};
pub use net::{net_down, net_up};
pub use share::share_serve;
