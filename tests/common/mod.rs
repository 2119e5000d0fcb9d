//! Helpers shared by the integration tests: scratch folders that clean up after
//! themselves, files of reproducible bytes, and waiting on a condition with a deadline.
#![allow(dead_code)] // each test file uses a different subset

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// A folder under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("p2plab-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Creates `name` holding `len` bytes derived from `seed`.
    pub fn file(&self, name: &str, len: usize, seed: u64) -> PathBuf {
        let p = self.0.join(name);
        fs::write(&p, bytes(len, seed)).unwrap();
        p
    }

    pub fn sub(&self, name: &str) -> PathBuf {
        let p = self.0.join(name);
        fs::create_dir_all(&p).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Reproducible pseudo-random bytes (xorshift64*), so a failing test fails the same way.
pub fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

/// Polls `cond` until it holds or `limit` passes; returns whether it held. For
/// conditions with no event to wait on (a peer's files leaving a directory).
pub fn eventually(limit: Duration, cond: impl FnMut() -> bool) -> bool {
    p2plab::wait::until(limit, cond)
}

/// A server config for echo tests: a read timeout long enough never to fire.
pub fn echo_config(name: &str) -> p2plab::net::ServerConfig {
    let mut cfg = p2plab::net::ServerConfig::new(name);
    cfg.read_timeout = Some(Duration::from_secs(30));
    cfg
}

/// A connection handler that echoes bytes until the peer closes.
pub fn echo(mut s: std::net::TcpStream) -> p2plab::net::ConnResult {
    use std::io::{Read, Write};
    let mut buf = [0u8; 1024];
    loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        s.write_all(&buf[..n])?;
    }
}

/// Threads of this process right now (Linux), to check that stopping leaks none.
pub fn thread_count() -> usize {
    fs::read_dir("/proc/self/task")
        .map(|d| d.count())
        .unwrap_or(0)
}
