//! A child's plan for finding a leader: the addresses left to try in this round, the
//! whole order, how many rounds are left, and when the next round starts. Data only:
//! the coordinator (`child.rs`) dials what [`Attach::next`] says.

use crate::kazaa::conn::ConnId;
use std::collections::VecDeque;
use std::net::SocketAddrV4;
use std::time::{Duration, Instant};

/// Pause between rounds: a leader being promoted needs a moment to listen.
pub const REATTACH_PAUSE: Duration = Duration::from_millis(200);

/// What to do next.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    Dial(SocketAddrV4),
    /// This round is over; the next starts at a later tick.
    Later,
    /// Every round failed.
    GiveUp,
}

#[derive(Default)]
pub struct Attach {
    /// The attempt in flight.
    pub dialling: Option<ConnId>,
    plan: VecDeque<SocketAddrV4>,
    order: Vec<SocketAddrV4>,
    rounds_left: usize,
    retry_at: Option<Instant>,
}

impl Attach {
    /// Starts over with `order`, tried at most `rounds` times.
    pub fn begin(&mut self, order: Vec<SocketAddrV4>, rounds: usize) {
        self.plan = order.iter().copied().collect();
        self.order = order;
        self.rounds_left = rounds.saturating_sub(1);
        self.retry_at = None;
    }

    /// The next address of this round, or what to do when the round is over.
    pub fn next(&mut self, now: Instant) -> Step {
        self.dialling = None;
        if let Some(to) = self.plan.pop_front() {
            return Step::Dial(to);
        }
        if self.rounds_left == 0 {
            return Step::GiveUp;
        }
        self.rounds_left -= 1;
        self.retry_at = Some(now + REATTACH_PAUSE);
        Step::Later
    }

    /// True once, when the next round is due: the whole order is tried again.
    pub fn due(&mut self, now: Instant) -> bool {
        if self.retry_at.is_none_or(|t| t > now) {
            return false;
        }
        self.retry_at = None;
        self.plan = self.order.iter().copied().collect();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn rounds_then_give_up() {
        let a = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 1);
        let t = Instant::now();
        let mut p = Attach::default();
        p.begin(vec![a], 2);
        assert_eq!(p.next(t), Step::Dial(a));
        assert_eq!(p.next(t), Step::Later);
        assert!(!p.due(t));
        assert!(p.due(t + REATTACH_PAUSE));
        assert_eq!(p.next(t), Step::Dial(a));
        assert_eq!(p.next(t), Step::GiveUp);
    }
}
