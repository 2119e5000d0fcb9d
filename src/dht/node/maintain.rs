//! The rounds that keep the ring correct while peers come and go (对等方扰动, churn).
//!
//! ```text
//!   stabilize          ask successor for its predecessor x; x between us? adopt x;
//!                      copy its successor list; notify it that we exist
//!   fix-fingers        confirm the next finger; while they are wrong, repair them
//!                      (walk back along predecessors, or look the start up): fingers.rs
//!   check-predecessor  ping the predecessor; forget it if it does not answer
//!   replicate          copy the keys we own to our r successors
//! ```
//!
//! Each is due every `period x time_scale` (`state.rs`; with `Config::scale_with_ring`
//! the time scale follows the ring's size as the node estimates it). A round
//! starts here with what the state says (a [`Job`] for a worker, which makes the calls),
//! and ends here with what the calls found (a [`Done`]), applied to the state. One round
//! of each kind is in flight at a time: a tick that comes while its round is still
//! running is skipped.
//!
//! Fewer rounds as the ring settles: a stabilize round that changed nothing makes the
//! next ones sit out 1, then 3 ticks ([`QUIET_STABILIZE`]); a fix-fingers round that
//! only confirmed a finger makes them sit out 1, then 3 ([`QUIET_FINGERS`]). Any
//! change (a new successor, a finger moved, a NOTIFY that changed our predecessor, a
//! leave notice, a node found dead) brings both back to every tick. A NOTIFY that
//! changes nothing does not count, and is not even sent when the successor already
//! names us (`jobs.rs`): otherwise every node's predecessor would wake it every period
//! and no ring would ever be quiet. So a settled ring of N nodes costs about N/4
//! stabilize rounds of 2 calls and N/4 finger confirmations per period, instead of N
//! rounds of 3 calls and N confirmations, and churn is still seen within a few periods.

use super::jobs::{Done, Job};
use crate::dht::policy::NodeRef;
use crate::dht::policy::{by_distance_from, fill_fingers, successor_list};
use crate::dht::state::{Config, State};

/// Most quiet steps of stabilize: it then runs every 2^2 = 4th tick.
pub const QUIET_STABILIZE: u32 = 2;
/// Most quiet steps of fix-fingers: it then runs every 2^2 = 4th tick. A node has about
/// log2 N distinct fingers and confirms one per round, so a finger gone wrong unseen is
/// found within about 4·log2 N ticks. Every 8th tick (the old setting) saved an eighth
/// of a call per node and period, and doubled how long a ring's last wrong fingers wait.
pub const QUIET_FINGERS: u32 = 2;

/// How many ticks a round sits out after rounds that changed nothing.
#[derive(Default)]
struct Quiet {
    level: u32,
    skip: u32,
}

impl Quiet {
    /// True if this tick is sat out.
    fn sit_out(&mut self) -> bool {
        let sit = self.skip > 0;
        self.skip = self.skip.saturating_sub(1);
        sit
    }
    fn quiet(&mut self, max: u32) {
        self.level = (self.level + 1).min(max);
        self.skip = (1 << self.level) - 1;
    }
    fn busy(&mut self) {
        *self = Quiet::default();
    }
}

/// Which rounds are in flight, and how quiet the ring has been.
#[derive(Default)]
pub(crate) struct Rounds {
    stabilizing: bool,
    fixing: bool,
    checking: bool,
    replicating: bool,
    quiet_stab: Quiet,
    quiet_fix: Quiet,
}

impl Rounds {
    /// Something changed around us: run every round at every tick again.
    pub fn churn(&mut self) {
        self.quiet_stab.busy();
        self.quiet_fix.busy();
    }

    /// Chord's `stabilize`, with the successor list: the successors first, then every
    /// other node we know, nearest clockwise first, in case they all failed.
    pub fn stabilize(&mut self, me: &NodeRef, cfg: &Config, st: &mut State) -> Option<Job> {
        if self.stabilizing || self.quiet_stab.sit_out() {
            return None;
        }
        if st.succs.is_empty() {
            // Alone so far: someone notified us, so make it our successor. This is how
            // the first two nodes of a ring find each other.
            if let Some(p) = st.pred.filter(|p| p != me) {
                st.set_succs(vec![p]);
            }
            return None;
        }
        let mut candidates = st.succs.clone();
        candidates.extend(by_distance_from(me, &st.known(), cfg.bits));
        self.stabilizing = true;
        Some(Job::Stabilize {
            candidates,
            bootstrap: st.bootstrap,
        })
    }

