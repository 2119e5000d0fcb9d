//! The designs of notes 6.4 as the conformance tests start them: fresh, on 127.0.0.1,
//! with fixed seeds. `tests/locate.rs` runs every check against each, and
//! `tests/locate_stop.rs` checks that each stops without leaving a thread.
#![allow(dead_code)] // each test file uses a different subset

use p2plab::gnutella::locate::{GnutellaNet, NetOptions};
use p2plab::locate::{Design, Oracle};
use p2plab::napster::{NapsterNet, ServerOptions};

/// Calls `$then!` with the name of every design: a new design is one more name here
/// (and its function below).
macro_rules! every_design {
    ($then:ident) => {
        $then! { oracle, napster, gnutella }
    };
}
pub(crate) use every_design;

pub type Make = fn() -> Result<Box<dyn Design>, String>;

pub fn oracle() -> Result<Box<dyn Design>, String> {
    Ok(Box::new(Oracle::new()))
}

pub fn napster() -> Result<Box<dyn Design>, String> {
    let net = NapsterNet::start(ServerOptions::default()).map_err(|e| e.to_string())?;
    Ok(Box::new(net))
}

pub fn gnutella() -> Result<Box<dyn Design>, String> {
    let opts = NetOptions {
        seed: 7,
        ..NetOptions::default()
    };
    Ok(Box::new(GnutellaNet::new(opts).map_err(|e| e.to_string())?))
}
