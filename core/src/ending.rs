//! How a cancel ends its target.

/// How [`Controller::cancel_with`](crate::Controller::cancel_with) ends an action at its
/// frame `at`.
///
/// ```
/// use rtmix_core::Ending;
/// assert_eq!(Ending::default(), Ending::Cut);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Ending {
    /// Stop dead: the last frame is `at - 1`.
    #[default]
    Cut,
    /// Fade out linearly over this many frames from `at` (gain `1 - k / n` at frame
    /// `at + k`), then stop: the last frame is `at + n - 1`. A recording is cut at `at + n`
    /// with no fade. A fade never rises: over an earlier cancel's fade still under way, the
    /// one that ends first wins, and a new one falls from the gain `g` the earlier reached
    /// at `at` (`g + (0 - g) * (k / n)` at frame `at + k`).
    FadeOut(u64),
    /// Let the repetition playing at `at` finish, then stop: a loop ends at the end of the
    /// repetition that contains frame `at` (one that starts exactly at `at` plays whole). In
    /// the silence between spaced repetitions ([`Play::interval`](crate::Play::interval)),
    /// it stops at `at`. A play that does not repeat has one repetition, so this leaves it
    /// alone.
    AfterRepetition,
}
