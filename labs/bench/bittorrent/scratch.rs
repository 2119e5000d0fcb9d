//! The bench's scratch work: files to share, free ports, waiting with a deadline.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

pub type Res<T> = Result<T, Box<dyn std::error::Error>>;

pub fn wait_until(mut cond: impl FnMut() -> bool) -> Res<()> {
    let end = Instant::now() + Duration::from_secs(60);
    while !cond() {
        if Instant::now() > end {
            return Err("tracker never saw the seeder".into());
        }
        thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

pub fn free_port() -> Res<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Reproducible bytes that do not compress, written 1 MiB at a time.
pub fn write_file(path: &Path, len: u64) -> Res<()> {
    let mut f = std::io::BufWriter::new(fs::File::create(path)?);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut buf = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        for chunk in buf.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        let n = left.min(buf.len() as u64) as usize;
        f.write_all(&buf[..n])?;
        left -= n as u64;
    }
    f.flush()?;
    Ok(())
}
