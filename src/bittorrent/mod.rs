//! TODO
pub mod announce;
pub mod bencode;
pub mod bitfield;
pub mod choker;
pub mod client;
pub mod handshake;
pub mod make;
pub mod message;
pub mod metainfo;
mod peer;
pub mod picker;
mod state;
pub mod storage;
pub mod tracker;
