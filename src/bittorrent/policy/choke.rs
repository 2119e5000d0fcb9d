//! Whom we upload to (发送块：一报还一报 tit-for-tat): the choke decision as pure functions.
//!
//! ```text
//!   every 10 s (RECHOKE_PERIOD):   rank the interested peers by the rate they gave us
//!                                  over the last period; the top 4 are unchoked (疏通),
//!                                  everyone else is choked (阻塞).
//!   every 30 s (OPTIMISTIC_PERIOD): one more interested peer, at random, is unchoked
//!                                  optimistically (优化疏通); new peers are 3× as likely.
//!                                  If it gives back, it ranks into the top 4 next time.
//! ```
//! A seed has no download rate to rank by: it ranks by the rate *it* uploads to each
//! peer (whoever takes data fastest spreads it fastest). A leecher only gives a regular
//! slot to a peer that actually sent it something in the last period: that is what makes
//! a free-rider live on optimistic unchokes alone. A peer that has sent us nothing for
//! [`SNUB_PERIOD`] while we wanted its pieces is *snubbed* and never preferred.
//!
//! [`ChokePolicy::UnchokeAll`] is the instructive mistake: unchoke every interested peer.
//! Nothing then rewards uploading, the upload capacity is spread over everyone, and a
//! free-rider gets as much as anyone.

use crate::rng::Rng;
use std::time::Duration;

/// Regular upload slots (mainline: 4).
pub const UPLOAD_SLOTS: usize = 4;
/// How often the top 4 are re-evaluated (notes: 每10秒重新评估一次).
pub const RECHOKE_PERIOD: Duration = Duration::from_secs(10);
/// How often the optimistic unchoke moves on (notes: 每个30秒).
pub const OPTIMISTIC_PERIOD: Duration = Duration::from_secs(30);
/// Silent this long while we are interested: snubbed.
pub const SNUB_PERIOD: Duration = Duration::from_secs(30);
/// New peers' weight in the optimistic draw (mainline: 3).
pub const NEW_PEER_WEIGHT: u32 = 3;

/// What the choker knows of one connected peer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeerView {
    pub key: u64,
    /// It wants pieces we have.
    pub interested: bool,
    /// Bytes/s it sent us over the last period.
    pub down_rate: f64,
    /// Bytes/s we sent it over the last period.
    pub up_rate: f64,
    pub snubbed: bool,
    /// Connected within the last optimistic period.
    pub is_new: bool,
}

/// Choking on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChokePolicy {
    /// The notes' policy: top 4 by rate, plus one optimistic unchoke.
    TitForTat,
    /// The instructive mistake: every interested peer is unchoked.
    UnchokeAll,
}

/// The outcome of a rechoke: everyone not listed is choked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unchoke {
    pub regular: Vec<u64>,
    pub optimistic: Option<u64>,
}

/// The top `slots` interested peers by rate, best first; ties at random.
pub fn choose_regular(peers: &[PeerView], seeding: bool, slots: usize, rng: &mut Rng) -> Vec<u64> {
    let rate = |p: &PeerView| if seeding { p.up_rate } else { p.down_rate };
    let mut ranked: Vec<&PeerView> = peers
        .iter()
        .filter(|p| p.interested && !p.snubbed && (seeding || rate(p) > 0.0))
        .collect();
    rng.shuffle(&mut ranked);
    ranked.sort_by(|a, b| rate(b).total_cmp(&rate(a))); // stable: shuffled order breaks ties
    ranked.iter().take(slots).map(|p| p.key).collect()
}

/// One interested peer outside `regular`, at random, new peers [`NEW_PEER_WEIGHT`]× as likely.
pub fn choose_optimistic(peers: &[PeerView], regular: &[u64], rng: &mut Rng) -> Option<u64> {
    let weight = |p: &PeerView| if p.is_new { NEW_PEER_WEIGHT } else { 1 };
    let pool: Vec<&PeerView> = peers
        .iter()
        .filter(|p| p.interested && !regular.contains(&p.key))
        .collect();
    let total: u32 = pool.iter().map(|p| weight(p)).sum();
    if total == 0 {
        return None;
    }
    let mut ticket = rng.below(total as usize) as u32;
    for p in pool {
        if ticket < weight(p) {
            return Some(p.key);
        }
        ticket -= weight(p);
    }
    None
}

