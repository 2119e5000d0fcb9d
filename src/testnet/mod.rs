//! A test network of real hosts on one machine: every peer on its own host, every link
//! shaped to the notes' u_i and d_i (notes 6.2 文件分发, 6.5).
//!
//! On loopback all peers share one address and the rates are token buckets inside the
//! program being measured. A testnet makes H hosts instead, each a Linux network
//! namespace (网络命名空间) with its own address, joined by one switch; the kernel, not
//! p2plab, enforces each host's upload rate (上载速率 u_i) and download rate (下载速率 d_i):
//!
//! ```text
//!   namespace p2pl-<pid>-<n>-h0          namespace p2pl-<pid>-<n>-sw            namespace …-h1
//!   eth0 198.18.0.1/24 ──veth── h0 ┐                                 ┌ h1 ──veth── eth0 198.18.0.2/24
//!   tbf: upload u_0                ├── br0 (a bridge: the switch) ───┤                tbf: upload u_1
//!                  tbf on h0: download d_0                     tbf on h1: download d_1
//! ```
//!
//! A host's upload is shaped on its own `eth0` (egress), its download on the switch's
//! port toward it (that port's egress). The switch namespace has no address and no
//! route: nothing in a testnet can reach, or be reached from, any other network. The
//! addresses come from 198.18.0.0/15, the block set aside for benchmarking networks.
//!
//! Where to look first: [`Testnet::create`], then [`Host::spawn`]: a thread started there
//! lives in the host's namespace, and so do the sockets and threads of a node it starts,
//! without any change to the node's code. `shape.rs` says what `tbf` is asked.
//!
//! Cleanup: a testnet deletes its namespaces when dropped (which removes their links);
//! [`cleanup_on_interrupt`] does it on Ctrl-C; and [`Testnet::create`] first deletes the
//! namespaces of earlier runs whose process is gone (names carry the owner's pid), so a
//! crash leaves nothing behind for long.
//!
//! Simplified here: rates only. Delay and loss would need `netem`, which this kind of
//! machine does not have; the notes' formulas have no delay term either.

mod interrupt;
mod ip;
mod shape;

pub use interrupt::cleanup_on_interrupt;
pub use ip::{available, netns_list, NetError};
pub use shape::{tbf_args, Rate};

use log::info;
use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};

/// Every namespace a testnet makes starts with this, then the owner's pid.
pub const PREFIX: &str = "p2pl-";
/// One /24 of addresses: host i is 198.18.0.(i+1).
pub const MAX_HOSTS: usize = 250;
/// The hosts' subnet; nothing outside it is reachable from a host.
pub const SUBNET: (Ipv4Addr, u8) = (Ipv4Addr::new(198, 18, 0, 0), 24);

/// One host to make: its link rates (`None`: as fast as the kernel goes).
#[derive(Debug, Clone, Copy, Default)]
pub struct HostSpec {
    pub up: Option<Rate>,
    pub down: Option<Rate>,
}

/// One host of a testnet.
#[derive(Debug, Clone)]
pub struct Host {
    pub index: usize,
    pub netns: String,
    pub addr: Ipv4Addr,
    pub spec: HostSpec,
}

/// H hosts on one switch. Dropping it deletes every namespace it made.
#[derive(Debug)]
pub struct Testnet {
    prefix: String,
    switch: String,
    hosts: Vec<Host>,
    made: Vec<String>,
}

/// Tells apart the testnets of one process (tests make several at once).
static NEXT: AtomicUsize = AtomicUsize::new(0);

