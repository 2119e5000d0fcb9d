//! The inverted index of the directory: keyword → the files whose name has it.
//!
//! A query costs the size of its rarest keyword's posting list, not the size of the
//! whole catalogue. A posting list is a sorted `Vec` (file ids only grow, so a share
//! appends): checking the other keywords is a galloping search in contiguous memory.

use crate::share::keywords;
use std::collections::HashMap;

/// A shared file's number in the directory; new files get higher numbers.
pub type FileId = u64;

#[derive(Debug, Default)]
pub struct Index {
    /// keyword → files whose name has it, ascending: results come oldest share first.
    postings: HashMap<String, Vec<FileId>>,
}

impl Index {
    /// Lists `fid` under every keyword of `name`. `fid` must be the newest id.
    pub fn add(&mut self, fid: FileId, name: &str) {
        for word in keywords(name) {
            let list = self.postings.entry(word).or_default();
            if list.last() != Some(&fid) {
                list.push(fid); // the newest id: the list stays sorted
            }
        }
    }

    /// Takes `fid` off the lists of every keyword of `name`.
    pub fn remove(&mut self, fid: FileId, name: &str) {
        for word in keywords(name) {
            if let Some(list) = self.postings.get_mut(&word) {
                if let Ok(i) = list.binary_search(&fid) {
                    list.remove(i);
                }
                if list.is_empty() {
                    self.postings.remove(&word);
                }
            }
        }
    }

    /// Files whose names have every keyword of `query`, ascending. Walks the shortest
    /// posting list and checks the others; lazy, so a caller taking 100 stops there.
    pub fn matches<'a>(&'a self, query: &str) -> impl Iterator<Item = FileId> + 'a {
        let mut lists: Vec<&Vec<FileId>> = Vec::new();
        let mut missing = false;
        for w in keywords(query) {
            match self.postings.get(&w) {
                Some(set) => lists.push(set),
                None => missing = true, // a keyword nobody has: no match
            }
        }
        if missing {
            lists.clear();
        }
        lists.sort_by_key(|l| l.len());
        let (first, mut rest): (&[FileId], Vec<&[FileId]>) = match lists.split_first() {
            Some((first, rest)) => (first, rest.iter().map(|l| l.as_slice()).collect()),
            None => (&[], Vec::new()),
        };
        first
            .iter()
            .copied()
            .filter(move |fid| rest.iter_mut().all(|l| skip_to(l, *fid)))
    }
}

/// Drops the ids below `fid` from the front of the sorted `list` and says whether `fid`
/// is next. Gallops (1, 2, 4, … ahead, then a binary search), so walking a short list
/// against a long one costs a few steps per id, and against one of equal length about
/// one step: an intersection costs about the sum of the two lengths at worst.
fn skip_to(list: &mut &[FileId], fid: FileId) -> bool {
    let mut step = 1;
    while step < list.len() && list[step] < fid {
        step *= 2;
    }
    let skip = list[..step.min(list.len())].partition_point(|&x| x < fid);
    *list = &list[skip..];
    list.first() == Some(&fid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_to_walks_a_sorted_list_forward() {
        let all: Vec<FileId> = (0..100).map(|i| i * 3).collect();
        let mut l = &all[..];
        assert!(skip_to(&mut l, 0));
        assert!(!skip_to(&mut l, 10)); // 9, 12: not there
        assert_eq!(l[0], 12);
        assert!(skip_to(&mut l, 150));
        assert!(skip_to(&mut l, 297));
        assert!(!skip_to(&mut l, 298));
        assert!(l.is_empty());
        assert!(!skip_to(&mut l, 400));
    }

    #[test]
    fn many_files_intersect_like_a_filter() {
        let mut ix = Index::default();
        for i in 0..300 {
            let a = if i % 2 == 0 { "even" } else { "odd" };
            let b = if i % 3 == 0 { "three" } else { "other" };
            let c = if i % 5 == 0 { "five" } else { "rest" };
            ix.add(i, &format!("{a} {b} {c} {i}.mp3"));
        }
        let want: Vec<FileId> = (0..300).filter(|i| i % 30 == 0).collect();
        assert_eq!(ix.matches("five three even").collect::<Vec<_>>(), want);
        assert_eq!(ix.matches("odd").count(), 150);
        ix.remove(0, "even three five 0.mp3");
        assert_eq!(ix.matches("five three even").next(), Some(30));
        assert_eq!(ix.matches("even nosuchword").count(), 0);
    }
}
