//! Frame targets, late policies and stream directions, and whole frames in interleaved
//! samples.

use crate::ActionId;

/// When a command takes effect, on the frame clock of its direction.
///
/// Output frame `n` is the `n`-th frame of the device's playback timeline since the stream
/// started; input frame `n` likewise for capture. Frames lost to an xrun still count, so a
/// frame number always names the same instant of the device timeline.
///
/// ```
/// use rtmix_core::At;
/// assert_eq!(At::default(), At::Asap);
/// assert_eq!(At::Frame(48_000).frame(), Some(48_000));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum At {
    /// At the first frame of the block in which the engine receives the command.
    #[default]
    Asap,
    /// At exactly this frame.
    Frame(u64),
    /// At the frame where another action of the same direction stops: the frame after its
    /// last one (after a cut or fade, where the cut left it), or, for one that never ran,
    /// the frame it was dropped or cancelled at. This queues buffers back to back with no
    /// gap: each play `After` the previous one. If that action's end moves (a cancel, an
    /// ended loop), this moves with it; while it loops forever, this waits.
    After(ActionId),
}

impl At {
    /// The requested frame, if one was given.
    ///
    /// ```
    /// use rtmix_core::At;
    /// assert_eq!(At::Asap.frame(), None);
    /// ```
    pub const fn frame(self) -> Option<u64> {
        match self {
            At::Frame(f) => Some(f),
            At::Asap | At::After(_) => None,
        }
    }
}

/// What the engine does with a command whose frame has already passed when it arrives.
///
/// A command is late when its frame lies before the first frame of the block in which the
/// engine receives it. Every late command is counted in [`StreamStats::late`](crate::StreamStats)
/// and its completion says so, whatever the policy.
///
/// ```
/// use rtmix_core::Late;
/// assert_eq!(Late::default(), Late::Drop);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Late {
    /// Do not carry it out; complete it with [`EndReason::DroppedLate`](crate::EndReason).
    /// The default: nothing sounds where it was not asked to.
    #[default]
    Drop,
    /// Carry it out from the first frame of the current block, from its beginning.
    StartNow,
    /// Carry it out phase-correct: leave out the frames that have already passed, so every
    /// sample that does play lands on the frame it was meant for.
    Skip,
}

/// The two directions of a stream, each with its own frame clock and engine half.
///
/// ```
/// use rtmix_core::Direction;
/// assert_ne!(Direction::Output, Direction::Input);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Direction {
    /// Playback: the output frame clock.
    Output,
    /// Capture: the input frame clock.
    Input,
}

/// Whole frames of `channels` interleaved samples in `samples` samples (`channels` > 0).
/// Mono and stereo, the common widths, take a shift: a division by a width known only at
/// run time costs tens of cycles, several times per block (docs/performance.md).
#[inline]
pub(crate) fn whole_frames(samples: usize, channels: usize) -> usize {
    match channels {
        1 => samples,
        2 => samples >> 1,
        _ => samples / channels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `At::frame` is the frame of `At::Frame` and nothing else (frame.rs:40: `None`,
    /// `Some(0)` and `Some(1)` survived, the doctests not being run by cargo-mutants).
    #[test]
    fn only_an_exact_frame_target_has_a_frame() {
        for f in [0, 1, 2, 48_000, u64::MAX] {
            assert_eq!(At::Frame(f).frame(), Some(f));
        }
        assert_eq!(At::Asap.frame(), None);
        let id = ActionId::new(7, crate::id::StreamTag::unique(), Direction::Output, 3);
        assert_eq!(At::After(id).frame(), None);
    }
}
