//! Requests built on the control side: plays, records and group members.

use crate::{
    ActionId, At, ChannelMap, Direction, Ending, Interval, Late, OnEmpty, OnFull, PlaySource,
    RecordTarget, Repeat,
};

/// A request to play an interleaved buffer onto output channels.
///
/// The buffer has `map.len()` channels; its owner `P` is anything that derefs to samples
/// (`&'static [f32]`, and with `std` `Arc<[f32]>`, `Vec<f32>`, `Box<[f32]>`). An empty
/// buffer is a timer: it completes at its frame.
///
/// ```
/// use rtmix_core::{At, ChannelMap, Late, Play};
/// static CLICK: [f32; 2] = [1.0, 1.0];
/// let play = Play::new(&CLICK[..], ChannelMap::contiguous(0, 2).unwrap())
///     .at(At::Frame(96_000))
///     .late(Late::Skip);
/// assert_eq!(play.frames(), 1);
/// // Debug output shows the sample count, never the samples.
/// assert!(format!("{play:?}").starts_with("Play { samples: 2,"));
/// ```
///
/// Beyond the buffer and its map, a play can crop a [region](Self::region) of the buffer,
/// [repeat](Self::repeat) it, scale it by a [gain](Self::gain) (changed later with
/// [`Controller::set_gain`](crate::Controller::set_gain)) and [fade in](Self::fade_in) and
/// [out](Self::fade_out); all of it exact to the sample (docs/features.md).
///
/// ```
/// use rtmix_core::{ChannelMap, Play, Repeat};
/// static LOOP: [f32; 8] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
/// let play = Play::new(&LOOP[..], ChannelMap::new(&[0]).unwrap())
///     .region(2, 6)               // frames 2..6 of the buffer
///     .repeat(Repeat::Times(10))  // back to back, 10 times
///     .gain(0.5)
///     .fade_in(4)
///     .fade_out(8);
/// assert_eq!(play.duration(), Some(40));
/// ```
pub struct Play<P> {
    pub(crate) buffer: P,
    pub(crate) map: ChannelMap,
    pub(crate) at: At,
    pub(crate) late: Late,
    pub(crate) region: Option<(u64, u64)>,
    pub(crate) repeat: Repeat,
    pub(crate) interval: Option<Interval>,
    pub(crate) gain: f32,
    pub(crate) fade_in: u64,
    pub(crate) fade_out: u64,
    pub(crate) on_empty: OnEmpty,
    pub(crate) offset: u64,
}

impl<P: PlaySource> Play<P> {
    /// Plays `buffer` through `map`, as soon as possible, dropped if late.
    pub fn new(buffer: P, map: ChannelMap) -> Self {
        Self {
            buffer,
            map,
            at: At::Asap,
            late: Late::Drop,
            region: None,
            repeat: Repeat::ONCE,
            interval: None,
            gain: 1.0,
            fade_in: 0,
            fade_out: 0,
            on_empty: OnEmpty::Silence,
            offset: 0,
        }
    }

    /// Starts at frame `n` of the play instead of its first: frame `n` sounds at its frame,
    /// and its loop seams, repetition grid and fades are where they would be had it started
    /// `n` frames earlier. This is how a timeline starts an entry that is already under way
    /// (the [`Timeline`](crate::Timeline) does it for you).
    ///
    /// ```
    /// use rtmix_core::{ChannelMap, Play, Repeat};
    /// static BAR: [f32; 4] = [1.0, 2.0, 3.0, 4.0];
    /// let play = Play::new(&BAR[..], ChannelMap::new(&[0]).unwrap())
    ///     .repeat(Repeat::Times(2))
    ///     .from_frame(3); // plays 4, 1, 2, 3, 4
    /// assert_eq!(play.duration(), Some(5));
    /// ```
    #[must_use]
    pub fn from_frame(mut self, n: u64) -> Self {
        self.offset = n;
        self
    }

    /// The buffer's frame count (samples divided by mapped channels, rounded down); 0 for
    /// a stream.
    pub fn frames(&self) -> u64 {
        self.buffer
            .buffer()
            .map_or(0, |b| (b.len() / self.map.len()) as u64)
    }

