//! Copy mode, the keeping side (notes 6.4, 组长与其它组长联系: 获得其他组长的数据拷贝): a
//! leader keeps a copy of the index of each leader it links to. The sending side, its
//! own index's changes to the leaders that keep a copy of it, is `copy_out.rs`.
//!
//! ```text
//!   L1 ──Subscribe──► L2          (L1 keeps copies; sent as the link comes up)
//!   L1 ◄──Copy(child 4, files)──  L2   (L2's whole index, one Copy per child)
//!   c ─Publish─► L2 ─Copy──► L1   (as it happens)
//!   c ─Bye───►  L2 ─Uncopy─► L1   (a child left, or died)
//!   L2 dies: L1's link to it ends, and L1 drops its whole copy of L2
//! ```
//!
//! The trade the lab measures: with copies a query costs nothing between leaders, but
//! every join and leave costs a message to every copy holder. Copies are per link, so
//! a leader that dies takes its children's entries out of everyone's copy as soon as
//! its links end (a closed socket, or silence past `MAX_MISSES` keep-alives: the
//! design's crash timeout).

use crate::kazaa::conn::ConnId;
use crate::kazaa::index::{ChildId, Index};
use crate::kazaa::msg::{FileDesc, Hit, MAX_HITS};
use std::collections::HashMap;
use std::net::SocketAddrV4;

/// Files one copy (of one other leader's index) may hold: a leader that keeps sending
/// Copy frames must not grow our memory without end.
pub const MAX_COPY_FILES: usize = 200_000;

/// The copies this leader keeps: one index per link to a leader that sends us its own.
#[derive(Default)]
pub struct Copies {
    by_link: HashMap<ConnId, Index>,
}

impl Copies {
    /// A child of the leader on `link` published `files` (downloaded from `holder`).
    pub fn add(
        &mut self,
        link: ConnId,
        child: ChildId,
        holder: SocketAddrV4,
        files: Vec<FileDesc>,
    ) {
        if files.is_empty() {
            return; // nothing to find: no entry for it
        }
        let copy = (self.by_link)
            .entry(link)
            .or_insert_with(|| Index::new(MAX_COPY_FILES));
        copy.set_holder(child, holder);
        copy.publish(child, files);
    }

    /// A child of the leader on `link` is gone.
    pub fn remove(&mut self, link: ConnId, child: ChildId) {
        if let Some(copy) = self.by_link.get_mut(&link) {
            copy.remove_child(child);
        }
    }

    /// The link ended: everything that leader told us goes.
    pub fn drop_link(&mut self, link: ConnId) {
        self.by_link.remove(&link);
    }

    /// Whether a copy names `holder` as holding a file.
    pub fn names(&self, holder: SocketAddrV4) -> bool {
        self.by_link.values().any(|c| c.names(holder))
    }

    /// Files held in all the copies.
    pub fn len(&self) -> usize {
        self.by_link.values().map(Index::len).sum()
    }

    /// The copies' matches, added to `hits` (sorted, without repeats, at most
    /// [`MAX_HITS`]): a file two copies name (a link made twice) is listed once.
    pub fn search_into(&self, text: &str, hits: &mut Vec<Hit>) {
        for copy in self.by_link.values() {
            hits.extend(copy.search(text));
        }
        hits.sort();
        hits.dedup();
        hits.truncate(MAX_HITS);
    }
}
