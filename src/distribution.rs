//! Distribution time, client-server vs P2P (notes 6.2, 文件分发 C/S vs P2P).
//!
//! How long does it take to get a file of F bits from one server to N peers? The notes
//! give two lower bounds, with u_s the server's upload rate, d_min the slowest peer's
//! download rate and u_i peer i's upload rate:
//!
//! ```text
//!   client-server:  D_cs  >= max{ N·F/u_s , F/d_min }
//!                   the server uploads N copies; the slowest peer downloads one.
//!   P2P:            D_p2p >= max{ F/u_s , F/d_min , N·F/(u_s + Σ u_i) }
//!                   the server uploads at least one copy; the slowest peer downloads one;
//!                   N copies must be uploaded by everyone together.
//! ```
//!
//! The C/S bound grows linearly with N; the P2P bound levels off, because every new
//! peer brings upload capacity with it (总结：C/S随N线性增加, P2P随N增加节约的时间越明显).
//!
//! Where to look first: [`cs_bound`] and [`p2p_bound`]; [`chart`] draws them.
//! Units are the caller's: bits and bits/s, or bytes and bytes/s, as long as they agree.

pub mod chart;
pub mod cs;

use std::fmt;

/// Which term of the bound is the largest: the one that limits distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Term {
    /// N·F/u_s (C/S) or F/u_s (P2P): the server cannot upload faster.
    ServerUpload,
    /// F/d_min: the slowest peer cannot download faster.
    SlowestDownload,
    /// N·F/(u_s + Σu_i): everybody's upload together is the limit (P2P only).
    TotalUpload,
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Term::ServerUpload => "server upload",
            Term::SlowestDownload => "slowest download",
            Term::TotalUpload => "total upload",
        })
    }
}

/// A lower bound on the distribution time and the term that sets it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    pub seconds: f64,
    pub binding: Term,
}

/// The largest of the terms; on a tie the earlier term in the list is named.
fn max_of(terms: &[(f64, Term)]) -> Bound {
    let mut best = Bound {
        seconds: terms[0].0,
        binding: terms[0].1,
    };
    for &(s, t) in &terms[1..] {
        if s > best.seconds {
            best = Bound {
                seconds: s,
                binding: t,
            };
        }
    }
    best
}

/// D_cs ≥ max{N·F/u_s, F/d_min}. `d_min` may be `f64::INFINITY` (no download limit).
pub fn cs_bound(file: f64, n: usize, server_up: f64, d_min: f64) -> Bound {
    max_of(&[
        (n as f64 * file / server_up, Term::ServerUpload),
        (file / d_min, Term::SlowestDownload),
    ])
}

/// D_p2p ≥ max{F/u_s, F/d_min, N·F/(u_s + Σu_i)}, with one `peer_up` entry per peer.
pub fn p2p_bound(file: f64, server_up: f64, d_min: f64, peer_up: &[f64]) -> Bound {
    let n = peer_up.len() as f64;
    let total: f64 = server_up + peer_up.iter().sum::<f64>();
    max_of(&[
        (file / server_up, Term::ServerUpload),
        (file / d_min, Term::SlowestDownload),
        (n * file / total, Term::TotalUpload),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    // The textbook case: F/u = 1 hour, u_s = 10u, d_min >= u_s. Take u = 1, F = 3600.
    const F: f64 = 3600.0;
    const U: f64 = 1.0;

    #[test]
    fn cs_is_linear_in_n_when_the_server_binds() {
        // N = 30: 30·3600/10 = 10800 s = 3 hours; F/d_min = 3600/20 = 180 s.
        let b = cs_bound(F, 30, 10.0 * U, 20.0);
        assert_eq!(
            b,
            Bound {
                seconds: 10_800.0,
                binding: Term::ServerUpload
            }
        );
        assert_eq!(cs_bound(F, 15, 10.0, 20.0).seconds, 5400.0);
    }

    #[test]
    fn cs_slowest_download_binds_for_one_slow_peer() {
        // N = 1, u_s = 10, d_min = 2: F/d_min = 1800 > F/u_s = 360.
        let b = cs_bound(F, 1, 10.0, 2.0);
        assert_eq!(
            b,
            Bound {
                seconds: 1800.0,
                binding: Term::SlowestDownload
            }
        );
    }

    #[test]
    fn p2p_total_upload_binds_in_the_textbook_case() {
        // N = 30 peers of u = 1 and u_s = 10: 30·3600/(10+30) = 2700 s (under an hour,
        // against three hours for C/S).
        let b = p2p_bound(F, 10.0, 20.0, &[U; 30]);
        assert_eq!(
            b,
            Bound {
                seconds: 2700.0,
                binding: Term::TotalUpload
            }
        );
    }

    #[test]
    fn p2p_server_upload_binds_for_few_peers() {
        // N = 1: F/u_s = 360; 1·3600/(10+1) ≈ 327; F/d_min = 180.
        let b = p2p_bound(F, 10.0, 20.0, &[U]);
        assert_eq!(
            b,
            Bound {
                seconds: 360.0,
                binding: Term::ServerUpload
            }
        );
    }

    #[test]
    fn p2p_slowest_download_binds_for_a_slow_peer() {
        // d_min = 1: F/d_min = 3600 beats 2700 and 360.
        let b = p2p_bound(F, 10.0, 1.0, &[U; 30]);
        assert_eq!(
            b,
            Bound {
                seconds: 3600.0,
                binding: Term::SlowestDownload
            }
        );
    }

    #[test]
    fn p2p_never_above_cs_and_levels_off() {
        for n in 1..=64 {
            let cs = cs_bound(F, n, 10.0, 20.0).seconds;
            let p2p = p2p_bound(F, 10.0, 20.0, &vec![U; n]).seconds;
            assert!(p2p <= cs, "n = {n}");
            assert!(p2p < F, "P2P stays under F/u = one hour at n = {n}");
        }
    }

    #[test]
    fn heterogeneous_uploads_add_up() {
        // Σu_i = 0.5 + 1.5 + 4 = 6; 3·3600/(10+6) = 675.
        let b = p2p_bound(F, 10.0, f64::INFINITY, &[0.5, 1.5, 4.0]);
        assert_eq!(b.seconds, 675.0);
        assert_eq!(b.binding, Term::TotalUpload);
    }
}