    /// What a stream play does when its source runs dry (a buffer never does).
    #[must_use]
    pub fn on_empty(mut self, policy: OnEmpty) -> Self {
        self.on_empty = policy;
        self
    }

    /// The frames it covers in all, from its first frame (after
    /// [`from_frame`](Self::from_frame)) to the end of its last repetition (`None` for
    /// [`Repeat::Forever`], or past `u64::MAX`).
    pub fn duration(&self) -> Option<u64> {
        self.full_duration()
            .map(|frames| frames.saturating_sub(self.offset))
    }

    /// [`duration`](Self::duration) from play frame 0.
    pub(crate) fn full_duration(&self) -> Option<u64> {
        let (start, end) = self.region.unwrap_or((0, self.frames()));
        let len = end.checked_sub(start)?;
        match (self.repeat, self.interval) {
            (Repeat::Times(0), _) => Some(0),
            (Repeat::Times(n), None) => len.checked_mul(n),
            (Repeat::Times(n), Some(i)) => {
                let last = i.start_of(n - 1);
                (last != u64::MAX).then_some(last)?.checked_add(len)
            }
            (Repeat::Forever, _) => None,
        }
    }

    /// Starts the repetitions every `interval` frames (exactly, even a fractional
    /// interval) instead of back to back: a metronome, a pattern on a grid. Each
    /// repetition plays the region until it ends or the next one starts.
    ///
    /// ```
    /// use rtmix_core::{ChannelMap, Interval, Play, Repeat};
    /// static CLICK: [f32; 2] = [1.0, 0.5];
    /// let ticks = Play::new(&CLICK[..], ChannelMap::new(&[0]).unwrap())
    ///     .interval(Interval::new(10, 3).unwrap())  // every 3⅓ frames
    ///     .repeat(Repeat::Times(4));                // starts at +0, +3, +6, +10
    /// assert_eq!(ticks.duration(), Some(12));
    /// ```
    #[must_use]
    pub fn interval(mut self, interval: Interval) -> Self {
        self.interval = Some(interval);
        self
    }

    /// Plays only buffer frames `start..end` (checked against the buffer when submitted).
    #[must_use]
    pub fn region(mut self, start: u64, end: u64) -> Self {
        self.region = Some((start, end));
        self
    }

    /// Repeats the region back to back, gapless.
    #[must_use]
    pub fn repeat(mut self, repeat: Repeat) -> Self {
        self.repeat = repeat;
        self
    }

    /// Scales every channel by `gain` (on top of the map's gains). It must be finite.
    #[must_use]
    pub fn gain(mut self, gain: f32) -> Self {
        self.gain = gain;
        self
    }

    /// Fades in over the first `frames` frames: gain `i / frames` at frame `i` of the play.
    #[must_use]
    pub fn fade_in(mut self, frames: u64) -> Self {
        self.fade_in = frames;
        self
    }

    /// Fades out over the last `frames` frames of its natural end (gain `1 - k / frames`
    /// at frame `k` of the fade). A play that loops forever has no natural end: fade it
    /// with [`Ending::FadeOut`](crate::Ending::FadeOut) when cancelling it.
    #[must_use]
    pub fn fade_out(mut self, frames: u64) -> Self {
        self.fade_out = frames;
        self
    }
}

/// A request to record interleaved input channels into a buffer.
///
/// The buffer receives `map.len()` channels, in map order; its length sets the duration.
/// Its owner `R` is anything that derefs mutably to samples (`&'static mut [f32]`, and with
/// `std` `Vec<f32>`, `Box<[f32]>`). Gains in the map are ignored.
///
/// ```
/// use rtmix_core::{At, ChannelMap, Record};
/// let rec = Record::new(vec![0.0f32; 96_000], ChannelMap::new(&[3, 0]).unwrap()).at(At::Frame(480));
/// assert_eq!(rec.frames(), 48_000);
/// ```
pub struct Record<R> {
    pub(crate) buffer: R,
    pub(crate) map: ChannelMap,
    pub(crate) at: At,
    pub(crate) late: Late,
    pub(crate) on_full: OnFull,
}

impl<R: RecordTarget> Record<R> {
    /// Records into `buffer` through `map`, as soon as possible, dropped if late.
    pub fn new(buffer: R, map: ChannelMap) -> Self {
        Self {
            buffer,
            map,
            at: At::Asap,
            late: Late::Drop,
            on_full: OnFull::Drop,
        }
    }

