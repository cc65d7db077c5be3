//! What the engine hands back when an action ends.

use crate::{ActionId, At, StreamStats};

/// What kind of command an action was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ActionKind {
    /// Play a buffer.
    Play,
    /// Record into a buffer.
    Record,
    /// Cancel another action.
    Cancel,
    /// Change a play's gain or a master gain.
    Gain,
    /// Fetch and reset the stream stats.
    Stats,
}

/// How an action ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EndReason {
    /// It ran to its end (a play or record), or took effect (a gain change, a stats fetch).
    Finished,
    /// A cancel stopped it at this frame: its last frame was `at - 1` (after the cancel's
    /// fade, if it had one). A cut at or before its start means nothing was played or
    /// recorded (and a pending command of another kind is simply removed).
    Cancelled {
        /// The cut frame.
        at: u64,
    },
    /// It arrived late with [`Late::Drop`](crate::Late::Drop) and was not carried out.
    DroppedLate,
    /// A cancel that reached its target (the target's completion says where it stopped).
    Cut,
    /// A cancel or gain change whose target had already ended, or (a cancel) would end by
    /// itself before the cut.
    TargetNotActive,
    /// The engine refused it as invalid. The controller validates everything first, so this
    /// only appears if a command reached the engine some other way.
    Invalid,
    /// The stream stopped before the action ended.
    StreamStopped,
    /// A stream play's source ran dry, and its [`OnEmpty::Stop`](crate::OnEmpty::Stop)
    /// policy ended it at the first missing frame.
    Underflow,
    /// A stream recording's sink ran full, and its [`OnFull::Stop`](crate::OnFull::Stop)
    /// policy ended it at the first frame that did not fit.
    Overflow,
}

/// Counters of one action's life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ActionStats {
    /// Blocks in which it was active.
    pub blocks: u64,
    /// The smallest of those blocks, in frames (0 when it never ran).
    pub min_block: u64,
    /// The largest of those blocks, in frames.
    pub max_block: u64,
    /// Xruns while it was active.
    pub xruns: u64,
    /// Its frames that fell into those xruns (not played, or recorded as zeros).
    pub frames_lost: u64,
    /// A stream play's frames that its source did not have in time, played as silence.
    pub missing: u64,
    /// A stream recording's frames that its sink had no room for, dropped.
    pub dropped: u64,
    /// Calls in which a stream's [`SampleSource`](crate::SampleSource) or
    /// [`SampleSink`](crate::SampleSink) claimed to have moved more samples than it was
    /// given room for (a bug in it): the engine believed only what fitted, and went on.
    pub faults: u64,
    /// The lowest level seen at the start of a span: frames available in a play's source,
    /// or room in a recording's sink (`None` for buffers).
    pub lowest_level: Option<u64>,
}

/// An action's block counts as the engine keeps them: block sizes and counts in 32 bits
/// (saturating: 2^32 blocks is months of 1-frame blocks), frames lost in 64.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) blocks: u32,
    /// `u32::MAX` until a block is counted, so that counting one needs no branch.
    min_block: u32,
    max_block: u32,
    pub(crate) xruns: u32,
    pub(crate) frames_lost: u64,
}

impl Counts {
    /// Counts for an action that has not run yet.
    pub(crate) const fn new() -> Self {
        Self {
            blocks: 0,
            min_block: u32::MAX,
            max_block: 0,
            xruns: 0,
            frames_lost: 0,
        }
    }

    #[inline]
    pub(crate) fn count_block(&mut self, frames: u64) {
        let frames = u32::try_from(frames).unwrap_or(u32::MAX);
        self.min_block = self.min_block.min(frames);
        self.max_block = self.max_block.max(frames);
        self.blocks = self.blocks.saturating_add(1);
    }

    pub(crate) fn count_xrun(&mut self, frames: u64) {
        self.xruns = self.xruns.saturating_add(1);
        self.frames_lost = self.frames_lost.saturating_add(frames);
    }

    /// The counts as reported, with a stream's counters.
    pub(crate) fn report(
        self,
        (missing, dropped, faults): (u64, u64, u64),
        lowest_level: Option<u64>,
    ) -> ActionStats {
        ActionStats {
            blocks: u64::from(self.blocks),
            min_block: if self.blocks == 0 {
                0
            } else {
                u64::from(self.min_block)
            },
            max_block: u64::from(self.max_block),
            xruns: u64::from(self.xruns),
            frames_lost: self.frames_lost,
            missing,
            dropped,
            faults,
            lowest_level,
        }
    }
}

/// An [`EndReason`] as the engine stores it: the frame of a cancellation is where the
/// action stopped, kept beside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum End {
    Finished,
    Cancelled,
    DroppedLate,
    Cut,
    TargetNotActive,
    Invalid,
    StreamStopped,
    Underflow,
    Overflow,
}

