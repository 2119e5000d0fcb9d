//! Where the servents run: all on 127.0.0.1, or (`--netns`) each on its own host.
//!
//! With `--netns` servent i runs on host i of a testnet (a network namespace with its
//! own address, all on one bridge), the newcomer on the next host and the host cache on
//! the last. Every servent binds its host's address, so what its Pongs and QueryHits
//! advertise is what other hosts reach it at, and a Query crosses real hosts.

use p2plab::testnet::{self, HostSpec, Testnet};
use std::net::{IpAddr, Ipv4Addr};

/// Loopback, or the hosts of a testnet (deleted when this is dropped).
pub struct Place {
    net: Option<Testnet>,
}

impl Place {
    pub fn loopback() -> Place {
        Place { net: None }
    }

    /// `hosts` hosts with unshaped links. Where namespaces cannot be made (not root, no
    /// iproute2), says so in one line and falls back to loopback.
    pub fn hosts(hosts: usize) -> Result<Place, String> {
        if let Err(e) = testnet::available() {
            println!("--netns: {e}; every servent runs on 127.0.0.1 instead\n");
            return Ok(Place::loopback());
        }
        testnet::cleanup_on_interrupt();
        let net = Testnet::create(&vec![HostSpec::default(); hosts])
            .map_err(|e| format!("--netns: cannot make {hosts} hosts: {e}"))?;
        Ok(Place { net: Some(net) })
    }

    /// The address to bind on host `i`.
    pub fn ip(&self, i: usize) -> IpAddr {
        match &self.net {
            None => IpAddr::V4(Ipv4Addr::LOCALHOST),
            Some(net) => IpAddr::V4(net.hosts()[i].addr),
        }
    }

    /// One line for the story.
    pub fn describe(&self) -> String {
        match &self.net {
            None => "all on 127.0.0.1".into(),
            Some(net) => format!(
                "each on its own host: {} hosts {} .. {} (network namespaces)",
                net.hosts().len(),
                net.hosts()[0].addr,
                net.hosts()[net.hosts().len() - 1].addr
            ),
        }
    }

    /// Runs `f` on host `i`: the sockets it opens, and the threads it starts, live there.
    /// On loopback it runs here.
    pub fn run<T: Send>(&self, i: usize, f: impl FnOnce() -> T + Send) -> Result<T, String> {
        match &self.net {
            None => Ok(f()),
            Some(net) => net.hosts()[i].run(f).map_err(|e| e.to_string()),
        }
    }
}
