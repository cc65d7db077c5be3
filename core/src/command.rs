//! The messages the controller sends to an engine half: validated requests, with their
//! slot, their timing and what they do.

use crate::channel_map::MapStore;
use crate::{ChannelMap, Ending, GainTarget, Interval, Late};

/// "Not known yet" or "none" for a frame stored as a `u64` (an action's start, where it
/// stopped, a total length): smaller than `Option<u64>`, and `u64::MAX` is never a frame
/// anything starts or stops at before the clock's end.
pub(crate) const NONE: u64 = u64::MAX;

/// When a command takes effect, as the engine needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum When {
    /// At the first frame of the block that takes it.
    Asap,
    /// At this frame.
    Frame(u64),
    /// Where the action in `slot` with sequence number `seq` stops.
    After { slot: u16, seq: u64 },
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
pub(crate) enum Body<B, Mp> {
    Transfer {
        buffer: B,
        map: Mp,
        layout: Layout,
        shape: Shape,
        levels: Levels,
    },
    Cancel {
        target: Target,
        ending: Ending,
    },
    Gain {
        target: Gain,
        gain: f32,
        ramp: u64,
    },
    Stats,
}

/// The action a cancel or a gain change acts on: its slot, and its sequence number to
/// tell it from a later occupant of the slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) slot: u16,
    pub(crate) seq: u64,
}

/// A checked [`GainTarget`] as the engine sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Gain {
    Action(Target),
    Master(u16),
}

impl From<GainTarget> for Gain {
    fn from(target: GainTarget) -> Self {
        match target {
            GainTarget::Action(id) => Gain::Action(Target {
                slot: id.slot(),
                seq: id.seq(),
            }),
            GainTarget::Master(channel) => Gain::Master(channel),
        }
    }
}

/// Where in its buffer a transfer plays, how often, and its envelope settings: checked on
/// the control side. A recording covers its whole buffer once. `repr(C)`, with what
/// placing a span reads first.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub(crate) struct Shape {
    pub(crate) region_start: u64,
    pub(crate) region_len: u64,
    /// Between repetition starts; `None`: back to back.
    pub(crate) interval: Option<Interval>,
    /// Frames in all; [`NONE`] loops forever.
    pub(crate) total: u64,
    /// How many repetitions; [`NONE`]: endless.
    pub(crate) repetitions: u64,
    /// A stream stops (instead of going on) when its source runs dry or its sink full.
    pub(crate) stop: bool,
}

impl Shape {
    /// The whole buffer, once, at unity gain.
    pub(crate) const fn whole(frames: u64) -> Self {
        Self {
            region_start: 0,
            region_len: frames,
            total: frames,
            interval: None,
            repetitions: 1,
            stop: false,
        }
    }

    /// Frames in all, if it ends by itself.
    pub(crate) fn total(&self) -> Option<u64> {
        (self.total != NONE).then_some(self.total)
    }
}

/// A play's gain, fades and offset: checked on the control side, then kept in its
/// envelope only.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Levels {
    pub(crate) gain: f32,
    pub(crate) fade_in: u64,
    pub(crate) fade_out: u64,
    /// Play frames left out at the start ([`Play::from_frame`](crate::Play::from_frame)).
    pub(crate) offset: u64,
}

impl Levels {
    /// Unity gain, no fades, from the first frame (recordings).
    pub(crate) const UNITY: Self = Self {
        gain: 1.0,
        fade_in: 0,
        fade_out: 0,
        offset: 0,
    };
}

/// A validated command on its way to one engine half.
#[derive(Debug)]
pub(crate) struct Command<B, Mp> {
    /// Its sequence number, and the action slot the controller gave it.
    pub(crate) seq: u64,
    pub(crate) slot: u16,
    pub(crate) when: When,
    pub(crate) late: Late,
    pub(crate) group: GroupMark,
    pub(crate) body: Body<B, Mp>,
}

impl<B, Mp: MapStore> Command<B, Mp> {
    /// What kind of action it is, in a half whose transfers are `transfer`.
    pub(crate) fn kind(&self, transfer: crate::ActionKind) -> crate::ActionKind {
        match self.body {
            Body::Transfer { .. } => transfer,
            Body::Cancel { .. } => crate::ActionKind::Cancel,
            Body::Gain { .. } => crate::ActionKind::Gain,
            Body::Stats => crate::ActionKind::Stats,
        }
    }

    /// The buffer it carries, if any: what a refusal hands back.
    pub(crate) fn into_buffer(self) -> Option<B> {
        match self.body {
            Body::Transfer { buffer, .. } => Some(buffer),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Layout;
    use crate::ChannelMap;

    fn layout(channels: &[u16], gains: Option<&[f32]>, stream: u16, with_gains: bool) -> Layout {
        let map = ChannelMap::new(channels).unwrap();
        let map = match gains {
            Some(g) => map.with_gains(g).unwrap(),
            None => map,
        };
        Layout::of(&map, stream, with_gains)
    }

    // The fast kernels are chosen here: a map that is contiguous must get one, and a map
    // that is not must never (the general kernel gives the same samples, so only this
    // test sees a wrong choice; cargo-mutants found it unasserted).
    #[test]
    fn each_map_gets_the_kernel_of_its_shape() {
        assert_eq!(layout(&[0, 1], None, 2, true), Layout::Full { gain: 1.0 });
        assert_eq!(
            layout(&[0, 1], Some(&[0.5, 0.5]), 2, true),
            Layout::Full { gain: 0.5 }
        );
        assert_eq!(
            layout(&[0, 1], Some(&[0.5, 0.25]), 2, true),
            Layout::Contiguous { first: 0 }
        );
        assert_eq!(
            layout(&[0, 1], Some(&[0.5, 0.25]), 2, false),
            Layout::Full { gain: 1.0 }
        );
        assert_eq!(
            layout(&[0, 1], None, 3, true),
            Layout::Contiguous { first: 0 }
        );
        assert_eq!(
            layout(&[2, 3], None, 4, true),
            Layout::Contiguous { first: 2 }
        );
        assert_eq!(layout(&[3], None, 4, true), Layout::Contiguous { first: 3 });
        assert_eq!(layout(&[1, 0], None, 2, true), Layout::General);
        assert_eq!(layout(&[0, 2], None, 3, true), Layout::General);
        assert_eq!(layout(&[1, 1], None, 2, true), Layout::General);
    }
}
