//! The decisions as pure functions: the rules of the notes' "受限的泛洪查询" (flooding
//! limited by a TTL), the reverse path of hits, whom to admit, and how to get back to
//! the target degree. No sockets and no clocks of their own here: students change
//! these and the tests next to them, and the servent follows. The coordinator
//! (`node/coordinator.rs`, `node/relay.rs`) applies them.

use super::msg::MAX_TTL;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Who a message came from, or who a neighbour is: a small number given per connection.
/// [`SELF`] marks descriptors this servent created.
pub type PeerId = u64;
pub const SELF: PeerId = 0;

/// What to do with an arriving TTL/hops pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hop {
    /// Accept with these values *after* this hop (TTL − 1, hops + 1).
    Accept { ttl: u8, hops: u8, clamped: bool },
    /// Drop, for this reason.
    Drop(&'static str),
}

/// Applies one hop: rejects TTL 0 and impossible hop counts, clamps TTL + hops to
/// [`MAX_TTL`] (a peer sending TTL 255 gets the network's limit, not a 255-hop flood),
/// then decrements the TTL and increments the hops.
pub fn hop(ttl: u8, hops: u8) -> Hop {
    if ttl == 0 {
        return Hop::Drop("TTL 0 arrived (it should not have been sent)");
    }
    if hops >= MAX_TTL {
        return Hop::Drop("hops already at the limit");
    }
    let clamped = ttl as u16 + hops as u16 > MAX_TTL as u16;
    let ttl = if clamped { MAX_TTL - hops } else { ttl };
    Hop::Accept {
        ttl: ttl - 1,
        hops: hops + 1,
        clamped,
    }
}

/// The neighbours a Ping or Query goes on to: every neighbour but the one it came
/// from, if the TTL left after this hop is above 0 and this is the first copy.
///
/// With `dedup` off (the instructive mistake the lab can switch on) a copy seen
/// before is forwarded again: on an overlay with cycles the same query then circles
/// until its TTL runs out, and the messages grow as d·(d−1)^(t−1) per level.
pub fn forward_targets(
    neighbours: &[PeerId],
    from: PeerId,
    ttl_after_hop: u8,
    first_copy: bool,
    dedup: bool,
) -> Vec<PeerId> {
    if ttl_after_hop == 0 || (dedup && !first_copy) {
        return Vec::new();
    }
    neighbours.iter().copied().filter(|&n| n != from).collect()
}

/// The TTL of a reply (Pong, QueryHit): exactly the hops its request travelled.
pub fn reply_ttl(request_hops: u8) -> u8 {
    request_hops.clamp(1, MAX_TTL)
}

/// Where a reply goes next: back to the neighbour the request came from, if we know
/// it and it is still connected. `None`: no route, the reply is dropped.
pub fn reverse_hop(route: Option<PeerId>, connected: &[PeerId]) -> Option<PeerId> {
    route.filter(|r| *r == SELF || connected.contains(r))
}

/// Upper bounds of a flood from one servent on an overlay of degree at most `d`, with
/// TTL `t`: the origin sends to d neighbours, each of those to d − 1 more, and so on.
/// The same sum bounds both the messages sent and the servents reached (besides the
/// origin). Duplicates make the real reach smaller; without dedup the messages meet it.
pub fn flood_bound(d: u64, t: u32) -> u64 {
    let mut level = d;
    let mut total = 0u64;
    for _ in 0..t {
        total = total.saturating_add(level);
        level = level.saturating_mul(d.saturating_sub(1));
    }
    total
}

/// Whether an incoming CONNECT from `listen` may become a neighbour: `None` to accept,
/// or why not (the answer is then a 503 with other hosts to try).
pub fn admit(
    me: SocketAddr,
    listen: SocketAddr,
    neighbours: &[SocketAddr],
    max_degree: usize,
) -> Option<&'static str> {
    if neighbours.len() >= max_degree {
        Some("full")
    } else if listen == me || neighbours.contains(&listen) {
        Some("already connected")
    } else {
        None
    }
}

/// Whom a full servent drops to admit a newcomer: among neighbours whose last useful
/// act (an answered Ping, a QueryHit brought back; their connect time if none) is at
/// least `grace` ago, one that never answered anything first, then the idle longest.
/// `None`: every neighbour earns its slot (then 503). `links` is (neighbour, answered
/// at least once, last useful act).
pub fn evict_idle(
    links: &[(PeerId, bool, Instant)],
    now: Instant,
    grace: Duration,
) -> Option<PeerId> {
    links
        .iter()
        .filter(|(_, _, t)| now.duration_since(*t) >= grace)
        .min_by_key(|(_, answered, t)| (*answered, *t))
        .map(|(id, _, _)| *id)
}

/// What a servent below its degree does next (notes: 对等方加入).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refill {
    /// Enough neighbours, or nothing to try yet.
    Nothing,
    /// Dial these known hosts, in order, until `need` accept.
    Dial { hosts: Vec<SocketAddr>, need: usize },
    /// No host left and no neighbour at all: ask the host cache.
    AskCache,
    /// No host left but some neighbours: a Ping, whose Pongs bring addresses.
    Ping,
}

