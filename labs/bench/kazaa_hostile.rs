//! The leader's listener under attack (issue 13): slow senders that open connections and
//! send one byte of a Hello, then nothing. Measured: how many of them the leader still
//! holds, and how long a fresh child takes to join and get its first answer meanwhile.

use p2plab::kazaa::{Leader, LeaderConfig, Node, NodeConfig};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// What the attack measured.
pub struct Attack {
    pub attackers: usize,
    pub held: usize,
    /// The slowest of the fresh children's join + first query, in ms.
    pub fresh_ms: f64,
}

/// `attackers` slow senders at a leader of `slots` connections, then `fresh` children
/// joining and asking one query each, one after the other.
pub fn slow_senders(attackers: usize, slots: usize, fresh: usize) -> Result<Attack, String> {
    let mut cfg = LeaderConfig::new("127.0.0.1:0");
    cfg.max_children = 0;
    cfg.max_peers = slots;
    // Every socket here is 127.0.0.1: without this the per-address cap (checked
    // before eviction) would refuse the fresh children along with the attackers.
    cfg.max_per_addr = usize::MAX;
    let mut leader = Leader::start(cfg).map_err(|e| e.to_string())?;
    let addr = leader.local_addr();
    let mut slow = Vec::new();
    for _ in 0..attackers {
        let mut s = TcpStream::connect(addr).map_err(|e| e.to_string())?;
        let _ = s.write_all(&[0]);
        slow.push(s);
    }
    let dir = std::env::temp_dir().join(format!("p2plab-bench-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut worst = Duration::ZERO;
    let mut nodes = Vec::new();
    for i in 0..fresh {
        let t = Instant::now();
        let node =
            Node::start(NodeConfig::new(vec![addr], &dir, i as u64)).map_err(|e| e.to_string())?;
        node.query("anything", 0).map_err(|e| e.to_string())?;
        worst = worst.max(t.elapsed());
        nodes.push(node);
    }
    // Still held: a read waits (times out) instead of seeing the leader's close.
    let mut held = 0;
    for s in &mut slow {
        let _ = s.set_read_timeout(Some(Duration::from_millis(20)));
        if let Err(e) = s.read(&mut [0u8; 1]) {
            held += usize::from(matches!(
                e.kind(),
                ErrorKind::WouldBlock | ErrorKind::TimedOut
            ));
        }
    }
    Node::stop_all(&mut nodes);
    leader.stop();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Attack {
        attackers,
        held,
        fresh_ms: worst.as_secs_f64() * 1000.0,
    })
}
