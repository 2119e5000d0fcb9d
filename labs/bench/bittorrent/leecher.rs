//! Timing one leecher process from spawn to exit, its peak memory, and its copy's SHA-1.

use crate::scratch::Res;
use p2plab::share::ids::sha1_file;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Give up on a leecher after this long.
const RUN_LIMIT: Duration = Duration::from_secs(180);

/// One leecher's time from spawn to exit, and its peak memory.
pub struct Run {
    pub seconds: f64,
    pub vmhwm_kib: u64,
}

/// A child process that is killed (by its PID) when dropped, even on an early return.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Spawns a leecher and times it to its exit. Peak memory: our leecher prints it on
/// its `done:` line; for aria2c, /proc/PID/status is sampled every 10 ms (VmHWM only grows).
pub fn time_leecher(mut cmd: Command, ours: bool) -> Res<Run> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = Killed(cmd.spawn()?);
    let pid = child.0.id();
    let stdout = child.0.stdout.take().ok_or("no stdout")?;
    let stderr = child.0.stderr.take().ok_or("no stderr")?;
    // Its last line says why, should it fail.
    let why = thread::spawn(move || BufReader::new(stderr).lines().map_while(Result::ok).last());
    let reader = thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| {
                let at = l.find("peak memory ")?;
                l[at + 12..].split_whitespace().next()?.parse::<u64>().ok()
            })
            .last()
    });
    let mut sampled = 0;
    let status = loop {
        if let Some(s) = child.0.try_wait()? {
            break s;
        }
        if start.elapsed() > RUN_LIMIT {
            return Err("a leecher did not finish in time".into());
        }
        sampled = sampled.max(vm_hwm(pid).unwrap_or(0));
        thread::sleep(Duration::from_millis(10));
    };
    let seconds = start.elapsed().as_secs_f64();
    if !status.success() {
        let why = why.join().ok().flatten().unwrap_or_default();
        return Err(format!("leecher failed: {status}: {why}").into());
    }
    let reported = reader.join().ok().flatten();
    let vmhwm_kib = if ours {
        reported.unwrap_or(sampled)
    } else {
        sampled
    };
    Ok(Run { seconds, vmhwm_kib })
}

pub fn vm_hwm(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub fn check_copy(path: &Path, want: &[u8; 20]) -> Res<()> {
    if &sha1_file(path)? != want {
        return Err(format!("{} differs from the source", path.display()).into());
    }
    Ok(())
}
