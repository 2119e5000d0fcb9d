//! Ctrl-C must not leave namespaces behind.
//!
//! A signal handler may do almost nothing safely, so the handler only sets a flag; a
//! watcher thread sees it, deletes every namespace this process still owns, and exits
//! with the shell's code for "ended by a signal" (128 + signal number).

use super::ip;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, Once};
use std::time::Duration;

/// Namespaces this process made and has not deleted yet.
static LIVE: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// The signal that arrived, or 0.
static CAUGHT: AtomicI32 = AtomicI32::new(0);
static INSTALL: Once = Once::new();

const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;
/// How often the watcher looks at the flag: a person pressing Ctrl-C does not notice.
const WATCH: Duration = Duration::from_millis(50);

extern "C" {
    fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
}

extern "C" fn on_signal(signum: i32) {
    CAUGHT.store(signum, Ordering::SeqCst);
}

pub(super) fn register(netns: &str) {
    live().push(netns.to_string());
}

pub(super) fn unregister(netns: &str) {
    live().retain(|n| n != netns);
}

fn live() -> std::sync::MutexGuard<'static, Vec<String>> {
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// On SIGINT or SIGTERM, deletes this process's testnet namespaces, then exits.
/// For programs (labs, `p2plab net`), not tests: the test harness owns its signals.
pub fn cleanup_on_interrupt() {
    INSTALL.call_once(|| {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            signal(SIGINT, on_signal);
            signal(SIGTERM, on_signal);
        }
        let watcher = std::thread::Builder::new()
            .name("testnet-interrupt".into())
            .spawn(|| loop {
                let sig = CAUGHT.load(Ordering::SeqCst);
                if sig != 0 {
                    let names = std::mem::take(&mut *live());
                    for name in names.iter().rev() {
                        let _ = ip::run("ip", &["netns".into(), "delete".into(), name.clone()]);
                    }
                    eprintln!("interrupted: removed {} test namespaces", names.len());
                    std::process::exit(128 + sig);
                }
                std::thread::sleep(WATCH);
            });
        if let Err(e) = watcher {
            log::warn!("testnet: no Ctrl-C cleanup ({e}); the next run removes leftovers");
        }
    });
}
