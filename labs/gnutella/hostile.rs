//! Step 6 of the lab: neighbours that only hold a slot (issue #13), with the defence on
//! or, with `--no-eviction`, off.
//!
//! One thread per connection makes slots scarce: a servent takes at most
//! `Config::max_degree` neighbours. Attackers that finish the handshake and then answer
//! nothing fill the free ones. With the defence, a full servent replaces the neighbour
//! that never answered a Ping and was idle longest past `Config::idle_grace`, so the
//! newcomer gets in; without it, the newcomer gets 503 for as long as the attack lasts.

use super::{Lab, WAIT};
use p2plab::gnutella::msg::handshake::{self, Answer};
use p2plab::gnutella::{Trace, MAX_DEGREE};
use std::io::BufReader;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// The lab's `Config::idle_grace`: the servents' 60 s, shrunk so the step takes seconds.
/// Every neighbour that joined the overlay earlier answered a Ping long before.
pub const LAB_IDLE_GRACE: Duration = Duration::from_secs(2);
/// Every servent's `Config::idle_grace`: [`LAB_IDLE_GRACE`], or with the defence off
/// `Duration::MAX`, so that no neighbour is ever idle long enough to be replaced.
pub fn idle_grace(eviction: bool) -> Duration {
    if eviction {
        LAB_IDLE_GRACE
    } else {
        Duration::MAX
    }
}

/// How long a knock may take: the answer, or that none came.
const KNOCK: Duration = Duration::from_secs(5);

/// A raw CONNECT claiming to listen on `port`: the answer and the open socket.
fn knock(to: SocketAddr, port: u16) -> Result<(Answer, TcpStream), String> {
    let s = TcpStream::connect_timeout(&to, KNOCK).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(KNOCK)).map_err(|e| e.to_string())?;
    let mut r = BufReader::new(s.try_clone().map_err(|e| e.to_string())?);
    let me = SocketAddr::from((s.local_addr().map_err(|e| e.to_string())?.ip(), port));
    let a = handshake::client(&mut r, &mut &s, me).map_err(|e| e.to_string())?;
    Ok((a, s))
}

impl Lab {
    /// A Ping with TTL 1 from #0: every neighbour that answers has earned its slot.
    /// Returns the Pongs that came back.
    fn ping_neighbours(&mut self) -> usize {
        let (me, want) = (self.s[0].addr(), self.s[0].neighbours().len());
        while self.trace.try_recv().is_ok() {} // what earlier steps left
        self.s[0].ping(1);
        let (mut pongs, end) = (0, Instant::now() + WAIT);
        while pongs < want && Instant::now() < end {
            if let Ok(Trace::PongArrived { at, .. }) =
                self.trace.recv_timeout(Duration::from_millis(50))
            {
                pongs += usize::from(at == me);
            }
        }
        pongs
    }

    pub fn idle_attack(&mut self) -> Result<(), String> {
        let victim = self.s[0].addr();
        let label = self.name(victim);
        let before = self.s[0].neighbours().len();
        let pongs = self.ping_neighbours();
        let free = MAX_DEGREE.saturating_sub(before);
        println!(
            "\n== 6. attackers take {label}'s {free} free slots (of {MAX_DEGREE}) and then answer nothing"
        );
        println!("   first {label} pings its {before} neighbours: {pongs} Pongs; each has now earned its slot");
        println!(
            "   eviction of idle neighbours: {}",
            if self.p.eviction {
                "on"
            } else {
                "OFF (--no-eviction): a full servent refuses every newcomer"
            }
        );
        // On the newcomer's host: with --netns the attack comes from another machine.
        let eviction = self.p.eviction;
        let (held, answer, ms) = self.place.run(self.p.n, move || {
            let mut idle = Vec::new();
            for i in 0..free {
                match knock(victim, 1000 + i as u16) {
                    Ok((Answer::Accepted(_), s)) => idle.push(s),
                    _ => break, // full already: a servent of the overlay took a slot
                }
            }
            // They stay silent past the grace: now they count as idle.
            std::thread::sleep(LAB_IDLE_GRACE + Duration::from_millis(500));
            let t0 = Instant::now();
            let knocked = knock(victim, 9); // its socket stays open until the end
            let ms = t0.elapsed().as_secs_f64() * 1e3;
            (idle, knocked, ms)
        })?;
        let from = self.place.ip(self.p.n);
        let newcomer = SocketAddr::from((from, 9));
        let admitted = matches!(answer, Ok((Answer::Accepted(_), _)))
            && p2plab::wait::until(KNOCK, || self.s[0].neighbours().contains(&newcomer));
        let attackers = || {
            self.s[0]
                .neighbours()
                .iter()
                .filter(|a| a.ip() == from && (1000..1000 + free as u16).contains(&a.port()))
                .count()
        };
        // An evicted socket leaves the neighbour list once its thread has closed it.
        if admitted {
            p2plab::wait::until(KNOCK, || attackers() < held.len());
        }
        let still_held = attackers();
        println!(
            "   {} idle sockets held {label}'s slots for {LAB_IDLE_GRACE:?}",
            held.len()
        );
        let verdict = match &answer {
            Ok((Answer::Accepted(_), _)) if admitted => {
                format!("admitted in {ms:.1} ms: an idle attacker was evicted")
            }
            Ok((Answer::Accepted(_), _)) => format!("accepted in {ms:.1} ms but not kept"),
            Ok((Answer::Refused { code, x_try }, _)) => format!(
                "refused ({code}) in {ms:.1} ms, told to try {} other hosts",
                x_try.len()
            ),
            Err(e) => format!("no answer: {e}"),
        };
        println!("   a newcomer knocks: {verdict}");
        println!(
            "   attackers still holding a slot: {still_held} of {}",
            held.len()
        );
        let mode = if eviction { "on" } else { "OFF" };
        self.row(
            &format!("idle attackers held / newcomer (eviction {mode})"),
            format!(
                "{} / {}",
                held.len(),
                if admitted { "admitted" } else { "refused" }
            ),
        );
        self.row(
            &format!("attackers left holding a slot (eviction {mode})"),
            format!("{still_held} of {}", held.len()),
        );
        drop((held, answer));
        Ok(())
    }
}
