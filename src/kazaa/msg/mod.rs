//! The messages of our KaZaA-like protocol and their codec.
//!
//! FastTrack (KaZaA's real protocol) was closed and encrypted, so p2plab speaks its own
//! small protocol, laid out here byte by byte. Every frame is `wire`'s `Prefix::U32Be`
//! (a 4-byte big-endian length, at most [`MAX_FRAME`]), then one type byte, then the
//! payload. Every integer is big-endian; an IPv4 address is its 4 bytes in network order.
//!
//! ```text
//! type  message   payload                                         who sends it
//! 0x00  Ping      (empty)                                          everyone, when idle
//! 0x01  Hello     role u8 | port u16 | capacity u32 (KiB/s)        first frame of a connection
//!                 [| grant u64, only when role = 2]
//! 0x02  Welcome   count u8 | count x (ip 4 | port u16)             leader -> newcomer: other leaders
//! 0x03  Leaders   same as Welcome                                  leader -> children: list changed
//! 0x04  Publish   count u16 | count x FileDesc                     child -> leader: its content list
//! 0x05  Indexed   files u32                                        leader -> child: publish done
//! 0x06  Query     id u64 | ttl u8 | hops u8 | len u8 | text        child -> leader, leader -> leader
//! 0x07  Hits      id u64 | leaders u16 | count u16 | count x Hit   the answer, one per Query
//! 0x08  Promote   grant u64                                        leader -> child: become a leader
//! 0x09  Redirect  ip 4 | port u16                                  leader -> child: move there
//! 0x0a  Bye       (empty)                                          either side, before closing
//! 0x0b  Subscribe (empty)                                          leader -> leader: send me copies
//! 0x0c  Copy      child u64 | ip 4 | port u16 | count u16 | count x FileDesc
//!                                                                  leader -> subscriber: a child published
//! 0x0d  Uncopy    child u64                                        leader -> subscriber: a child is gone
//!
//! role:      0 = node (child), 1 = leader, 2 = a child just promoted to leader
//! grant:     the number the leader put in its Promote: a leader role is granted, not
//!            claimed, and a Hello as promoted moves children only if it names the grant
//! FileDesc:  sha1 20 | size u64 | len u8 | name | kw u8 | kw x (len u8 | keyword)
//! Hit:       sha1 20 | size u64 | ip 4 | port u16 | len u8 | name
//! ```
//!
//! Copying (获得其他组长的数据拷贝, `LeaderConfig::mode`): a leader that keeps copies sends
//! Subscribe on each leader link as it comes up. The other side answers with its whole
//! index, one Copy per child (several when a child has more than [`MAX_PUBLISH`] files),
//! and from then on sends each change as it happens: Copy when a child publishes, Uncopy
//! when a child leaves or dies. `child` is the sender's own number for that child (only
//! meaningful on that link); `ip`/`port` is where the child's files are downloaded from.
//! TCP keeps a link's changes in order, so no sequence number is needed; when the link
//! ends, the receiver drops the whole copy it had from it.
//!
//! `port` in Hello is where the sender can be reached: a child's HTTP share port, a
//! leader's listening port. The IP is never sent: the receiver takes it from the socket,
//! so a peer cannot announce somebody else's address.
//!
//! | file | holds |
//! |---|---|
//! | `mod.rs` | the messages (this file): types, limits, the layout above |
//! | `codec.rs` | [`Msg::encode`] and [`Msg::decode`]: bytes in, message out, no socket |
//! | `tests.rs` | a byte-literal fixture per message, commented per field, and the bad cases |
//!
//! The guarantee: [`Msg::decode`] never panics and never allocates more than the limits
//! below allow, whatever the bytes; `decode(encode(m)) == m` for every message within them.

use crate::share::ids::Sha1Id;
use std::net::SocketAddrV4;

/// Largest frame body accepted. The biggest legal messages (a Publish of
/// [`MAX_PUBLISH`] files, a Hits of [`MAX_HITS`]) fit well inside.
pub const MAX_FRAME: u64 = 256 * 1024;
/// Files in one Publish message; a longer list is sent in several.
pub const MAX_PUBLISH: usize = 200;
/// Hits in one Hits message (and so in one answer).
pub const MAX_HITS: usize = 500;
/// Keywords describing one file, and the longest keyword.
pub const MAX_KEYWORDS: usize = 16;
pub const MAX_KEYWORD_LEN: usize = 32;
/// Leaders listed in one Welcome or Leaders message.
pub const MAX_LEADERS: usize = 64;
/// Longest query text (it must fit the u8 length).
pub const MAX_QUERY_LEN: usize = 255;
/// A query travels at most this many leader-to-leader hops.
pub const MAX_TTL: u8 = 7;

/// What the sender of a Hello is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Node,
    Leader,
    /// A leader that was a child of the receiver a moment ago, with the grant from the
    /// receiver's Promote (the receiver then moves some of its children to it).
    Promoted(u64),
}

/// One file as a child describes it to its leader: the notes' descriptor and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDesc {
    pub sha1: Sha1Id,
    pub size: u64,
    pub name: String,
    pub keywords: Vec<String>,
}

/// One match: metadata, hash and the holder's address (where to send the HTTP GET).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hit {
    pub name: String,
    pub size: u64,
    pub sha1: Sha1Id,
    pub holder: SocketAddrV4,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    /// The keep-alive: the network's upkeep (notes 6.4, the cost of keeping the
    /// structure), counted apart from what searches, joins and leaves cost.
    Ping,
    Hello {
        role: Role,
        port: u16,
        capacity: u32,
    },
    Welcome(Vec<SocketAddrV4>),
    Leaders(Vec<SocketAddrV4>),
    Publish(Vec<FileDesc>),
    Indexed(u32),
    Query {
        id: u64,
        ttl: u8,
        hops: u8,
        text: String,
    },
    /// `leaders`: how many leaders searched their index for this answer.
    Hits {
        id: u64,
        leaders: u16,
        hits: Vec<Hit>,
    },
    /// `0`: the grant the promoted child shows when it links back (Role::Promoted).
    Promote(u64),
    Redirect(SocketAddrV4),
    Bye,
    Subscribe,
    /// `child`: the sender's number for the child; `holder`: where its files are fetched.
    Copy {
        child: u64,
        holder: SocketAddrV4,
        files: Vec<FileDesc>,
    },
    Uncopy(u64),
}

mod codec;
#[cfg(test)]
mod tests;
