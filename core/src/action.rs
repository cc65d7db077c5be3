//! An action's state inside the engine, and the record it leaves with.

use crate::channel_map::MapStore;
use crate::command::{Body, Command, Gain, Layout, Shape, Target, When, NONE};
use crate::completion::{Counts, End};
use crate::envelope::Envelope;
use crate::{ActionKind, EndReason, Ending, Interval, Late, StreamStats};

/// A play or record under way: its buffer and where it sits on the timeline. What a
/// plain span reads comes first (the buffer, the layout, where the region is, the
/// envelope's steady window); the map, which only the general kernels read, comes last.
#[derive(Debug)]
#[repr(C)]
pub(crate) struct Transfer<B, Mp> {
    pub(crate) buffer: B,
    pub(crate) layout: Layout,
    /// What it plays of the buffer (`region_len` frames from `region_start`), how often,
    /// and its envelope settings.
    pub(crate) shape: Shape,
    /// Its envelope (plays only; set up when its origin is known).
    pub(crate) env: Envelope,
    /// Counters of a stream's source or sink.
    pub(crate) stream: StreamCounters,
    pub(crate) map: Mp,
}

/// What a stream play or recording met: frames its source lacked or its sink had no room
/// for, and the lowest level (frames available, or room) seen at a span's start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StreamCounters {
    pub(crate) missing: u64,
    pub(crate) dropped: u64,
    /// Calls in which the source or sink claimed to have moved more samples than it was
    /// given room for.
    pub(crate) faults: u64,
    /// [`NONE`] until a level is seen.
    pub(crate) lowest: u64,
}

impl Default for StreamCounters {
    fn default() -> Self {
        Self {
            missing: 0,
            dropped: 0,
            faults: 0,
            lowest: NONE,
        }
    }
}

impl StreamCounters {
    pub(crate) fn see_level(&mut self, frames: u64) {
        self.lowest = self.lowest.min(frames);
    }
}

impl<B, Mp: MapStore> Transfer<B, Mp> {
    /// The buffer's channel count.
    #[inline]
    pub(crate) fn channels(&self) -> usize {
        self.map.channels().len()
    }

    /// Where frame `p` of the play (counted from its origin) falls: the buffer frame it
    /// plays (`None` in the silence between spaced repetitions) and how many frames from
    /// `p` on continue the same way. At least 1 for a non-empty region.
    #[inline]
    pub(crate) fn place(&self, p: u64) -> (Option<u64>, u64) {
        let (start, len) = (self.shape.region_start, self.shape.region_len);
        if let Some(interval) = self.shape.interval {
            return self.place_spaced(p, interval);
        }
        // Back to back: plain modular arithmetic (no division in the first repetition).
        let offset = if p < len { p } else { p % len.max(1) };
        (Some(start + offset), len - offset)
    }

    /// [`place`](Self::place) for repetitions spaced by `interval`.
    #[inline(never)]
    fn place_spaced(&self, p: u64, interval: Interval) -> (Option<u64>, u64) {
        let (start, len) = (self.shape.region_start, self.shape.region_len);
        // The last of a counted set plays whole: no repetition follows to cut it short.
        let k = interval.index_at(p);
        let n = self.shape.repetitions;
        let (k, last) = if n != NONE && k.saturating_add(1) >= n {
            (n.saturating_sub(1), true)
        } else {
            (k, false)
        };
        let first = interval.start_of(k);
        let next = if last {
            u64::MAX
        } else {
            interval.start_of(k.saturating_add(1))
        };
        let offset = p - first;
        let playing = len.min(next - first);
        if offset < playing {
            (Some(start + offset), playing - offset)
        } else {
            (None, next - first - offset)
        }
    }

    /// Where the repetition under way at play frame `p` ends (as an offset from the
    /// origin), or `None` in a gap between repetitions.
    pub(crate) fn repetition_end(&self, p: u64) -> Option<u64> {
        let (at, left) = self.place(p);
        at.map(|_| p.saturating_add(left))
    }
}

/// The part of a block one transfer covers, within one repetition of its region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    /// Its first frame on the stream's frame clock.
    pub(crate) frame: u64,
    /// First frame within the block.
    pub(crate) block_frame: usize,
    /// First frame within the buffer.
    pub(crate) buffer_frame: usize,
    /// Frames covered.
    pub(crate) frames: usize,
}

/// What an action does. Slots hold it by value (there is no `alloc` to box the large
/// variant), so every slot is as large as a transfer.
#[derive(Debug)]
#[repr(C, u8)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Work<B, Mp> {
    Transfer(Transfer<B, Mp>),
    Cancel { target: Target, ending: Ending },
    Gain { target: Gain, gain: f32, ramp: u64 },
    Stats,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// A group member waiting for the rest of its group.
    Staged,
    /// Waiting for the end of the action it follows ([`At::After`](crate::At::After)) to
    /// be known.
    Waiting,
    /// Waiting for its frame, in the pending heap.
    Pending,
    /// Running, in the active list.
    Active,
    /// Ended, waiting for room in the completion queue.
    Ended,
}

