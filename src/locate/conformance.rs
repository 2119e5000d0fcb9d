//! What every design must get right, written once and run against all four.
//!
//! Each check starts a fresh network from `make`, does one thing a student could do by
//! hand, compares the answer with the truth, and stops the network. A check returns
//! what was expected and what came, never panics, so a test can list every failure
//! of every design at once.
//!
//! | check | the notes' problem |
//! |---|---|
//! | [`published_file_is_found`] | 如何定位所需资源 |
//! | [`left_peers_files_are_gone`] | 对等方的离开 (polite) |
//! | [`crashed_peers_files_are_gone`] | 对等方的离开 (a crash), within the design's own timeout |
//! | [`no_false_providers`] | locating must be accurate (处理用户上线下线，得确保资源定位的准确性) |
//! | [`stopping_leaves_no_thread`] | a node can be stopped (run it alone in its process) |

use super::{Design, PeerId, Provider, SharedFile};
use std::time::Duration;

/// Makes a fresh, empty network of one design.
pub type Make<'a> = &'a mut dyn FnMut() -> Result<Box<dyn Design>, String>;

/// A check: its name and its function.
pub type Check = (&'static str, fn(Make) -> Result<(), String>);

/// Every check that may run beside other tests in one process.
pub const CHECKS: [Check; 4] = [
    ("published_file_is_found", published_file_is_found),
    ("left_peers_files_are_gone", left_peers_files_are_gone),
    ("crashed_peers_files_are_gone", crashed_peers_files_are_gone),
    ("no_false_providers", no_false_providers),
];

/// Extra time beyond a design's crash timeout before a check gives up: scheduling on a
/// loaded 2-core machine, not slack in the design.
const GRACE: Duration = Duration::from_secs(2);

/// Four peers: peer i shares `solo<i>.mp3`; every peer shares `common0.mp3`.
fn files(p: PeerId) -> Vec<SharedFile> {
    vec![
        SharedFile::new(&format!("solo{p}.mp3")),
        SharedFile::new("common0.mp3"),
    ]
}

const PEERS: PeerId = 4;

fn start(make: Make) -> Result<Box<dyn Design>, String> {
    let mut d = make()?;
    for p in 0..PEERS {
        d.join(p, &files(p))
            .map_err(|e| format!("{}: peer {p} could not join: {e}", d.name()))?;
    }
    Ok(d)
}

fn search(d: &mut dyn Design, from: PeerId, kw: &str) -> Result<Vec<Provider>, String> {
    d.search(from, kw)
        .map_err(|e| format!("{}: search '{kw}' from peer {from} failed: {e}", d.name()))
}

/// Runs `body` on a started network and stops it whatever happened.
fn with_network(
    make: Make,
    body: impl FnOnce(&mut dyn Design) -> Result<(), String>,
) -> Result<(), String> {
    let mut d = start(make)?;
    let out = body(d.as_mut());
    d.stop();
    out
}

/// Peer 0 searches for peer 2's only file and finds peer 2, with the file's SHA-1.
pub fn published_file_is_found(make: Make) -> Result<(), String> {
    with_network(make, |d| {
        let want = SharedFile::new("solo2.mp3");
        let got = search(d, 0, "solo2")?;
        match got.iter().find(|p| p.peer == 2) {
            Some(p) if p.sha1 == want.sha1 => Ok(()),
            Some(p) => Err(format!(
                "{}: peer 2 listed with a wrong SHA-1 ({:?})",
                d.name(),
                p.sha1
            )),
            None => Err(format!(
                "{}: 'solo2' from peer 0: expected peer 2, got {got:?}",
                d.name()
            )),
        }
    })
}

/// Peer 2 leaves politely; at once, nobody is told it holds anything.
pub fn left_peers_files_are_gone(make: Make) -> Result<(), String> {
    with_network(make, |d| {
        d.leave(2)
            .map_err(|e| format!("{}: leave failed: {e}", d.name()))?;
        for kw in ["solo2", "common0"] {
            let got = search(d, 0, kw)?;
            if got.iter().any(|p| p.peer == 2) {
                return Err(format!(
                    "{}: '{kw}' still names peer 2 after it left: {got:?}",
                    d.name()
                ));
            }
        }
        Ok(())
    })
}

/// Peer 3 crashes; within the design's crash timeout its files stop being returned.
pub fn crashed_peers_files_are_gone(make: Make) -> Result<(), String> {
    with_network(make, |d| {
        d.crash(3)
            .map_err(|e| format!("{}: crash failed: {e}", d.name()))?;
        let limit = d.crash_timeout() + GRACE;
        let mut last = Vec::new();
        let mut error = None;
        let gone = crate::wait::until(limit, || match d.search(0, "solo3") {
            Ok(got) => {
                let gone = !got.iter().any(|p| p.peer == 3);
                last = got;
                gone
            }
            Err(e) => {
                error = Some(e.to_string());
                false
            }
        });
        if gone {
            return Ok(());
        }
        Err(format!(
            "{}: {limit:?} after peer 3 crashed, 'solo3' still gives {last:?} (last error: {error:?})",
            d.name()
        ))
    })
}

/// Every provider returned for every keyword really holds the file it is listed with.
pub fn no_false_providers(make: Make) -> Result<(), String> {
    with_network(make, |d| {
        let mut kws: Vec<String> = (0..PEERS).map(|p| format!("solo{p}")).collect();
        kws.push("common0".into());
        kws.push("nosuchsong".into());
        for kw in &kws {
            for p in search(d, 1, kw)? {
                let held = p.peer < PEERS && files(p.peer).iter().any(|f| f.sha1 == p.sha1);
                if !held || !p.name.to_lowercase().contains(kw.as_str()) {
                    return Err(format!(
                        "{}: '{kw}' named {p:?}, which does not hold it",
                        d.name()
                    ));
                }
            }
        }
        Ok(())
    })
}

/// Threads of this process (Linux): run this check alone in its process.
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// A network started, used and stopped leaves no thread behind.
pub fn stopping_leaves_no_thread(make: Make) -> Result<(), String> {
    let before = threads();
    with_network(make, |d| search(d, 0, "common0").map(|_| ()))?;
    if crate::wait::until(Duration::from_secs(5), || threads() <= before) {
        Ok(())
    } else {
        Err(format!(
            "{} threads before, {} after stop",
            before,
            threads()
        ))
    }
}

#[cfg(test)]
mod tests {
    //! The checks checked: an in-memory index that is right passes them all, and one
    //! that forgets to forget a peer fails the check that should catch it.
    use super::super::Oracle;
    use super::*;

    fn run(oracle: fn() -> Oracle) -> Vec<(&'static str, Result<(), String>)> {
        CHECKS
            .iter()
            .map(|(name, check)| {
                let mut make = || -> Result<Box<dyn Design>, String> { Ok(Box::new(oracle())) };
                (*name, check(&mut make))
            })
            .collect()
    }

    #[test]
    fn a_right_index_passes_every_check() {
        for (name, result) in run(Oracle::new) {
            assert_eq!(result, Ok(()), "{name}");
        }
    }

    #[test]
    fn an_index_that_keeps_left_peers_is_caught() {
        let results = run(Oracle::forgetful);
        let failed: Vec<&str> = results
            .iter()
            .filter(|r| r.1.is_err())
            .map(|r| r.0)
            .collect();
        assert_eq!(failed, ["left_peers_files_are_gone"]);
    }
}
