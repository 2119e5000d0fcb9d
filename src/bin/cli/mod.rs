//! The subcommands of `p2plab`, one file per architecture. Each parses its options
//! with getopts, starts nodes through the library, and waits for Ctrl-C or `quit`.

mod common;
pub mod distribution;
pub mod napster;
mod share;

pub use share::share_serve;
