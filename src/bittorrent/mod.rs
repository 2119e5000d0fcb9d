//! TODO
pub mod bencode;
pub mod bitfield;
pub mod handshake;
pub mod make;
pub mod message;
pub mod metainfo;