/// One command's whole life in the engine.
///
/// `repr(C)` with the fields every block reads first: the mixing loop walks the active
/// actions each block, and keeping what it touches in the first two cache lines of each
/// slot measurably lowers the cost per voice (docs/performance.md).
#[derive(Debug)]
#[repr(C)]
pub(crate) struct Action<B, Mp> {
    pub(crate) state: State,
    /// Set when a cancel lowered `end`.
    pub(crate) cut: bool,
    /// Set when its stream's policy stopped it (an underflow or an overflow).
    pub(crate) stopped: bool,
    /// The next frame it will process.
    pub(crate) position: u64,
    /// One past the last frame it covers; a cancel lowers it. `u64::MAX` while it loops
    /// forever.
    pub(crate) end: u64,
    /// The frame of buffer frame 0 (transfers) or the frame it takes effect (others).
    pub(crate) origin: u64,
    /// [`NONE`] until it starts.
    pub(crate) actual_start: u64,
    pub(crate) stats: Counts,
    pub(crate) work: Work<B, Mp>,
    // Read when it starts and ends only.
    pub(crate) kind: ActionKind,
    pub(crate) late: Late,
    pub(crate) reason: End,
    pub(crate) when: When,
    /// The frame asked for, once known (for [`When::After`], where the followed one stops);
    /// else [`NONE`].
    pub(crate) requested_frame: u64,
    pub(crate) late_by: u64,
    /// Leading buffer frames left out because they had passed (late with `Skip`).
    pub(crate) skipped: u64,
    /// Where it stopped, once known; else [`NONE`].
    pub(crate) ended_at: u64,
}

impl<B, Mp> Action<B, Mp> {
    pub(crate) fn from_command(cmd: Command<B, Mp>, kind: ActionKind) -> Self {
        let work = match cmd.body {
            Body::Transfer {
                buffer,
                map,
                layout,
                shape,
                levels,
            } => Work::Transfer(Transfer {
                buffer,
                map,
                layout,
                env: Envelope::new(
                    levels.gain,
                    levels.fade_in,
                    levels.fade_out,
                    shape.total(),
                    levels.offset,
                ),
                shape,
                stream: StreamCounters::default(),
            }),
            Body::Cancel { target, ending } => Work::Cancel { target, ending },
            Body::Gain { target, gain, ramp } => Work::Gain { target, gain, ramp },
            Body::Stats => Work::Stats,
        };
        Self {
            kind,
            when: cmd.when,
            late: cmd.late,
            state: State::Staged,
            work,
            origin: 0,
            end: 0,
            cut: false,
            stopped: false,
            position: 0,
            late_by: 0,
            skipped: 0,
            actual_start: NONE,
            reason: End::Finished,
            stats: Counts::new(),
            requested_frame: NONE,
            ended_at: NONE,
        }
    }

    /// The action it follows, for [`When::After`].
    pub(crate) fn after(&self) -> Option<Target> {
        match self.when {
            When::After { slot, seq } => Some(Target { slot, seq }),
            _ => None,
        }
    }

    /// True while it is scheduled or running (not staged, not ended).
    pub(crate) fn is_live(&self) -> bool {
        matches!(self.state, State::Waiting | State::Pending | State::Active)
    }

    /// True for a transfer that covers at least one frame.
    pub(crate) fn has_frames(&self) -> bool {
        matches!(self.work, Work::Transfer(_)) && self.end > self.origin
    }

    /// Frames played or recorded: every frame it moved over since its start, less those
    /// lost to xruns. Derived, so the block loop has one counter less to write.
    pub(crate) fn frames_done(&self) -> u64 {
        if self.actual_start == NONE {
            return 0;
        }
        self.position.saturating_sub(self.actual_start) - self.stats.frames_lost
    }

    /// Marks it ended with `reason`, stopped at frame `at`.
    pub(crate) fn end_with(&mut self, reason: EndReason, at: u64) {
        self.state = State::Ended;
        self.reason = End::of(reason);
        self.ended_at = at;
    }

    /// The record handed back through the completion queue, and its buffer.
    pub(crate) fn into_done(self, slot: u16, seq: u64) -> Done<B> {
        let frames = self.frames_done();
        let (stream, buffer) = match self.work {
            Work::Transfer(t) => (t.stream, Some(t.buffer)),
            Work::Cancel { .. } | Work::Gain { .. } | Work::Stats => {
                (StreamCounters::default(), None)
            }
        };
        Done {
            seq,
            slot,
            kind: self.kind,
            when: self.when,
            late_by: self.late_by,
            actual_start: self.actual_start,
            frames,
            skipped: self.skipped,
            ended_at: self.ended_at,
            end: self.reason,
            counts: self.stats,
            stream,
            buffer,
        }
    }
}

/// An action's completion on its way back from one engine half: everything the
/// [`Completion`](crate::Completion) says, with frames not known stored as [`NONE`].
#[derive(Debug)]
pub(crate) struct Done<B> {
    pub(crate) seq: u64,
    pub(crate) slot: u16,
    pub(crate) kind: ActionKind,
    pub(crate) when: When,
    pub(crate) late_by: u64,
    pub(crate) actual_start: u64,
    pub(crate) frames: u64,
    pub(crate) skipped: u64,
    pub(crate) ended_at: u64,
    pub(crate) end: End,
    pub(crate) counts: Counts,
    pub(crate) stream: StreamCounters,
    pub(crate) buffer: Option<B>,
}

/// A stats fetch's snapshot, on its own queue so that completions do not all carry room
/// for one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Snapshot {
    pub(crate) seq: u64,
    pub(crate) stats: StreamStats,
}
