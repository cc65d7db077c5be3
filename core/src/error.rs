//! Typed errors of the control side.

use core::fmt;

/// Why the controller refused a request. Nothing reaches the engine when this is returned.
///
/// ```
/// use rtmix_core::Error;
/// let e = Error::ChannelOutOfRange { channel: 7, channels: 2 };
/// assert_eq!(format!("{e}"), "channel 7 does not exist: the stream has 2 channels in that direction");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// A channel map names a channel the stream does not have in that direction.
    ChannelOutOfRange {
        /// The channel asked for.
        channel: u16,
        /// The stream's channel count in that direction.
        channels: u16,
    },
    /// A channel map with no entries.
    EmptyChannelMap,
    /// A channel map with more than [`MAX_MAP_CHANNELS`](crate::MAX_MAP_CHANNELS) entries.
    ChannelMapTooLong {
        /// Entries asked for.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A gain list whose length differs from the channel map's.
    GainCountMismatch {
        /// Gains given.
        gains: usize,
        /// Channels in the map.
        channels: usize,
    },
    /// A gain that is NaN or infinite.
    NonFiniteGain {
        /// Its position in the gain list (0 for a single gain).
        index: usize,
    },
    /// A play region that does not lie within its buffer (or ends before it starts).
    RegionOutOfRange {
        /// First frame asked for.
        start: u64,
        /// One past the last frame asked for.
        end: u64,
        /// The buffer's frame count.
        frames: u64,
    },
    /// A play that loops forever over an empty region.
    EmptyLoop,
    /// A region, repetitions or a repeat interval asked of a stream play: they need a
    /// buffer, which can be read at any position.
    NotABuffer,
    /// A repeat interval shorter than one frame (`num < den`, or `den == 0`).
    IntervalTooShort {
        /// Numerator.
        num: u64,
        /// Denominator.
        den: u64,
    },
    /// A fade longer than the play (a fade-out on a play that loops forever has no end
    /// to fade to: `frames` is then `u64::MAX`).
    FadeTooLong {
        /// The fade's length in frames.
        fade: u64,
        /// The play's length in frames.
        frames: u64,
    },
    /// An [`At::After`](crate::At::After) or gain target in the other direction than the
    /// command (a play cannot follow a recording; only plays have a gain).
    WrongDirection,
    /// An [`At::After`](crate::At::After) whose action's completion was already taken:
    /// schedule at its [`ended_at`](crate::Completion::ended_at) frame instead.
    NotOutstanding,
    /// A buffer whose length is not a whole number of frames of the map's channel count.
    LengthNotWholeFrames {
        /// Samples in the buffer.
        samples: usize,
        /// Channels in the map.
        channels: usize,
    },
    /// A playback buffer holding a NaN or infinite sample.
    NonFiniteSample {
        /// The index of the first such sample.
        index: usize,
    },
    /// The action would run past the end of the frame clock (`u64::MAX`).
    FrameOverflow,
    /// A stream configuration with no channels in either direction.
    NoChannels,
    /// A stream configuration that clamps its output without protecting it
    /// ([`StreamConfig::protect_output`](crate::StreamConfig::protect_output)).
    ClampUnprotected,
    /// A stream configuration with more channels in a direction than its storage has
    /// room for (the `M` of [`Fixed`](crate::Fixed) storage).
    TooManyChannels {
        /// Channels asked for.
        channels: u16,
        /// The storage's channel capacity.
        max: usize,
    },
    /// A `StreamCapacity` out of range: `actions` below 2 or
    /// above 65 535, `commands` or `completions` 0.
    InvalidCapacity {
        /// Which capacity.
        what: &'static str,
        /// The value given.
        value: usize,
    },
    /// The direction has no channels in this stream, so nothing can play or record there.
    NoSuchDirection,
    /// Every action slot of that direction is taken (for anything but a cancel, all but
    /// the one kept for cancels). Take completions to free slots.
    Capacity {
        /// The slot count (the `ACTIONS` const generic).
        slots: usize,
    },
    /// The direction already has as many stats fetches outstanding as it admits (their
    /// completions not yet taken).
    StatsBusy {
        /// Stats fetches a direction admits at once.
        fetches: usize,
    },
    /// The command queue to the engine is full: the engine has not run since. Try again
    /// after the next block.
    QueueFull,
    /// A cancel of an action this controller never issued.
    UnknownAction,
    /// A group with no members.
    EmptyGroup,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::ChannelOutOfRange { channel, channels } => write!(
                f,
                "channel {channel} does not exist: the stream has {channels} channels in that direction"
            ),
            Error::EmptyChannelMap => f.write_str("the channel map is empty"),
            Error::ChannelMapTooLong { len, max } => {
                write!(f, "the channel map has {len} entries; at most {max} are allowed")
            }
            Error::GainCountMismatch { gains, channels } => {
                write!(f, "{gains} gains given for {channels} mapped channels")
            }
            Error::NonFiniteGain { index } => write!(f, "gain {index} is NaN or infinite"),
            Error::RegionOutOfRange { start, end, frames } => write!(
                f,
                "region {start}..{end} does not lie within the buffer's {frames} frames"
            ),
            Error::EmptyLoop => f.write_str("a play cannot loop forever over an empty region"),
            Error::NotABuffer => {
                f.write_str("regions, repetitions and intervals need a buffer, not a stream")
            }
            Error::IntervalTooShort { num, den } => {
                write!(f, "a repeat interval of {num}/{den} frames is shorter than one frame")
            }
            Error::FadeTooLong { fade, frames } => {
                write!(f, "a fade of {fade} frames does not fit a play of {frames} frames")
            }
            Error::WrongDirection => {
                f.write_str("the target action belongs to the other direction of the stream")
            }
            Error::NotOutstanding => f.write_str(
                "the followed action's completion was already taken; use its ended_at frame",
            ),
            Error::LengthNotWholeFrames { samples, channels } => write!(
                f,
                "a buffer of {samples} samples is not a whole number of {channels}-channel frames"
            ),
            Error::NonFiniteSample { index } => write!(f, "sample {index} is NaN or infinite"),
            Error::FrameOverflow => f.write_str("the action would end past frame u64::MAX"),
            Error::NoChannels => f.write_str("a stream needs at least one channel"),
            Error::ClampUnprotected => {
                f.write_str("clamping the output needs output protection, which is off")
            }
            Error::NoSuchDirection => f.write_str("the stream has no channels in that direction"),
            Error::Capacity { slots } => {
                write!(f, "all {slots} action slots are taken; take completions first")
            }
            Error::TooManyChannels { channels, max } => write!(
                f,
                "{channels} channels do not fit the stream's storage, made for {max}"
            ),
            Error::InvalidCapacity { what, value } => {
                write!(f, "a stream capacity of {value} {what} is out of range")
            }
            Error::StatsBusy { fetches } => write!(
                f,
                "{fetches} stats fetches are outstanding: take their completions first"
            ),
            Error::QueueFull => f.write_str("the command queue is full; the engine has not run"),
            Error::UnknownAction => f.write_str("no such action was issued by this controller"),
            Error::EmptyGroup => f.write_str("a group needs at least one member"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}

/// A refused request, with what was moved into it handed back untouched.
///
/// ```
/// use rtmix_core::{ChannelMap, Error, Play, StreamCapacity, StreamConfig};
/// let (mut ctl, _engine) =
///     rtmix_core::open::<Vec<f32>, Vec<f32>>(StreamConfig::output(2), StreamCapacity::default()).unwrap();
/// let refused = ctl.play(Play::new(vec![0.1; 8], ChannelMap::new(&[5]).unwrap())).unwrap_err();
/// assert_eq!(refused.error, Error::ChannelOutOfRange { channel: 5, channels: 2 });
/// assert_eq!(refused.returned.into_buffer(), vec![0.1; 8]); // the buffer comes back
/// ```
#[derive(Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Rejected<T> {
    /// Why it was refused.
    pub error: Error,
    /// What the request carried, handed back.
    pub returned: T,
}