/// `need` neighbours are missing, `have` are connected, `hosts` are known and not yet
/// neighbours (newest first); `cache_due` / `ping_due` say whether asking again is allowed.
pub fn refill(
    need: usize,
    have: usize,
    hosts: Vec<SocketAddr>,
    cache_due: bool,
    ping_due: bool,
) -> Refill {
    if need == 0 {
        Refill::Nothing
    } else if !hosts.is_empty() {
        Refill::Dial { hosts, need }
    } else if have == 0 && cache_due {
        Refill::AskCache
    } else if have > 0 && ping_due {
        Refill::Ping
    } else {
        Refill::Nothing
    }
}

/// True when something last done at `last` (never: `None`) may be done again.
pub fn due(last: Option<Instant>, every: Duration, now: Instant) -> bool {
    last.is_none_or(|t| now.duration_since(t) >= every)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newcomer_replaces_the_neighbour_idle_longest_past_the_grace() {
        let now = Instant::now();
        let ago = |ms| now - Duration::from_millis(ms);
        let grace = Duration::from_millis(100);
        let links = [(1, true, ago(150)), (2, true, ago(500)), (3, true, ago(10))];
        assert_eq!(evict_idle(&links, now, grace), Some(2));
        let fresh = [(1, true, ago(50)), (3, false, ago(10))];
        assert_eq!(evict_idle(&fresh, now, grace), None);
        // One that never answered goes before one that answered long ago.
        let never = [(1, true, ago(500)), (4, false, ago(200))];
        assert_eq!(evict_idle(&never, now, grace), Some(4));
    }

    #[test]
    fn hop_decrements_and_clamps() {
        assert_eq!(
            hop(7, 0),
            Hop::Accept {
                ttl: 6,
                hops: 1,
                clamped: false
            }
        );
        assert_eq!(
            hop(255, 2),
            Hop::Accept {
                ttl: 4,
                hops: 3,
                clamped: true
            }
        );
        assert!(matches!(hop(0, 1), Hop::Drop(_)));
        assert!(matches!(hop(1, 7), Hop::Drop(_)));
        // TTL 1: accepted here, nothing left to forward.
        assert_eq!(
            hop(1, 3),
            Hop::Accept {
                ttl: 0,
                hops: 4,
                clamped: false
            }
        );
    }

    #[test]
    fn forward_to_all_but_the_sender() {
        assert_eq!(forward_targets(&[1, 2, 3], 2, 3, true, true), [1, 3]);
        assert_eq!(forward_targets(&[1, 2, 3], SELF, 3, true, true), [1, 2, 3]);
        assert!(forward_targets(&[1, 2, 3], 2, 0, true, true).is_empty());
    }

    #[test]
    fn duplicates_stop_only_with_dedup() {
        assert!(forward_targets(&[1, 2, 3], 2, 3, false, true).is_empty());
        assert_eq!(forward_targets(&[1, 2, 3], 2, 3, false, false), [1, 3]);
    }

    #[test]
    fn replies_go_back_or_nowhere() {
        assert_eq!(reverse_hop(Some(4), &[1, 4]), Some(4));
        assert_eq!(reverse_hop(Some(4), &[1]), None, "neighbour gone");
        assert_eq!(reverse_hop(None, &[1]), None, "never saw the request");
        assert_eq!(reverse_hop(Some(SELF), &[]), Some(SELF));
        assert_eq!(reply_ttl(3), 3);
    }

    #[test]
    fn admission_and_refill() {
        let a = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
        assert_eq!(admit(a(1), a(2), &[a(3)], 2), None);
        assert_eq!(admit(a(1), a(3), &[a(3)], 2), Some("already connected"));
        assert_eq!(admit(a(1), a(1), &[], 2), Some("already connected"));
        assert_eq!(admit(a(1), a(2), &[a(3), a(4)], 2), Some("full"));
        assert_eq!(refill(0, 4, vec![a(9)], true, true), Refill::Nothing);
        assert_eq!(
            refill(2, 0, vec![a(9)], true, true),
            Refill::Dial {
                hosts: vec![a(9)],
                need: 2
            }
        );
        assert_eq!(refill(2, 0, vec![], true, true), Refill::AskCache);
        assert_eq!(refill(2, 1, vec![], true, true), Refill::Ping);
        assert_eq!(refill(2, 1, vec![], true, false), Refill::Nothing);
        let t = Instant::now();
        assert!(due(None, Duration::from_secs(2), t));
        assert!(!due(Some(t), Duration::from_secs(2), t));
    }

    #[test]
    fn bound_is_the_tree_sum() {
        assert_eq!(flood_bound(4, 1), 4);
        assert_eq!(flood_bound(4, 3), 4 + 12 + 36);
        assert_eq!(flood_bound(2, 5), 10); // a line or ring
    }
}
