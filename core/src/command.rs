//! Requests built on the control side.

use crate::{ActionId, At, ChannelMap, Direction, Late};

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
pub struct Play<P> {
    pub(crate) buffer: P,
    pub(crate) map: ChannelMap,
    pub(crate) at: At,
    pub(crate) late: Late,
}

impl<P: AsRef<[f32]>> Play<P> {
    /// Plays `buffer` through `map`, as soon as possible, dropped if late.
    pub fn new(buffer: P, map: ChannelMap) -> Self {
        Self {
            buffer,
            map,
            at: At::Asap,
            late: Late::Drop,
        }
    }

    /// The frame count (samples divided by mapped channels, rounded down).
    pub fn frames(&self) -> u64 {
        (self.buffer.as_ref().len() / self.map.len()) as u64
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
}

impl<R: AsMut<[f32]> + AsRef<[f32]>> Record<R> {
    /// Records into `buffer` through `map`, as soon as possible, dropped if late.
    pub fn new(buffer: R, map: ChannelMap) -> Self {
        Self {
            buffer,
            map,
            at: At::Asap,
            late: Late::Drop,
        }
    }

    /// The frame count (samples divided by mapped channels, rounded down).
    pub fn frames(&self) -> u64 {
        (self.buffer.as_ref().len() / self.map.len()) as u64
    }
}

macro_rules! timing_setters {
    ($ty:ident) => {
        /// Shows the request without its samples (a buffer can hold millions).
        impl<B: AsRef<[f32]>> core::fmt::Debug for $ty<B> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("samples", &self.buffer.as_ref().len())
                    .field("map", &self.map)
                    .field("at", &self.at)
                    .field("late", &self.late)
                    .finish()
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
timing_setters!(Play);
timing_setters!(Record);

/// One member of a group submitted with [`Controller::group`](crate::Controller::group).
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
    },
    /// A stats fetch of one direction.
    Stats {
        /// Which direction's stats.
        direction: Direction,
        /// When to take them.
        at: At,
    },
}

impl<P: AsRef<[f32]>, R: AsRef<[f32]>> core::fmt::Debug for Member<P, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Member::Play(p) => p.fmt(f),
            Member::Record(r) => r.fmt(f),
            Member::Cancel { target, at, late } => f
                .debug_struct("Cancel")
                .field("target", target)
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
            Member::Play(_) => Direction::Output,
            Member::Record(_) => Direction::Input,
            Member::Cancel { target, .. } => target.direction(),
            Member::Stats { direction, .. } => *direction,
        }
    }
}

/// How a transfer's channel map lays out, precomputed on the control side so the engine
/// can pick a fast kernel without inspecting the map every block.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) enum Layout {
    /// Buffer channel k is stream channel k for every stream channel, one gain for all.
    Full { gain: f32 },
    /// Buffer channel k is stream channel `first + k`.
    Contiguous { first: usize },
    /// Anything else.
    #[default]
    General,
}

impl Layout {
    /// The layout of `map` on a stream with `stream_channels` channels; `with_gains` is
    /// false for recordings, which ignore gains.
    pub(crate) fn of(map: &ChannelMap, stream_channels: u16, with_gains: bool) -> Self {
        match map.contiguous_from() {
            Some(0) if map.len() == usize::from(stream_channels) => {
                match (with_gains, map.uniform_gain()) {
                    (false, _) => Layout::Full { gain: 1.0 },
                    (true, Some(gain)) => Layout::Full { gain },
                    (true, None) => Layout::Contiguous { first: 0 },
                }
            }
            Some(first) => Layout::Contiguous {
                first: usize::from(first),
            },
            None => Layout::General,
        }
    }
}

/// Where a command sits in a group: the engine holds group members back until the last one
/// has arrived, then starts them together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GroupMark {
    Single,
    More,
    Last,
}

/// What a command asks of its engine half. Commands travel by value through a fixed queue
/// (no `alloc` to box the large variant), so every slot is as large as a transfer.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Body<B> {
    Transfer {
        buffer: B,
        map: ChannelMap,
        layout: Layout,
        frames: u64,
    },
    Cancel {
        target_seq: u64,
    },
    Stats,
}

/// A validated command on its way to one engine half.
#[derive(Debug)]
pub(crate) struct Command<B> {
    pub(crate) id: ActionId,
    pub(crate) at: At,
    pub(crate) late: Late,
    pub(crate) group: GroupMark,
    pub(crate) body: Body<B>,
}
