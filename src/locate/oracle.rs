//! The right answer, kept in memory: a design with no network at all.
//!
//! It knows exactly who shares what, so it passes every check of [`super::conformance`];
//! the checks are tested against it (and against a forgetful copy that they must catch),
//! and a lab can print it as the column every real design is measured against.

use super::{Design, Killed, LocateError, NodeTraffic, PeerId, Provider, SharedFile};
use std::collections::BTreeMap;
use std::time::Duration;

/// An index that is always right (or, made [`Oracle::forgetful`], wrong on purpose).
#[derive(Debug, Default)]
pub struct Oracle {
    shared: BTreeMap<PeerId, Vec<SharedFile>>,
    /// `false` only in [`Oracle::forgetful`]: a polite leaver's files stay listed.
    forget_on_leave: bool,
}

impl Oracle {
    pub fn new() -> Oracle {
        Oracle {
            forget_on_leave: true,
            ..Oracle::default()
        }
    }

    /// The mistake the conformance suite must catch: a peer that left politely is
    /// still named as a provider.
    pub fn forgetful() -> Oracle {
        Oracle::default()
    }
}

impl Design for Oracle {
    fn name(&self) -> String {
        "oracle".into()
    }

    fn join(&mut self, peer: PeerId, files: &[SharedFile]) -> Result<(), LocateError> {
        self.shared.insert(peer, files.to_vec());
        Ok(())
    }

    fn search(&mut self, _: PeerId, kw: &str) -> Result<Vec<Provider>, LocateError> {
        let mut out = Vec::new();
        for (&peer, files) in &self.shared {
            for f in files.iter().filter(|f| f.name.contains(kw)) {
                out.push(Provider {
                    peer,
                    addr: ([127, 0, 0, 1], 1000 + peer as u16).into(),
                    sha1: f.sha1,
                    name: f.name.clone(),
                });
            }
        }
        Ok(out)
    }

    fn leave(&mut self, peer: PeerId) -> Result<(), LocateError> {
        if self.forget_on_leave {
            self.shared.remove(&peer);
        }
        Ok(())
    }

    fn crash(&mut self, peer: PeerId) -> Result<(), LocateError> {
        self.shared.remove(&peer);
        Ok(())
    }

    fn crash_timeout(&self) -> Duration {
        Duration::ZERO
    }

    fn kill_special(&mut self) -> Result<Killed, LocateError> {
        Err(LocateError::Failed("no special node".into()))
    }

    fn traffic(&self) -> Vec<NodeTraffic> {
        Vec::new()
    }

    fn stop(&mut self) {}
}
