//! What a leader counts: counters since start and gauges now, read through the handle
//! (`Leader::stats`), which asks the coordinator for them.

/// A leader's counters (since start) and gauges (now).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeaderStats {
    /// Children attached now.
    pub children: usize,
    /// Links to other leaders now.
    pub links: usize,
    /// Files in the children index now.
    pub files: usize,
    /// Query frames received, from children and leaders.
    pub queries_in: u64,
    /// Queries searched in the index (first time seen).
    pub searched: u64,
    /// Queries dropped as already seen (answered empty).
    pub duplicates: u64,
    /// Query frames sent to other leaders.
    pub forwarded: u64,
    /// Hits frames sent (one per Query received).
    pub hits_out: u64,
    /// Children asked to become leaders.
    pub promotions: u64,
    /// Children moved to a promoted leader.
    pub redirects: u64,
    /// Links that claimed a promotion this leader did not grant (no child moved).
    pub false_claims: u64,
    /// Query ids remembered for duplicate suppression (bounded).
    pub seen: usize,
    /// Files held in copies of other leaders' indexes now (copy mode).
    pub copy_files: usize,
    /// Copy and Uncopy frames sent to leaders that keep a copy of our index.
    pub copies_out: u64,
    /// Copy and Uncopy frames received from the leaders we keep a copy of.
    pub copies_in: u64,
}

impl LeaderStats {
    /// Messages a query costs on the wire: every Query frame is received by exactly one
    /// leader, every Hits frame sent by exactly one.
    pub fn query_messages(&self) -> u64 {
        self.queries_in + self.hits_out
    }

    /// Sums counters over several leaders.
    pub fn sum<'a>(all: impl IntoIterator<Item = &'a LeaderStats>) -> LeaderStats {
        let mut t = LeaderStats::default();
        for s in all {
            t.children += s.children;
            t.links += s.links;
            t.files += s.files;
            t.queries_in += s.queries_in;
            t.searched += s.searched;
            t.duplicates += s.duplicates;
            t.forwarded += s.forwarded;
            t.hits_out += s.hits_out;
            t.promotions += s.promotions;
            t.redirects += s.redirects;
            t.seen += s.seen;
            t.false_claims += s.false_claims;
            t.copy_files += s.copy_files;
            t.copies_out += s.copies_out;
            t.copies_in += s.copies_in;
        }
        t
    }
}