/// One rechoke. `rotate`: the optimistic period is over, draw a new optimistic peer;
/// otherwise the current one keeps its slot while it stays interested and outside the top.
pub fn rechoke(
    peers: &[PeerView],
    seeding: bool,
    slots: usize,
    current_optimistic: Option<u64>,
    rotate: bool,
    policy: ChokePolicy,
    rng: &mut Rng,
) -> Unchoke {
    if policy == ChokePolicy::UnchokeAll {
        return Unchoke {
            regular: peers
                .iter()
                .filter(|p| p.interested)
                .map(|p| p.key)
                .collect(),
            optimistic: None,
        };
    }
    let regular = choose_regular(peers, seeding, slots, rng);
    let keep = current_optimistic.filter(|k| {
        !rotate && !regular.contains(k) && peers.iter().any(|p| p.key == *k && p.interested)
    });
    let optimistic = keep.or_else(|| choose_optimistic(peers, &regular, rng));
    Unchoke {
        regular,
        optimistic,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(key: u64, down: f64) -> PeerView {
        PeerView {
            key,
            interested: true,
            down_rate: down,
            up_rate: 0.0,
            snubbed: false,
            is_new: false,
        }
    }

    #[test]
    fn top_upload_slots_by_download_rate() {
        let mut peers: Vec<PeerView> = (0..7).map(|k| p(k, (k * 10) as f64)).collect();
        peers[6].interested = false; // the fastest does not want anything from us
        peers[5].snubbed = true; // and the next has sent nothing for 30 s
        let mut rng = Rng::new(1);
        // Peers 4..1 are eligible, best first: the top UPLOAD_SLOTS of them get a slot.
        let ranked = [4, 3, 2, 1];
        let top = &ranked[..UPLOAD_SLOTS.min(ranked.len())];
        assert_eq!(choose_regular(&peers, false, UPLOAD_SLOTS, &mut rng), top);
        // Peer 0 gave us nothing: a leecher gives it no regular slot, even a free one.
        assert_eq!(choose_regular(&peers, false, 10, &mut rng), [4, 3, 2, 1]);
    }

    #[test]
    fn the_notes_unchoke_four() {
        // Notes 6.5: a peer sends to the 4 peers that send to it fastest. Changing
        // UPLOAD_SLOTS changes the algorithm the notes describe: this test says so.
        assert_eq!(
            UPLOAD_SLOTS, 4,
            "UPLOAD_SLOTS is {UPLOAD_SLOTS}: the notes' tit-for-tat unchokes the top 4"
        );
    }

    #[test]
    fn a_seed_ranks_by_its_upload_rate_and_fills_every_slot() {
        let mut peers: Vec<PeerView> = (0..6).map(|k| p(k, 0.0)).collect();
        peers[2].up_rate = 5.0;
        peers[4].up_rate = 9.0;
        let mut rng = Rng::new(1);
        let top = choose_regular(&peers, true, UPLOAD_SLOTS, &mut rng);
        assert_eq!(&top[..2.min(UPLOAD_SLOTS)], &[4, 2][..2.min(UPLOAD_SLOTS)]);
        assert_eq!(top.len(), UPLOAD_SLOTS.min(peers.len()));
    }

    #[test]
    fn ties_are_broken_at_random() {
        let peers: Vec<PeerView> = (0..8).map(|k| p(k, 1.0)).collect();
        let mut rng = Rng::new(3);
        let firsts: std::collections::BTreeSet<u64> = (0..40)
            .map(|_| choose_regular(&peers, false, UPLOAD_SLOTS, &mut rng)[0])
            .collect();
        assert!(firsts.len() > 3, "always the same winner: {firsts:?}");
    }

    #[test]
    fn optimistic_unchoke_rotates_and_favours_new_peers() {
        let mut peers: Vec<PeerView> = (0..6).map(|k| p(k, 0.0)).collect();
        peers[5].is_new = true;
        let regular = [0, 1];
        let mut rng = Rng::new(9);
        let mut count = [0u32; 6];
        for _ in 0..6000 {
            count[choose_optimistic(&peers, &regular, &mut rng).unwrap() as usize] += 1;
        }
        assert_eq!(
            &count[..2],
            [0, 0],
            "a regular peer is never the optimistic one"
        );
        // Weights 1, 1, 1, 3 over peers 2..5: peer 5 about half the time.
        assert!((2600..3400).contains(&count[5]), "{count:?}");
        assert!(
            count[2..5].iter().all(|&c| (800..1200).contains(&c)),
            "{count:?}"
        );

        // Between rotations the optimistic peer keeps its slot; at a rotation it moves.
        let kept = rechoke(
            &peers,
            false,
            UPLOAD_SLOTS,
            Some(3),
            false,
            ChokePolicy::TitForTat,
            &mut rng,
        );
        assert_eq!(kept.optimistic, Some(3));
        let moved: std::collections::BTreeSet<_> = (0..20)
            .map(|_| {
                rechoke(
                    &peers,
                    false,
                    UPLOAD_SLOTS,
                    Some(3),
                    true,
                    ChokePolicy::TitForTat,
                    &mut rng,
                )
                .optimistic
            })
            .collect();
        assert!(moved.len() > 1, "rotation always drew {moved:?}");
    }

    #[test]
    fn the_optimistic_peer_that_gives_back_wins_a_top_slot() {
        // Peer 9 was unchoked optimistically and sent us the most: top 4 now.
        let mut peers: Vec<PeerView> = (0..6).map(|k| p(k, 1.0 + k as f64)).collect();
        peers.push(p(9, 100.0));
        let mut rng = Rng::new(2);
        let u = rechoke(
            &peers,
            false,
            UPLOAD_SLOTS,
            Some(9),
            false,
            ChokePolicy::TitForTat,
            &mut rng,
        );
        let ranked = [9, 5, 4, 3, 2, 1, 0];
        assert_eq!(u.regular, ranked[..UPLOAD_SLOTS.min(ranked.len())]);
        if UPLOAD_SLOTS < ranked.len() {
            // The optimistic slot goes to one of the peers left out.
            let left_out = &ranked[UPLOAD_SLOTS..];
            assert!(
                matches!(u.optimistic, Some(k) if left_out.contains(&k)),
                "{u:?}"
            );
        }
    }

    #[test]
    fn unchoke_all_is_the_labelled_mistake() {
        let mut peers: Vec<PeerView> = (0..6).map(|k| p(k, 0.0)).collect();
        peers[1].interested = false;
        let mut rng = Rng::new(2);
        let u = rechoke(
            &peers,
            false,
            UPLOAD_SLOTS,
            None,
            true,
            ChokePolicy::UnchokeAll,
            &mut rng,
        );
        assert_eq!(u.regular, [0, 2, 3, 4, 5]);
        assert_eq!(u.optimistic, None);
    }
}