impl End {
    pub(crate) fn of(reason: EndReason) -> Self {
        match reason {
            EndReason::Finished => End::Finished,
            EndReason::Cancelled { .. } => End::Cancelled,
            EndReason::DroppedLate => End::DroppedLate,
            EndReason::Cut => End::Cut,
            EndReason::TargetNotActive => End::TargetNotActive,
            EndReason::Invalid => End::Invalid,
            EndReason::StreamStopped => End::StreamStopped,
            EndReason::Underflow => End::Underflow,
            EndReason::Overflow => End::Overflow,
        }
    }

    /// The reason, for an action that stopped at `at`.
    pub(crate) fn reason(self, at: u64) -> EndReason {
        match self {
            End::Finished => EndReason::Finished,
            End::Cancelled => EndReason::Cancelled { at },
            End::DroppedLate => EndReason::DroppedLate,
            End::Cut => EndReason::Cut,
            End::TargetNotActive => EndReason::TargetNotActive,
            End::Invalid => EndReason::Invalid,
            End::StreamStopped => EndReason::StreamStopped,
            End::Underflow => EndReason::Underflow,
            End::Overflow => EndReason::Overflow,
        }
    }
}

/// What a completion carries back.
#[derive(Debug, PartialEq)]
pub enum Payload<P, R> {
    /// Nothing (cancels, and actions cancelled before they took effect that carry no
    /// buffer).
    None,
    /// The buffer that was played, handed back.
    Played(P),
    /// The buffer that was recorded into, filled.
    Recorded(R),
    /// The stats that were fetched (and reset).
    Stats(StreamStats),
}

/// The report of one ended action, with its buffer moved back out of the engine.
///
/// Frames are on the clock of the action's direction. For a play or record,
/// `actual_start` is the frame of its first processed sample; with
/// [`Late::Skip`](crate::Late::Skip), `skipped` leading frames of the buffer were left out
/// (for a recording they are left untouched) so that `actual_start - skipped` is the
/// requested frame. An empty buffer (a timer) has nothing to skip: late, it fires at the
/// first frame of the block that took it. For a cancel or a stats fetch, `actual_start` is
/// the frame at which it took effect.
#[derive(Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Completion<P, R> {
    /// The action.
    pub id: ActionId,
    /// Its kind.
    pub kind: ActionKind,
    /// The frame that was asked for.
    pub requested: At,
    /// How many frames late it arrived (0 when on time).
    pub late_by: u64,
    /// The frame at which it took effect; `None` when it never did.
    pub actual_start: Option<u64>,
    /// Frames played or recorded: those it covered from `actual_start` to where it
    /// stopped, less those lost to xruns (the silence between spaced repetitions counts,
    /// as do a stream's missing frames).
    pub frames: u64,
    /// Leading frames left out because they had passed (late with `Skip`).
    pub skipped: u64,
    /// The frame where it stopped: one past its last frame, or where it was dropped or
    /// cancelled if it never ran (where an [`At::After`](crate::At::After) it starts).
    /// `None` if it never reached the schedule (a stopped stream).
    pub ended_at: Option<u64>,
    /// How it ended.
    pub end: EndReason,
    /// Counters of its life.
    pub stats: ActionStats,
    /// The buffer or stats it hands back.
    pub payload: Payload<P, R>,
}

impl<P, R> Completion<P, R> {
    /// The played buffer, if this was a play.
    ///
    /// ```
    /// # use rtmix_core::*;
    /// let (mut ctl, mut engine) =
    ///     rtmix_core::open::<Vec<f32>, Vec<f32>>(StreamConfig::output(1), StreamCapacity::default()).unwrap();
    /// let id = ctl.play(Play::new(vec![1.0, 2.0], ChannelMap::new(&[0]).unwrap())).unwrap();
    /// engine.process(&[], &mut [0.0; 4]);
    /// assert_eq!(ctl.take(id).unwrap().into_played(), Some(vec![1.0, 2.0]));
    /// ```
    pub fn into_played(self) -> Option<P> {
        match self.payload {
            Payload::Played(p) => Some(p),
            _ => None,
        }
    }

    /// The filled recording buffer, if this was a record.
    pub fn into_recording(self) -> Option<R> {
        match self.payload {
            Payload::Recorded(r) => Some(r),
            _ => None,
        }
    }

    /// The fetched stats, if this was a stats fetch.
    pub fn stream_stats(&self) -> Option<&StreamStats> {
        match &self.payload {
            Payload::Stats(s) => Some(s),
            _ => None,
        }
    }
}
