//! Axes of the chart: linear from zero, or logarithmic, with round ticks (1, 2, 5 times a
//! power of ten) so a student can read values off the page.

/// How an axis maps values to the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// From 0 to the largest value.
    Linear,
    /// Powers of ten equally spaced, from the smallest positive value to the largest:
    /// for quantities that grow as N, log N or stay flat, which a linear axis squashes.
    Log,
}

/// One axis: its kind and the range it shows.
pub(super) struct Scale {
    axis: Axis,
    pub(super) lo: f64,
    pub(super) hi: f64,
}

impl Scale {
    pub(super) fn new(
        axis: Axis,
        values: impl Iterator<Item = f64> + Clone,
        headroom: f64,
    ) -> Scale {
        let finite = values.filter(|v| v.is_finite());
        match axis {
            Axis::Linear => Scale {
                axis,
                lo: 0.0,
                hi: finite.fold(0.0, f64::max).max(1e-9) * headroom,
            },
            Axis::Log => {
                let pos = finite.filter(|v| *v > 0.0);
                let lo = pos.clone().fold(f64::INFINITY, f64::min);
                let hi = pos.fold(0.0, f64::max);
                let (lo, hi) = if lo.is_finite() {
                    (lo, hi)
                } else {
                    (1.0, 10.0)
                };
                // Widen to the 1-2-5 ticks around the data, so both ends carry a label.
                Scale {
                    axis,
                    lo: round_125(lo, false),
                    hi: round_125(hi * headroom, true).max(lo * 2.0),
                }
            }
        }
    }

    /// Where `v` falls, from 0 (the low end) to 1 (the high end).
    pub(super) fn frac(&self, v: f64) -> f64 {
        match self.axis {
            Axis::Linear => v / self.hi,
            Axis::Log => {
                (v.max(self.lo).log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
            }
        }
    }

    pub(super) fn ticks(&self) -> Vec<f64> {
        match self.axis {
            Axis::Linear => {
                let step = tick_step(self.hi);
                (0..)
                    .map(|i| i as f64 * step)
                    .take_while(|t| *t <= self.hi + 1e-9)
                    .collect()
            }
            Axis::Log => {
                let mut out = Vec::new();
                let mut p = 10f64.powf(self.lo.log10().floor());
                while p <= self.hi * (1.0 + 1e-9) {
                    for m in [1.0, 2.0, 5.0] {
                        let t = m * p;
                        if t >= self.lo * (1.0 - 1e-9) && t <= self.hi * (1.0 + 1e-9) {
                            out.push(t);
                        }
                    }
                    p *= 10.0;
                }
                out
            }
        }
    }
}

/// The 1, 2 or 5 times a power of ten at or below (`up` false) or above `v`.
fn round_125(v: f64, up: bool) -> f64 {
    let p = 10f64.powf(v.log10().floor());
    let steps = [1.0, 2.0, 5.0, 10.0].map(|m| m * p);
    if up {
        steps
            .into_iter()
            .find(|s| *s >= v * (1.0 - 1e-9))
            .unwrap_or(10.0 * p)
    } else {
        steps
            .into_iter()
            .rev()
            .find(|s| *s <= v * (1.0 + 1e-9))
            .unwrap_or(p)
    }
}

/// A tick step of 1, 2 or 5 times a power of ten giving about five ticks up to `max`.
fn tick_step(max: f64) -> f64 {
    let raw = (max / 5.0).max(f64::MIN_POSITIVE);
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(30.0), 10.0);
        assert_eq!(tick_step(3.2), 1.0);
        assert_eq!(tick_step(11.0), 5.0);
    }

    #[test]
    fn a_log_axis_spaces_powers_of_ten_evenly_and_labels_both_ends() {
        let s = Scale::new(Axis::Log, [16.0, 256.0].into_iter(), 1.0);
        assert_eq!((s.lo, s.hi), (10.0, 500.0));
        assert_eq!(s.ticks(), [10.0, 20.0, 50.0, 100.0, 200.0, 500.0]);
        let step = s.frac(100.0) - s.frac(10.0);
        assert!((s.frac(1000.0 / 2.0) - s.frac(50.0) - step).abs() < 1e-9);
        assert_eq!(s.frac(10.0), 0.0);
        assert_eq!(s.frac(500.0), 1.0);
    }

    #[test]
    fn a_linear_axis_starts_at_zero() {
        let s = Scale::new(Axis::Linear, [3.0, 30.0].into_iter(), 1.0);
        assert_eq!(s.ticks(), [0.0, 10.0, 20.0, 30.0]);
        assert_eq!(s.frac(15.0), 0.5);
    }
}
