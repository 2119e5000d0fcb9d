//! Copy mode, the sending side (notes 6.4, 获得其他组长的数据拷贝): a leader that was sent
//! Subscribe gets this leader's whole index at once, then every change as it happens
//! (Copy when a child publishes, Uncopy when it leaves or dies). The keeping side is
//! `copies.rs`.

use super::leader::LeaderState;
use crate::kazaa::conn::ConnId;
use crate::kazaa::index::ChildId;
use crate::kazaa::msg::{FileDesc, Msg, MAX_PUBLISH};

impl LeaderState {
    /// A leader asked for copies: it gets our whole index now, and every change later.
    pub(super) fn subscribed(&mut self, link: ConnId) {
        if !self.subscribers.contains(&link) {
            self.subscribers.push(link);
        }
        for (child, holder, files) in self.index.lists() {
            for chunk in files.chunks(MAX_PUBLISH) {
                let copy = Msg::Copy {
                    child,
                    holder,
                    files: chunk.to_vec(),
                };
                self.send_copy(&[link], &copy);
            }
        }
    }

    /// A child published: the files the index took go to every copy holder.
    pub(super) fn copy_published(&mut self, child: ChildId, files: &[FileDesc]) {
        let Some(holder) = self.index.holder(child) else {
            return;
        };
        if self.subscribers.is_empty() || files.is_empty() {
            return;
        }
        let to = self.subscribers.clone();
        for chunk in files.chunks(MAX_PUBLISH) {
            let copy = Msg::Copy {
                child,
                holder,
                files: chunk.to_vec(),
            };
            self.send_copy(&to, &copy);
        }
    }

    /// A child left or died: its entries leave every copy.
    pub(super) fn copy_removed(&mut self, child: ChildId) {
        if self.subscribers.is_empty() {
            return;
        }
        let to = self.subscribers.clone();
        self.send_copy(&to, &Msg::Uncopy(child));
    }

    fn send_copy(&mut self, to: &[ConnId], msg: &Msg) {
        self.stats.copies_out += to.len() as u64;
        self.peers.send_all(to, msg);
    }
}