impl Testnet {
    /// Makes one host per spec, each with its links shaped as the spec says.
    pub fn create(specs: &[HostSpec]) -> Result<Testnet, NetError> {
        available()?;
        if specs.len() > MAX_HOSTS {
            return Err(NetError::Unavailable(format!(
                "{} hosts asked, at most {MAX_HOSTS}",
                specs.len()
            )));
        }
        remove_stale()?;
        let prefix = format!(
            "{PREFIX}{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let mut net = Testnet {
            switch: format!("{prefix}-sw"),
            prefix,
            hosts: Vec::new(),
            made: Vec::new(),
        };
        // On any error below, dropping `net` deletes what was made so far.
        net.add_netns(&net.switch.clone())?;
        ip::ip_in(&net.switch, &["link", "add", "br0", "type", "bridge"])?;
        ip::ip_in(&net.switch, &["link", "set", "br0", "up"])?;
        for (index, spec) in specs.iter().enumerate() {
            let host = net.add_host(index, *spec)?;
            net.hosts.push(host);
        }
        info!(
            "testnet {}: {} hosts on {}/{}",
            net.prefix,
            net.hosts.len(),
            SUBNET.0,
            SUBNET.1
        );
        Ok(net)
    }

    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    /// The namespace names' common start, e.g. `p2pl-4242-0`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn add_netns(&mut self, name: &str) -> Result<(), NetError> {
        ip::run("ip", &["netns".into(), "add".into(), name.into()])?;
        self.made.push(name.to_string());
        interrupt::register(name);
        ip::ip_in(name, &["link", "set", "lo", "up"])?;
        Ok(())
    }

    fn add_host(&mut self, index: usize, spec: HostSpec) -> Result<Host, NetError> {
        let netns = format!("{}-h{index}", self.prefix);
        self.add_netns(&netns)?;
        let port = format!("h{index}");
        let octets = SUBNET.0.octets();
        let addr = Ipv4Addr::new(octets[0], octets[1], octets[2], index as u8 + 1);
        let cidr = format!("{addr}/{}", SUBNET.1);
        // Made inside the namespaces directly: no interface ever appears outside them.
        ip::ip_in(
            &netns,
            &[
                "link",
                "add",
                "eth0",
                "type",
                "veth",
                "peer",
                "name",
                &port,
                "netns",
                &self.switch,
            ],
        )?;
        ip::ip_in(&netns, &["addr", "add", &cidr, "dev", "eth0"])?;
        ip::ip_in(&netns, &["link", "set", "eth0", "up"])?;
        // A default route onto the switch, where anything not for a host dies: real
        // clients (Transmission) refuse to start without one.
        ip::ip_in(&netns, &["route", "add", "default", "dev", "eth0"])?;
        ip::ip_in(&self.switch, &["link", "set", &port, "master", "br0"])?;
        ip::ip_in(&self.switch, &["link", "set", &port, "up"])?;
        if let Some(up) = spec.up {
            ip::tc_in(&netns, &tbf_args("eth0", up))?;
        }
        if let Some(down) = spec.down {
            ip::tc_in(&self.switch, &tbf_args(&port, down))?;
        }
        Ok(Host {
            index,
            netns,
            addr,
            spec,
        })
    }

    /// Deletes every namespace (and with them every link and qdisc). Idempotent.
    pub fn teardown(&mut self) {
        for name in self.made.drain(..).rev() {
            let _ = ip::run("ip", &["netns".into(), "delete".into(), name.clone()]);
            interrupt::unregister(&name);
        }
        self.hosts.clear();
    }
}

impl Drop for Testnet {
    fn drop(&mut self) {
        self.teardown();
    }
}

impl Host {
    /// Runs `f` on a new thread named `name` inside this host's namespace. Sockets it
    /// opens, and threads it spawns, belong to the host.
    pub fn spawn<T, F>(&self, name: &str, f: F) -> std::io::Result<JoinHandle<Result<T, NetError>>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let netns = self.netns.clone();
        thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                ip::enter(&netns)?;
                Ok(f())
            })
    }

    /// Runs `f` inside this host's namespace on a scoped thread and waits for it, so `f`
    /// may borrow (a node's handle, say, to dial from this host).
    pub fn run<T, F>(&self, f: F) -> Result<T, NetError>
    where
        T: Send,
        F: FnOnce() -> T + Send,
    {
        thread::scope(|scope| {
            scope
                .spawn(|| {
                    ip::enter(&self.netns)?;
                    Ok(f())
                })
                .join()
                .unwrap_or_else(|_| {
                    Err(NetError::Unavailable("a thread on a host panicked".into()))
                })
        })
    }

    /// A command that runs `program` inside this host (`ip netns exec`), e.g. a real
    /// BitTorrent client. The caller owns the child process and must end it.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.netns, program]);
        c
    }
}

/// Deletes testnet namespaces whose owning process no longer exists: a crashed run's.
pub fn remove_stale() -> Result<usize, NetError> {
    let mut removed = 0;
    for name in netns_list()? {
        if let Some(pid) = owner(&name) {
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                ip::run("ip", &["netns".into(), "delete".into(), name.clone()])?;
                removed += 1;
            }
        }
    }
    if removed > 0 {
        info!("testnet: removed {removed} namespaces left by a run that crashed");
    }
    Ok(removed)
}

/// The pid in a testnet namespace's name (`p2pl-4242-0-h3` → 4242).
fn owner(netns: &str) -> Option<u32> {
    netns.strip_prefix(PREFIX)?.split('-').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_is_read_from_the_name() {
        assert_eq!(owner("p2pl-4242-0-h3"), Some(4242));
        assert_eq!(owner("p2pl-4242-12-sw"), Some(4242));
        assert_eq!(owner("someone-elses"), None);
        assert_eq!(owner("p2pl-x-0"), None);
    }
}
