//! Talking to the kernel: `ip` and `tc` from iproute2, and `setns(2)` for a thread.
//!
//! Namespaces, veth pairs, bridges and queueing disciplines are made by running
//! iproute2's own commands, exactly as a student would type them; every command a
//! testnet runs is logged at debug level (`RUST_LOG=p2plab::testnet=debug`), so a run
//! can be replayed by hand.

use log::debug;
use std::fmt;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::process::Command;

/// Why a testnet could not be made or used.
#[derive(Debug)]
pub enum NetError {
    /// Namespaces cannot be made here (not root, no iproute2, a sandbox without them).
    Unavailable(String),
    /// A command ran and failed: what was asked, and what it said.
    Command { cmd: String, stderr: String },
    /// A thread could not enter a host's namespace.
    Enter { netns: String, err: std::io::Error },
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::Unavailable(why) => write!(f, "network namespaces unavailable: {why}"),
            NetError::Command { cmd, stderr } => write!(f, "`{cmd}` failed: {}", stderr.trim()),
            NetError::Enter { netns, err } => write!(f, "cannot enter namespace {netns}: {err}"),
        }
    }
}

impl std::error::Error for NetError {}

/// Runs `program args…` and returns its standard output.
pub fn run(program: &str, args: &[String]) -> Result<String, NetError> {
    let cmd = format!("{program} {}", args.join(" "));
    debug!("testnet: {cmd}");
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| NetError::Command {
            cmd: cmd.clone(),
            stderr: e.to_string(),
        })?;
    if !out.status.success() {
        return Err(NetError::Command {
            cmd,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `ip args…` in the namespace `netns`.
pub fn ip_in(netns: &str, args: &[&str]) -> Result<String, NetError> {
    let mut all = vec!["-n".to_string(), netns.to_string()];
    all.extend(args.iter().map(|s| s.to_string()));
    run("ip", &all)
}

/// `tc args…` in the namespace `netns`.
pub fn tc_in(netns: &str, args: &[String]) -> Result<String, NetError> {
    let mut all = vec!["-n".to_string(), netns.to_string()];
    all.extend(args.iter().cloned());
    run("tc", &all)
}

/// Names of the network namespaces that `ip netns list` shows.
pub fn netns_list() -> Result<Vec<String>, NetError> {
    let out = run("ip", &["netns".into(), "list".into()])?;
    // Lines read "name" or "name (id: 3)".
    Ok(out
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect())
}

/// Whether this process may make namespaces: root, and iproute2 that answers.
pub fn available() -> Result<(), NetError> {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(str::to_string))
        })
        .unwrap_or_default();
    if uid != "0" {
        return Err(NetError::Unavailable(
            "not running as root (namespaces and tc need CAP_NET_ADMIN)".into(),
        ));
    }
    for tool in ["ip", "tc"] {
        if Command::new(tool).arg("-V").output().is_err() {
            return Err(NetError::Unavailable(format!(
                "`{tool}` not found (apt-get install iproute2)"
            )));
        }
    }
    netns_list().map(|_| ())
}

extern "C" {
    // From the C library that std already links on Linux.
    fn setns(fd: i32, nstype: i32) -> i32;
}

/// `CLONE_NEWNET`: setns may only switch the network namespace.
const CLONE_NEWNET: i32 = 0x4000_0000;

/// Moves the calling thread into the network namespace `netns`. Sockets the thread
/// opens afterwards live there, and so do threads it spawns: a node started on this
/// thread binds, accepts and dials inside the host, with no change to its code.
pub fn enter(netns: &str) -> Result<(), NetError> {
    let path = format!("/var/run/netns/{netns}");
    let err = |err| NetError::Enter {
        netns: netns.to_string(),
        err,
    };
    let file = File::open(&path).map_err(err)?;
    // SAFETY: `file` is an open namespace file for the duration of the call; setns
    // changes only this thread's network namespace.
    let rc = unsafe { setns(file.as_raw_fd(), CLONE_NEWNET) };
    if rc != 0 {
        return Err(err(std::io::Error::last_os_error()));
    }
    Ok(())
}
