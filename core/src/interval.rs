//! Exact repeat intervals: a play that repeats its region every `num / den` frames.

use crate::Error;

/// The time between the starts of a play's repetitions, as an exact fraction of frames.
///
/// Repetition `k` starts at frame `origin + floor(k * num / den)`, computed in exact integer
/// arithmetic, so a fractional interval (a bar of 60/119 s at 48 kHz is 2 880 000 / 119
/// frames) never drifts: after a billion frames each start is still the nearest frame at
/// or before its exact time. A repetition plays its region until it ends or the next one
/// starts, whichever comes first; between them is silence.
///
/// ```
/// use rtmix_core::Interval;
/// let bar = Interval::new(2_880_000, 119).unwrap(); // 60/119 s at 48 kHz
/// assert_eq!(bar.start_of(0), 0);
/// assert_eq!(bar.start_of(1), 24_201);              // 24 201.68… frames, rounded down
/// assert_eq!(bar.start_of(119), 2_880_000);         // exact: no drift
/// // ~5.8 hours at 48 kHz: still exact.
/// assert_eq!(bar.start_of(119 * 347_222), 999_999_360_000);
/// assert_eq!(bar.start_of(119 * 347_222 + 1), 999_999_360_000 + 24_201);
/// assert!(Interval::new(1, 2).is_err());            // shorter than a frame
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Interval {
    num: u64,
    /// Never 0, which also lets an `Option<Interval>` take no more room than an interval.
    den: core::num::NonZeroU64,
}

impl Interval {
    /// Every `frames` frames.
    ///
    /// ```
    /// use rtmix_core::Interval;
    /// assert_eq!(Interval::frames(480).unwrap().start_of(3), 1440);
    /// ```
    pub const fn frames(frames: u64) -> Result<Self, Error> {
        Self::new(frames, 1)
    }

    /// Every `num / den` frames; it must be at least one frame.
    pub const fn new(num: u64, den: u64) -> Result<Self, Error> {
        match core::num::NonZeroU64::new(den) {
            Some(nz) if num >= den => Ok(Self { num, den: nz }),
            _ => Err(Error::IntervalTooShort { num, den }),
        }
    }

    /// The frame offset of repetition `k` from the first: `floor(k * num / den)`, or
    /// `u64::MAX` past the end of the frame clock.
    pub const fn start_of(self, k: u64) -> u64 {
        let x = k as u128 * self.num as u128 / self.den.get() as u128;
        if x > u64::MAX as u128 {
            u64::MAX
        } else {
            x as u64
        }
    }

    /// The repetition under way at `offset` frames after the first start: the largest `k`
    /// with `start_of(k) <= offset`.
    pub(crate) const fn index_at(self, offset: u64) -> u64 {
        // start_of(k) <= p  <=>  k * num < (p + 1) * den.
        let k = ((offset as u128 + 1) * self.den.get() as u128 - 1) / self.num as u128;
        if k > u64::MAX as u128 {
            u64::MAX
        } else {
            k as u64
        }
    }

    /// The fraction, `(num, den)`.
    pub const fn ratio(self) -> (u64, u64) {
        (self.num, self.den.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `start_of` saturates past the end of the frame clock, and only there: a start that
    /// is exactly `u64::MAX` is itself, one past it is `u64::MAX` too, not a wrapped
    /// value (interval.rs:55, `>` made `==`, wrapped it). (`>` made `>=` is equivalent:
    /// at exactly `u64::MAX` both branches give `u64::MAX`.)
    #[test]
    fn a_start_past_the_end_of_the_frame_clock_is_u64_max() {
        let max = Interval::new(u64::MAX, 1).unwrap();
        assert_eq!(max.start_of(0), 0);
        assert_eq!(max.start_of(1), u64::MAX);
        assert_eq!(max.start_of(2), u64::MAX);
        let two = Interval::frames(2).unwrap();
        assert_eq!(two.start_of(u64::MAX / 2), u64::MAX - 1);
        assert_eq!(two.start_of(u64::MAX / 2 + 1), u64::MAX);
        assert_eq!(two.start_of(u64::MAX), u64::MAX);
        // 3/2 frames: floor(k * 3 / 2), exact in 128 bits before it saturates.
        let three_halves = Interval::new(3, 2).unwrap();
        assert_eq!(three_halves.start_of(5), 7);
        assert_eq!(three_halves.start_of(u64::MAX), u64::MAX);
    }

    /// `index_at(p)` is the largest `k` with `start_of(k) <= p`, up to the last frame of
    /// the clock. (Its `k > u64::MAX` test cannot be true: an interval is at least one
    /// frame, so `k <= p <= u64::MAX`; its mutants are equivalent.)
    #[test]
    fn the_repetition_under_way_is_the_last_that_started() {
        let bar = Interval::new(2_880_000, 119).unwrap();
        for p in [0, 1, 24_200, 24_201, 24_202, 2_879_999, 2_880_000] {
            let k = bar.index_at(p);
            assert!(bar.start_of(k) <= p && bar.start_of(k + 1) > p, "frame {p}");
        }
        assert_eq!(bar.index_at(24_200), 0);
        assert_eq!(bar.index_at(24_201), 1);
        assert_eq!(Interval::frames(1).unwrap().index_at(u64::MAX), u64::MAX);
        assert_eq!(
            Interval::frames(2).unwrap().index_at(u64::MAX),
            u64::MAX / 2
        );
    }
}
