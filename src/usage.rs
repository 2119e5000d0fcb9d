//! What this process costs right now: threads, resident memory, open files, and how
//! deep its thread stacks have been used (issue #16: "threads and resident memory per
//! node"). Read from `/proc/self`, so Linux only; elsewhere every figure is 0.
//!
//! A lab or bench that runs N nodes in one process takes a [`Usage`] before and after
//! starting them; the difference divided by N is what one node costs
//! ([`Usage::per_node`]). Resident memory counts the pages touched, not what was
//! reserved: a thread's 64 KiB stack that used 12 KiB is 12 KiB of it. What a scale run
//! does with these figures (sizes, growth, tables) is in [`crate::scale`].

use std::fs;

/// One reading of the process's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub threads: f64,
    /// Resident set (VmRSS), KiB.
    pub rss_kib: f64,
    pub fds: f64,
}

impl Usage {
    /// The figures now.
    pub fn now() -> Usage {
        let text = fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field = |name: &str| -> f64 {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
                .unwrap_or(0.0)
        };
        Usage {
            threads: field("Threads:"),
            rss_kib: field("VmRSS:"),
            fds: fs::read_dir("/proc/self/fd").map_or(0.0, |d| d.count() as f64),
        }
    }

    /// What each of `n` nodes added since `before`.
    pub fn per_node(&self, before: &Usage, n: usize) -> Usage {
        let n = n.max(1) as f64;
        Usage {
            threads: (self.threads - before.threads) / n,
            rss_kib: (self.rss_kib - before.rss_kib) / n,
            fds: (self.fds - before.fds) / n,
        }
    }
}

/// The most any one thread stack of `stack` bytes has touched so far, in KiB: the
/// resident part of the largest-used mapping in `/proc/self/smaps` that looks like such a
/// stack (`stack` bytes, read-write, right above its guard page, which is a mapping of
/// its own). A page once touched stays resident, so this is the deepest use since the
/// thread started. `None` if there is no such mapping, or off Linux.
pub fn deepest_stack_kib(stack: usize) -> Option<u64> {
    let text = fs::read_to_string("/proc/self/smaps").ok()?;
    let want = (stack / 1024) as u64;
    let kib = |rest: &str| -> u64 {
        let v = rest.trim().trim_end_matches("kB").trim();
        v.parse().unwrap_or(0)
    };
    let mut deepest = None;
    // (end, perms) of the mapping being read.
    let mut cur: Option<(u64, String)> = None;
    let mut is_stack = false;
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let range = words.next().unwrap_or("");
        if let Some((a, b)) = range.split_once('-') {
            if let (Ok(a), Ok(b)) = (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16)) {
                let perms = words.next().unwrap_or("").to_string();
                let guard_below = cur
                    .as_ref()
                    .is_some_and(|(end, p)| *end == a && p.starts_with("---"));
                is_stack = guard_below && perms.starts_with("rw") && (b - a) / 1024 == want;
                cur = Some((b, perms));
                continue;
            }
        }
        if let Some(rest) = line.strip_prefix("Rss:") {
            if is_stack {
                let k = kib(rest);
                deepest = Some(deepest.map_or(k, |d: u64| d.max(k)));
            }
        }
    }
    deepest
}

/// The machine's 1-minute load average, from `/proc/loadavg` (0 elsewhere). A scale
/// run's timings depend on what else the cores were doing: print it beside them.
pub fn load1() -> f64 {
    let text = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_shows_up_in_the_counts() {
        let before = Usage::now();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            let _ = rx.recv();
        });
        let during = Usage::now();
        drop(tx);
        t.join().unwrap();
        if cfg!(target_os = "linux") {
            assert!(during.threads >= before.threads + 1.0);
            assert!(during.rss_kib > 0.0);
            assert_eq!(
                during.per_node(&before, 1).threads,
                during.threads - before.threads
            );
        }
    }

    #[test]
    fn a_stack_of_an_unusual_size_is_found_and_its_touched_depth_read() {
        const STACK: usize = 200 * 1024; // no other mapping of the test has this size
        let (ready_tx, ready) = std::sync::mpsc::channel::<()>();
        let (done_tx, done) = std::sync::mpsc::channel::<()>();
        let t = std::thread::Builder::new()
            .stack_size(STACK)
            .spawn(move || {
                let deep = std::hint::black_box([1u8; 64 * 1024]);
                std::hint::black_box(&deep);
                let _ = ready_tx.send(());
                let _ = done.recv();
            })
            .unwrap();
        ready.recv().unwrap();
        let found = deepest_stack_kib(STACK);
        drop(done_tx);
        t.join().unwrap();
        if cfg!(target_os = "linux") {
            let kib = found.expect("the thread's stack mapping");
            assert!((64..=200).contains(&kib), "{kib} KiB touched");
        }
    }
}
