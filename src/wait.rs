//! One way to wait with a deadline.
//!
//! Tests, labs and the local-ring helpers often wait for a condition that has no event
//! to wait on (a ring has settled, a peer's files left a directory). They all poll here,
//! with a deadline, so nothing waits forever and nothing guesses with a bare `sleep`.
//! Where a channel carries the event, wait on the channel (`recv_timeout`) instead.

use std::time::{Duration, Instant};

/// How often a condition is checked: short next to any deadline we use, long enough
/// that polling costs nothing next to the work being waited for.
pub const POLL: Duration = Duration::from_millis(5);

/// Checks `cond` every [`POLL`] until it holds or `limit` passes; returns whether it held.
pub fn until(limit: Duration, cond: impl FnMut() -> bool) -> bool {
    until_every(limit, POLL, cond)
}

/// [`until`] with a poll interval of the caller's: a check that is itself costly (a
/// whole ring's state, say) is made less often.
pub fn until_every(limit: Duration, poll: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(poll);
    }
}

/// Time left until `end`, or an error naming `what` when it has passed: the check a
/// protocol phase makes before each blocking step of its deadline.
pub fn remaining(end: Instant, what: &'static str) -> Result<Duration, TimedOut> {
    let left = end.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(TimedOut(what))
    } else {
        Ok(left)
    }
}

/// A phase missed its deadline; the string names the phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut(pub &'static str);

impl std::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} did not finish before its deadline", self.0)
    }
}

impl std::error::Error for TimedOut {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn until_reports_a_condition_that_holds() {
        let mut n = 0;
        assert!(until(Duration::from_secs(1), || {
            n += 1;
            n == 3
        }));
        assert_eq!(n, 3);
    }

    #[test]
    fn until_gives_up_at_the_deadline() {
        let t = Instant::now();
        assert!(!until(Duration::from_millis(20), || false));
        assert!(t.elapsed() >= Duration::from_millis(20));
    }

    #[test]
    fn remaining_names_the_late_phase() {
        let past = Instant::now() - Duration::from_millis(1);
        assert_eq!(remaining(past, "handshake"), Err(TimedOut("handshake")));
        assert!(remaining(Instant::now() + Duration::from_secs(5), "login").is_ok());
    }
}