impl<T> fmt::Display for Rejected<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

#[cfg(feature = "std")]
impl<T: fmt::Debug> std::error::Error for Rejected<T> {}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::{String, ToString};
    use std::vec::Vec;

    use super::*;

    /// Every error says what went wrong, in words of its own, with its numbers
    /// (cargo-mutants' `Display` made `Ok(Default::default())`, which prints nothing,
    /// survived: only the doctests looked at the text). A rejection prints its error's
    /// text (the same mutant of `Rejected`'s `Display`).
    #[test]
    fn every_error_has_its_own_text_with_its_numbers() {
        let all: [(Error, &[&str]); 26] = [
            (
                Error::ChannelOutOfRange {
                    channel: 7,
                    channels: 2,
                },
                &["channel 7", "2 channels"],
            ),
            (Error::EmptyChannelMap, &["empty"]),
            (Error::ChannelMapTooLong { len: 40, max: 32 }, &["40", "32"]),
            (
                Error::GainCountMismatch {
                    gains: 3,
                    channels: 2,
                },
                &["3 gains", "2 mapped"],
            ),
            (Error::NonFiniteGain { index: 4 }, &["gain 4", "NaN"]),
            (
                Error::RegionOutOfRange {
                    start: 5,
                    end: 9,
                    frames: 8,
                },
                &["5..9", "8 frames"],
            ),
            (Error::EmptyLoop, &["loop", "empty"]),
            (Error::NotABuffer, &["buffer"]),
            (Error::IntervalTooShort { num: 1, den: 3 }, &["1/3"]),
            (
                Error::FadeTooLong {
                    fade: 12,
                    frames: 10,
                },
                &["12 frames", "10 frames"],
            ),
            (Error::WrongDirection, &["other direction"]),
            (Error::NotOutstanding, &["already taken"]),
            (
                Error::LengthNotWholeFrames {
                    samples: 7,
                    channels: 2,
                },
                &["7 samples", "2-channel"],
            ),
            (Error::NonFiniteSample { index: 6 }, &["sample 6"]),
            (Error::FrameOverflow, &["u64::MAX"]),
            (Error::NoChannels, &["at least one channel"]),
            (Error::ClampUnprotected, &["clamping", "protection"]),
            (
                Error::TooManyChannels {
                    channels: 9,
                    max: 8,
                },
                &["9 channels", "8"],
            ),
            (
                Error::InvalidCapacity {
                    what: "actions",
                    value: 1,
                },
                &["1 actions"],
            ),
            (Error::NoSuchDirection, &["no channels in that direction"]),
            (Error::Capacity { slots: 16 }, &["16 action slots"]),
            (Error::StatsBusy { fetches: 2 }, &["2 stats fetches"]),
            (Error::QueueFull, &["queue is full"]),
            (Error::UnknownAction, &["no such action"]),
            (Error::EmptyGroup, &["group"]),
            (
                Error::ChannelOutOfRange {
                    channel: 0,
                    channels: 0,
                },
                &["channel 0", "0 channels"],
            ),
        ];
        let mut texts: Vec<String> = Vec::new();
        for (error, parts) in all {
            let text = error.to_string();
            for part in parts {
                assert!(text.contains(part), "{error:?}: {text:?} lacks {part:?}");
            }
            let rejected = Rejected {
                error,
                returned: (),
            };
            assert_eq!(rejected.to_string(), text);
            assert!(!texts.contains(&text), "{error:?}: {text:?} is not its own");
            texts.push(text);
        }
        assert_eq!(
            Error::ChannelOutOfRange {
                channel: 7,
                channels: 2
            }
            .to_string(),
            "channel 7 does not exist: the stream has 2 channels in that direction"
        );
    }
}