    /// The frame count (samples divided by mapped channels, rounded down); 0 for a stream,
    /// which records until cancelled.
    pub fn frames(&self) -> u64 {
        self.buffer
            .buffer()
            .map_or(0, |b| (b.len() / self.map.len()) as u64)
    }

    /// What a stream recording does when its sink runs full (a buffer never does).
    #[must_use]
    pub fn on_full(mut self, policy: OnFull) -> Self {
        self.on_full = policy;
        self
    }
}

/// The sample count of a buffer, or "stream", for `Debug`.
struct Samples(Option<usize>);

impl core::fmt::Debug for Samples {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Some(n) => n.fmt(f),
            None => f.write_str("stream"),
        }
    }
}

macro_rules! timing_setters {
    ($ty:ident, $bound:ident) => {
        /// Shows the request without its samples (a buffer can hold millions).
        impl<B: $bound> core::fmt::Debug for $ty<B> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("samples", &Samples(self.buffer.buffer().map(<[f32]>::len)))
                    .field("map", &self.map)
                    .field("at", &self.at)
                    .field("late", &self.late)
                    .finish_non_exhaustive()
            }
        }

        impl<B> $ty<B> {
            /// Sets the frame at which it starts.
            #[must_use]
            pub fn at(mut self, at: At) -> Self {
                self.at = at;
                self
            }

            /// Sets what happens if it arrives late.
            #[must_use]
            pub fn late(mut self, late: Late) -> Self {
                self.late = late;
                self
            }

            /// Hands back the buffer.
            pub fn into_buffer(self) -> B {
                self.buffer
            }
        }
    };
}
timing_setters!(Play, PlaySource);
timing_setters!(Record, RecordTarget);

/// One member of a group submitted with [`Controller::group`](crate::Controller::group).
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Member<P, R> {
    /// A play.
    Play(Play<P>),
    /// A record.
    Record(Record<R>),
    /// A cancel of `target` at a frame.
    Cancel {
        /// The action to cut.
        target: ActionId,
        /// The cut frame.
        at: At,
        /// What to do if the cut frame has passed.
        late: Late,
        /// How it ends there.
        ending: Ending,
    },
    /// A gain change of a play, or of an output channel's master gain.
    Gain {
        /// Whose gain.
        target: GainTarget,
        /// The new gain.
        gain: f32,
        /// Frames over which it ramps there linearly (0: a step).
        ramp: u64,
        /// The frame where the ramp starts.
        at: At,
        /// What to do if that frame has passed.
        late: Late,
    },
    /// A stats fetch of one direction.
    Stats {
        /// Which direction's stats.
        direction: Direction,
        /// When to take them.
        at: At,
    },
}

impl<P: PlaySource, R: RecordTarget> core::fmt::Debug for Member<P, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Member::Play(p) => p.fmt(f),
            Member::Record(r) => r.fmt(f),
            Member::Cancel {
                target,
                at,
                late,
                ending,
            } => f
                .debug_struct("Cancel")
                .field("target", target)
                .field("at", at)
                .field("late", late)
                .field("ending", ending)
                .finish(),
            Member::Gain {
                target,
                gain,
                ramp,
                at,
                late,
            } => f
                .debug_struct("Gain")
                .field("target", target)
                .field("gain", gain)
                .field("ramp", ramp)
                .field("at", at)
                .field("late", late)
                .finish(),
            Member::Stats { direction, at } => f
                .debug_struct("Stats")
                .field("direction", direction)
                .field("at", at)
                .finish(),
        }
    }
}

impl<P, R> Member<P, R> {
    pub(crate) fn direction(&self) -> Direction {
        match self {
            Member::Play(_) | Member::Gain { .. } => Direction::Output,
            Member::Record(_) => Direction::Input,
            Member::Cancel { target, .. } => target.direction(),
            Member::Stats { direction, .. } => *direction,
        }
    }
}

/// Whose gain a [`Member::Gain`] or [`Controller::set_gain`](crate::Controller::set_gain)
/// changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum GainTarget {
    /// A play's gain.
    Action(ActionId),
    /// The master gain of one output channel, applied to the whole mix.
    Master(u16),
}
