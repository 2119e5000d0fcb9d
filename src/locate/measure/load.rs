//! The directory's second bottleneck (性能瓶颈: 处理用户上线下线): work that grows with
//! logins and logouts even when nobody searches more.
//!
//! [`directory_load`] holds the search rate fixed and raises the rate of joins and
//! polite leaves step by step, measuring at the special node (the first node a design
//! lists) its messages per second and the CPU time its threads spent.

use super::super::workload::{Step, Workload};
use super::super::{delta, Design, PeerId};
use std::time::{Duration, Instant};

/// One step of the sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadPoint {
    /// Joins plus leaves per second asked for, and what the run achieved.
    pub churn_asked: f64,
    pub churn_done: f64,
    pub searches_done: f64,
    /// Messages per second the special node handled (in + out).
    pub special_msgs: f64,
    /// Its threads' CPU time per second of wall time, in milliseconds.
    pub special_cpu_ms: f64,
}

/// CPU time of this process's threads whose name starts with `prefix` (Linux:
/// `/proc/self/task/*/schedstat`, nanoseconds on a CPU). Threads that ended are gone
/// from the sum, so read it around work whose threads live through it.
pub fn threads_cpu(prefix: &str) -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    let mut ns: u64 = 0;
    for t in tasks.flatten() {
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        if !comm.trim_end().starts_with(prefix) {
            continue;
        }
        let stat = std::fs::read_to_string(t.path().join("schedstat")).unwrap_or_default();
        ns += stat
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Duration::from_nanos(ns)
}

/// Joins `w.initial`, then for each churn rate runs `each` of paced work: searches at
/// `search_rate` per second and joins/leaves at the rate, cycling the peers outside.
/// `cpu` reads the special node's CPU time (e.g. `|| threads_cpu("napster-dir")`).
pub fn directory_load(
    d: &mut dyn Design,
    w: &Workload,
    rates: &[f64],
    search_rate: f64,
    each: Duration,
    cpu: &dyn Fn() -> Duration,
) -> Result<Vec<LoadPoint>, String> {
    let mut live: Vec<PeerId> = Vec::new();
    for &p in &w.initial {
        d.join(p, &w.files_of(p)).map_err(|e| e.to_string())?;
        live.push(p);
    }
    let mut out: Vec<PeerId> = (0..w.holds.len()).filter(|p| !live.contains(p)).collect();
    let titles: Vec<String> = w
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Search { keyword, .. } => Some(keyword.clone()),
            _ => None,
        })
        .collect();
    let mut points = Vec::new();
    let (mut turn, mut asked) = (0usize, 0usize);
    for &rate in rates {
        let before = d.traffic();
        let cpu0 = cpu();
        let start = Instant::now();
        let (mut searches, mut churns) = (0usize, 0usize);
        while start.elapsed() < each {
            let t = start.elapsed().as_secs_f64();
            let search_due = (searches as f64) / search_rate <= t;
            let churn_due = rate > 0.0 && (churns as f64) / rate <= t;
            if search_due && !titles.is_empty() && !live.is_empty() {
                let from = live[asked % live.len()];
                let _ = d.search(from, &titles[asked % titles.len()]);
                asked += 1;
                searches += 1;
            } else if churn_due {
                // Leave and join in turn, so the network keeps its size.
                if turn % 2 == 0 && live.len() > 2 {
                    let p = live.remove(turn / 2 % live.len());
                    d.leave(p).map_err(|e| e.to_string())?;
                    out.push(p);
                } else if let Some(p) = out.pop() {
                    d.join(p, &w.files_of(p)).map_err(|e| e.to_string())?;
                    live.push(p);
                }
                turn += 1;
                churns += 1;
            } else {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        let secs = start.elapsed().as_secs_f64();
        let spent = delta(&d.traffic(), &before);
        points.push(LoadPoint {
            churn_asked: rate,
            churn_done: churns as f64 / secs,
            searches_done: searches as f64 / secs,
            special_msgs: spent.first().map_or(0.0, |n| n.msgs() as f64 / secs),
            special_cpu_ms: (cpu().saturating_sub(cpu0)).as_secs_f64() * 1000.0 / secs,
        });
    }
    Ok(points)
}