    /// Chord's `fix_fingers` (index 0, the successor, is kept by stabilize): a round
    /// starts at the next finger and goes on while it finds fingers wrong
    /// (`fingers.rs`).
    pub fn fix_fingers(&mut self, cfg: &Config, st: &State) -> Option<Job> {
        // Alone, every finger is ourselves: nothing to call, nothing to fix.
        if self.fixing || cfg.bits < 2 || st.succs.is_empty() || self.quiet_fix.sit_out() {
            return None;
        }
        self.fixing = true;
        Some(Job::FixFingers {
            from: st.next_finger.clamp(1, cfg.bits - 1),
            succs: st.succs.clone(),
            fingers: st.fingers.clone(),
        })
    }

    /// Chord's `check_predecessor`.
    pub fn check_predecessor(&mut self, st: &State) -> Option<Job> {
        let p = st.pred.filter(|_| !self.checking)?;
        self.checking = true;
        Some(Job::Ping(p))
    }

    /// Copies every key this node owns to its r successors, so that when it crashes the
    /// next node already holds them. Sets merge by union, so sending again is harmless.
    pub fn replicate(&mut self, me: &NodeRef, cfg: &Config, st: &State) -> Option<Job> {
        let p = st.pred.filter(|_| !self.replicating)?;
        let entries = st.store.in_range(&p.id, &me.id);
        if entries.is_empty() || st.succs.is_empty() {
            return None;
        }
        self.replicating = true;
        Some(Job::Replicate {
            to: st.succs.iter().take(cfg.r).copied().collect(),
            entries,
        })
    }

    /// A round's job found the worker's queue full: the round is skipped.
    pub fn skipped(&mut self, job: &Job) {
        match job {
            Job::Stabilize { .. } => self.stabilizing = false,
            Job::FixFingers { .. } => self.fixing = false,
            Job::Ping(_) => self.checking = false,
            Job::Replicate { .. } => self.replicating = false,
            Job::Forward { .. } | Job::Store { .. } => {}
        }
    }

    /// A round's calls are done: apply what they found.
    pub fn finished(&mut self, me: &NodeRef, cfg: &Config, st: &mut State, done: Done) {
        match done {
            Done::Stabilized {
                failed,
                found,
                rejoined,
            } => {
                self.stabilizing = false;
                failed.iter().for_each(|n| st.forget(n));
                let before = st.succs.clone();
                let succs = match (found, rejoined) {
                    (Some((succ, list)), _) => successor_list(me, &succ, &list, cfg.r),
                    (None, Some(owner)) if owner != *me => vec![owner],
                    (None, _) => Vec::new(),
                };
                st.set_successors(me, cfg.bits, succs);
                if failed.is_empty() && st.succs == before {
                    self.quiet_stab.quiet(QUIET_STABILIZE);
                } else {
                    self.churn();
                }
            }
            Done::Fingers(fixed) => {
                self.fixing = false;
                fixed.failed.iter().for_each(|n| st.forget(n));
                for (i, owner) in &fixed.found {
                    st.next_finger = fill_fingers(me, &mut st.fingers, *i, owner, cfg.bits);
                }
                if fixed.confirmed && fixed.found.len() == 1 && fixed.failed.is_empty() {
                    self.quiet_fix.quiet(QUIET_FINGERS);
                } else {
                    self.quiet_fix.busy();
                }
            }
            Done::Pinged { node, alive } => {
                self.checking = false;
                if !alive {
                    log::debug!("{}: predecessor {} is gone", me.addr, node.addr);
                    st.forget(&node);
                }
            }
            Done::Replicated => self.replicating = false,
            Done::Forwarded | Done::Stored { .. } => {}
        }
    }
}
