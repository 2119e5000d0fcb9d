//! A registry of a node's threads and the sockets they block on.
//!
//! Stopping a node must not wait for a peer to speak. Each connection thread blocks in
//! `read`, so the registry keeps a clone of every stream: `shutdown(Both)` on the clone
//! makes the blocked `read` return at once, the thread ends, and `join` succeeds.

use super::slot::{least_useful, Slot, SlotMark};
use log::{debug, info};
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Shutdown, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// What a connection thread returns: `Err` says why the peer was dropped.
pub type ConnResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Threads and sockets of one node. Cloning shares the registry.
#[derive(Clone, Default)]
pub struct Conns {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    /// Stack of every thread spawned here; `None`: Rust's default (2 MiB).
    stack: Option<usize>,
    next_id: u64,
    streams: HashMap<u64, Slot>,
    handles: Vec<JoinHandle<()>>,
    closed: bool,
}

impl Conns {
    pub fn new() -> Conns {
        Conns::default()
    }

    /// A registry whose threads get `bytes` of stack instead of Rust's 2 MiB. Only the
    /// pages a thread touches are resident, so this saves address space and lets many
    /// thousands of threads fit in one process; each architecture names its size and
    /// says what it measured (`gnutella::STACK_SIZE`).
    pub fn with_stack(bytes: usize) -> Conns {
        let c = Conns::default();
        c.lock().stack = Some(bytes);
        c
    }

    /// The stack size given to [`Conns::with_stack`], for threads a caller spawns itself.
    pub fn stack(&self) -> Option<usize> {
        self.lock().stack
    }

    fn builder(name: String, stack: Option<usize>) -> thread::Builder {
        let b = thread::Builder::new().name(name);
        match stack {
            Some(bytes) => b.stack_size(bytes),
            None => b,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking thread must not take the whole node down with a poisoned lock.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `serve` on its own thread named `name`, for as long as the connection
    /// lives. The error it returns is logged: one peer failing never stops the node.
    pub fn spawn<F>(&self, name: String, stream: TcpStream, serve: F) -> io::Result<()>
    where
        F: FnOnce(TcpStream) -> ConnResult + Send + 'static,
    {
        let mut inner = self.lock();
        if inner.closed {
            let _ = stream.shutdown(Shutdown::Both);
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "node is stopping",
            ));
        }
        inner.handles.retain(|h| !h.is_finished());
        let id = inner.next_id;
        inner.next_id += 1;
        let slot = Slot::new(stream.try_clone()?);
        let mark = slot.mark();
        inner.streams.insert(id, slot);
        let registry = self.clone();
        let thread_name = name.clone();
        let handle = Conns::builder(name, inner.stack).spawn(move || {
            mark.install();
            match serve(stream) {
                Ok(()) => debug!("{thread_name}: closed"),
                Err(e) => info!("{thread_name}: dropped: {e}"),
            }
            if let Some(s) = registry.lock().streams.remove(&id) {
                s.close();
            }
        });
        match handle {
            Ok(h) => {
                inner.handles.push(h);
                Ok(())
            }
            Err(e) => {
                inner.streams.remove(&id);
                Err(e)
            }
        }
    }

    /// Runs a worker (a coordinator, a timer) that is joined with the connections.
    /// It must watch its own stop signal (a closed channel, a flag).
    pub fn spawn_worker<F>(&self, name: String, work: F) -> io::Result<()>
    where
        F: FnOnce() + Send + 'static,
    {
        let mut inner = self.lock();
        if inner.closed {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "node is stopping",
            ));
        }
        inner.handles.retain(|h| !h.is_finished());
        let h = Conns::builder(name, inner.stack).spawn(work)?;
        inner.handles.push(h);
        Ok(())
    }

    /// Open connections right now.
    pub fn len(&self) -> usize {
        self.lock().streams.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Refuses new threads and shuts every registered socket down, which wakes every
    /// thread blocked reading one.
    pub fn shutdown_all(&self) {
        let mut inner = self.lock();
        inner.closed = true;
        for s in inner.streams.values() {
            s.close();
        }
    }

    /// Open connections from `ip`: what a per-address cap counts.
    pub fn count_from(&self, ip: IpAddr) -> usize {
        self.lock()
            .streams
            .values()
            .filter(|s| s.peer_ip() == Some(ip))
            .count()
    }

    /// Closes the connection that serves its node least (see [`least_useful`]) to make
    /// room for a newcomer. Returns the peer it closed, if any.
    pub fn evict_least_useful(&self) -> Option<SlotMark> {
        let inner = self.lock();
        let marks: Vec<(u64, SlotMark)> = inner
            .streams
            .iter()
            .map(|(id, s)| (*id, s.mark()))
            .collect();
        let id = least_useful(&marks)?;
        let slot = inner.streams.get(&id)?;
        slot.close();
        Some(slot.mark())
    }

    /// Marks the slot of `stream` (matched by its two addresses) as [`established`] and
    /// [`useful`] just now, for a node whose coordinator, not the connection thread,
    /// sees what a peer did (a BitTorrent block we asked for). False if it is gone.
    ///
    /// [`established`]: super::established
    /// [`useful`]: super::useful
    pub fn mark_useful(&self, stream: &TcpStream) -> bool {
        let (Ok(peer), Ok(local)) = (stream.peer_addr(), stream.local_addr()) else {
            return false;
        };
        let inner = self.lock();
        let found = inner.streams.values().find(|s| s.is(peer, local));
        if let Some(s) = found {
            s.mark().mark_useful();
        }
        found.is_some()
    }

    /// Closes every connection still in its opening phase (never marked
    /// [`established`](super::established)) after `limit`; returns how many.
    pub fn close_overdue(&self, limit: Duration) -> usize {
        let now = Instant::now();
        let inner = self.lock();
        let overdue: Vec<&Slot> = inner
            .streams
            .values()
            .filter(|s| !s.mark().is_established() && now.duration_since(s.mark().since()) >= limit)
            .collect();
        for s in &overdue {
            s.close();
        }
        overdue.len()
    }

    /// Waits for every thread. Call after [`Conns::shutdown_all`] and after the
    /// workers' stop signal, or this waits for peers to hang up.
    pub fn join_all(&self) {
        let me = thread::current().id();
        loop {
            let handles = std::mem::take(&mut self.lock().handles);
            if handles.is_empty() {
                return;
            }
            for h in handles {
                // A worker that stops its own node must not join itself.
                if h.thread().id() != me {
                    let _ = h.join();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossbeam_channel::bounded;

    #[test]
    fn threads_of_a_registry_with_a_stack_size_get_that_stack() {
        const STACK: usize = 176 * 1024; // a size no other mapping of the test has
        let conns = Conns::with_stack(STACK);
        assert_eq!(conns.stack(), Some(STACK));
        let (ready_tx, ready) = bounded::<()>(1);
        let (done_tx, done) = bounded::<()>(0);
        conns
            .spawn_worker("stack-test".into(), move || {
                let _ = ready_tx.send(());
                let _ = done.recv();
            })
            .unwrap();
        ready.recv().unwrap();
        let found = crate::usage::deepest_stack_kib(STACK);
        drop(done_tx);
        conns.join_all();
        if cfg!(target_os = "linux") {
            assert!(found.is_some(), "no {STACK}-byte stack in /proc/self/smaps");
        }
    }
}
