//! Writing a piece held as separate blocks with one system call: `pwritev(2)`.
//!
//! A received piece is sixteen 16 KiB buffers (`conn/pool.rs`), never joined: joining
//! would copy every byte once more. Writing them one `pwrite` at a time cost the
//! verifier, the download's busiest thread, 16 calls per piece; std has a vectored
//! write and a positioned write but not both at once, so this calls the C library.

use std::fs::File;
use std::io;
use std::ops::Range;
use std::os::fd::AsRawFd;

/// The parts of `blocks` (laid end to end) that fall in `range`.
pub fn slices_in(blocks: &[Vec<u8>], range: Range<usize>) -> Vec<&[u8]> {
    let mut start = 0;
    let mut out = Vec::new();
    for b in blocks {
        let (lo, hi) = (range.start.max(start), range.end.min(start + b.len()));
        if lo < hi {
            out.push(&b[lo - start..hi - start]);
        }
        start += b.len();
    }
    out
}

/// `bufs`, one after another, at `offset` in `file`: positioned and vectored, which
/// std does not offer, so `pwritev(2)` is called directly. Loops on short writes.
pub fn write_all_vectored_at(file: &File, mut bufs: &[&[u8]], mut offset: u64) -> io::Result<()> {
    #[repr(C)]
    struct IoVec {
        base: *const u8,
        len: usize,
    }
    extern "C" {
        fn pwritev(fd: i32, iov: *const IoVec, iovcnt: i32, offset: i64) -> isize;
    }
    const MAX_IOV: usize = 1024; // IOV_MAX on Linux
    let mut skip = 0; // bytes of bufs[0] already written
    loop {
        while bufs.first().is_some_and(|b| b.len() == skip) {
            (bufs, skip) = (&bufs[1..], 0);
        }
        if bufs.is_empty() {
            return Ok(());
        }
        let iov: Vec<IoVec> = bufs
            .iter()
            .take(MAX_IOV)
            .enumerate()
            .map(|(i, b)| {
                let b = if i == 0 { &b[skip..] } else { b };
                IoVec {
                    base: b.as_ptr(),
                    len: b.len(),
                }
            })
            .collect();
        // SAFETY: every IoVec points into a slice of `bufs`, alive for the whole call;
        // the descriptor belongs to `file`; pwritev(2) only reads from the buffers.
        let n = unsafe {
            pwritev(
                file.as_raw_fd(),
                iov.as_ptr(),
                iov.len() as i32,
                offset as i64,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        offset += n as u64;
        let mut n = n as usize;
        while n > 0 {
            let left = bufs[0].len() - skip;
            if n < left {
                skip += n;
                break;
            }
            n -= left;
            (bufs, skip) = (&bufs[1..], 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slices_of_blocks_laid_end_to_end_that_fall_in_a_range() {
        let blocks = vec![vec![1u8; 300], vec![], vec![2u8; 400], vec![3u8; 324]];
        let got = slices_in(&blocks, 200..800);
        assert_eq!(got, [&[1u8; 100][..], &[2u8; 400][..], &[3u8; 100][..]]);
        assert!(slices_in(&blocks, 300..300).is_empty());
    }

    #[test]
    fn short_writes_and_empty_buffers_still_write_everything_in_order() {
        let path = std::env::temp_dir().join(format!("p2plab-pwritev-{}", std::process::id()));
        let f = File::create(&path).unwrap();
        let many: Vec<Vec<u8>> = (0..1500u32)
            .map(|i| vec![(i % 251) as u8; (i % 3) as usize])
            .collect();
        let slices: Vec<&[u8]> = many.iter().map(|v| &v[..]).collect();
        write_all_vectored_at(&f, &slices, 7).unwrap(); // more buffers than one call takes
        let want: Vec<u8> = many.concat();
        assert_eq!(std::fs::read(&path).unwrap()[7..], want[..]);
        let _ = std::fs::remove_file(&path);
    }
}
