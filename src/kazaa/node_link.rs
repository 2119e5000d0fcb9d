//! The node's side of the link to its leader: attaching, the read loop, and churn
//! (reattaching when the leader leaves or dies, moving when redirected, promotion).

use super::*;

impl Shared {
    /// Writes one frame to the leader.
    pub(super) fn send(&self, msg: &Msg) -> Result<(), NodeError> {
        let w = lock(&self.writer);
        let s = w.as_ref().ok_or(NodeError::NoLeader)?;
        send(s, msg).map_err(|e| NodeError::Io(Box::new(e)))
    }

    /// Query ids: a per-node counter mixed (splitmix64) with the node's number, so
    /// ids from different nodes do not collide and a run with the same ids repeats.
    pub(super) fn next_query_id(&self) -> u64 {
        let n = self.queries.fetch_add(1, Ordering::SeqCst);
        let mut z = ((self.cfg.id << 32) ^ n).wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Remembers the leaders our leader says it is linked to (and the leader itself).
    /// The latest list replaces the last: a leader that died drops out of it.
    fn learn(&self, leader: SocketAddrV4, mut list: Vec<SocketAddrV4>) {
        list.push(leader);
        list.sort();
        list.dedup();
        *lock(&self.known) = list;
    }

    /// Where to go after losing `old`: the leaders we heard of, spread by our id, then
    /// the configured ones as a last resort.
    fn reattach_order(&self, old: SocketAddrV4) -> Vec<SocketAddrV4> {
        let known = lock(&self.known).clone();
        let mut order = pick_leader(&known, &[old], self.cfg.id);
        let configured: Vec<_> = self.cfg.leaders.iter().filter_map(v4).collect();
        for a in pick_leader(&configured, &[old], self.cfg.id) {
            if !order.contains(&a) {
                order.push(a);
            }
        }
        order
    }

    /// Tries each address in turn; the first that takes our list wins.
    pub(super) fn attach_any(
        &self,
        order: &[SocketAddrV4],
    ) -> Option<(TcpStream, SocketAddrV4, Vec<Msg>)> {
        for &a in order {
            if self.stopping.load(Ordering::SeqCst) {
                return None;
            }
            match self.attach(a) {
                Ok((s, early)) => return Some((s, a, early)),
                Err(e) => {
                    info!("node {}: cannot attach to {a}: {e}", self.share_port);
                    if let Some((_, s)) = lock(&self.current).take() {
                        let _ = s.shutdown(Shutdown::Both);
                    }
                }
            }
        }
        None
    }

    /// Hello, Welcome, our content list, Indexed. Promote or Redirect arriving before
    /// the last Indexed are kept and handled once attached.
    fn attach(&self, addr: SocketAddrV4) -> Result<(TcpStream, Vec<Msg>), BoxError> {
        let s = net::connect(addr, Some(HELLO_TIMEOUT))?;
        s.set_write_timeout(Some(WRITE_TIMEOUT))?;
        *lock(&self.current) = Some((addr, s.try_clone()?));
        // A node that already leads is a child of its own leader: it announces no
        // capacity, so that leader never asks it to lead a second time.
        let leads = lock(&self.promoted).is_some();
        let hello = Msg::Hello {
            role: Role::Node,
            port: self.share_port,
            capacity: if leads { 0 } else { self.cfg.capacity },
        };
        send(&s, &hello)?;
        match read_msg(&s)? {
            Some(Msg::Welcome(list)) => self.learn(addr, list),
            _ => return Err("the leader did not answer Hello with Welcome".into()),
        }
        let descs: Vec<_> = (self.folder.files().iter())
            .map(|f| describe(&f.name, f.size, f.sha1))
            .collect();
        let chunks: Vec<_> = descs.chunks(MAX_PUBLISH).collect();
        // An empty list is still published, so that Indexed always comes back.
        let frames = chunks.len().max(1);
        if chunks.is_empty() {
            send(&s, &Msg::Publish(Vec::new()))?;
        }
        for c in chunks {
            send(&s, &Msg::Publish(c.to_vec()))?;
        }
        let (mut acks, mut early) = (0, Vec::new());
        while acks < frames {
            match read_msg(&s)?.ok_or("the leader closed while indexing")? {
                Msg::Indexed(_) => acks += 1,
                Msg::Ping => {}
                Msg::Leaders(list) => self.learn(addr, list),
                m @ (Msg::Promote | Msg::Redirect(_)) => early.push(m),
                _ => return Err("unexpected message while publishing".into()),
            }
        }
        s.set_read_timeout(Some(self.cfg.keepalive))?;
        *lock(&self.writer) = Some(s.try_clone()?);
        *lock(&self.attached) = Some(addr);
        lock(&self.history).push(addr);
        self.attaches.fetch_add(1, Ordering::SeqCst);
        info!("node {}: attached to leader {addr}", self.share_port);
        Ok((s, early))
    }

    /// The node's thread: serve the current leader; when it goes, find another.
    pub(super) fn run(&self, mut stream: TcpStream, mut leader: SocketAddrV4, mut early: Vec<Msg>) {
        loop {
            let outcome = self.serve_leader(&stream, leader, std::mem::take(&mut early));
            self.detach();
            if self.stopping.load(Ordering::SeqCst) {
                return;
            }
            let mut order = self.reattach_order(leader);
            match outcome {
                Outcome::Lost(why) => {
                    info!("node {}: lost leader {leader}: {why}", self.share_port)
                }
                Outcome::Bye => info!("node {}: leader {leader} left", self.share_port),
                Outcome::Redirect(to) => {
                    info!("node {}: redirected to {to}", self.share_port);
                    order.retain(|a| *a != to);
                    order.insert(0, to);
                }
                Outcome::Promote => match self.promote(leader) {
                    Ok(mine) => order = vec![mine],
                    Err(e) => warn!("node {}: promotion failed: {e}", self.share_port),
                },
            }
            let mut next = None;
            for round in 0..REATTACH_ROUNDS {
                next = self.attach_any(&order);
                if next.is_some() || self.stopping.load(Ordering::SeqCst) {
                    break;
                }
                if round + 1 < REATTACH_ROUNDS {
                    thread::sleep(REATTACH_PAUSE);
                }
            }
            if next.is_none() && !self.stopping.load(Ordering::SeqCst) {
                // Nobody leads any more: every peer leads or belongs to a leader, so lead.
                warn!(
                    "node {}: no leader answers, leading myself",
                    self.share_port
                );
                next = self
                    .promote_alone()
                    .and_then(|mine| self.attach_any(&[mine]));
            }
            match next {
                Some((s, a, e)) => (stream, leader, early) = (s, a, e),
                None => return,
            }
        }
    }

    fn serve_leader(&self, s: &TcpStream, leader: SocketAddrV4, early: Vec<Msg>) -> Outcome {
        for m in early {
            match m {
                Msg::Promote => return Outcome::Promote,
                Msg::Redirect(to) => return Outcome::Redirect(to),
                _ => {}
            }
        }
        // The read timeout is one keep-alive period, so this loop turns at least that
        // often: it pings the leader on schedule (a leader drops a silent child), and
        // counts the periods in which the leader said nothing (it pings us as often).
        let (mut misses, mut last_ping) = (0, Instant::now());
        loop {
            let read = read_msg(s);
            if last_ping.elapsed() >= self.cfg.keepalive {
                last_ping = Instant::now();
                let _ = self.send(&Msg::Ping);
            }
            let msg = match read {
                Ok(Some(m)) => m,
                Ok(None) => return Outcome::Lost("connection closed".into()),
                Err(e) if e.is_timeout() => {
                    misses += 1;
                    if misses >= MAX_MISSES {
                        return Outcome::Lost("silent for too long".into());
                    }
                    continue;
                }
                Err(e) => return Outcome::Lost(e.to_string()),
            };
            misses = 0;
            match msg {
                Msg::Ping => {}
                Msg::Hits { id, leaders, hits } => {
                    if let Some(tx) = lock(&self.pending).remove(&id) {
                        let _ = tx.send(QueryAnswer { hits, leaders });
                    }
                }
                Msg::Leaders(list) => self.learn(leader, list),
                Msg::Promote => return Outcome::Promote,
                Msg::Redirect(to) => return Outcome::Redirect(to),
                Msg::Bye => return Outcome::Bye,
                _ => return Outcome::Lost("the leader sent a message a node never gets".into()),
            }
        }
    }

    /// Forgets the leader: no writer, and queries waiting on it fail at once.
    fn detach(&self) {
        *lock(&self.writer) = None;
        *lock(&self.attached) = None;
        if let Some((_, s)) = lock(&self.current).take() {
            let _ = s.shutdown(Shutdown::Both);
        }
        lock(&self.pending).clear();
    }

    /// Becomes a leader linked to the old one (told it is a promotion) and to the
    /// other leaders we know. Returns its address; we then attach to it as a child.
    fn promote(&self, old: SocketAddrV4) -> Result<SocketAddrV4, BoxError> {
        let known = lock(&self.known).clone();
        let mut cfg = self.cfg.as_leader.clone();
        cfg.promoted_from = Some(SocketAddr::V4(old));
        cfg.links = known.iter().map(|a| SocketAddr::V4(*a)).collect();
        self.start_leader(cfg)
    }

    fn promote_alone(&self) -> Option<SocketAddrV4> {
        self.start_leader(self.cfg.as_leader.clone()).ok()
    }

    fn start_leader(&self, cfg: LeaderConfig) -> Result<SocketAddrV4, BoxError> {
        if let Some(a) = lock(&self.promoted).as_ref().map(Leader::local_addr) {
            return Ok(v4(&a).ok_or("IPv6 leader")?);
        }
        // Started outside the lock: it dials other leaders.
        let l = Leader::start(cfg)?;
        let addr = v4(&l.local_addr()).ok_or("IPv6 leader")?;
        info!("node {}: promoted, now leading at {addr}", self.share_port);
        *lock(&self.promoted) = Some(l);
        Ok(addr)
    }
}
