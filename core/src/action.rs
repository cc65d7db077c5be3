//! An action's state inside the engine, and the report it leaves with.

use crate::command::{Body, Command, Gain, Layout, Shape};
use crate::envelope::{Envelope, Ramp};
use crate::{
    ActionId, ActionKind, ActionStats, At, ChannelMap, EndReason, Ending, Late, StreamStats,
};

/// A play or record under way: its buffer and where it sits on the timeline. The map,
/// which only the general kernels read, comes last.
#[derive(Debug)]
#[repr(C)]
pub(crate) struct Transfer<B> {
    pub(crate) buffer: B,
    /// The buffer's channel count (`map.len()`, kept here so the fast kernels need not
    /// touch the map).
    pub(crate) channels: usize,
    pub(crate) layout: Layout,
    /// The buffer's frame count.
    pub(crate) frames: u64,
    /// What it plays of the buffer: `region_len` frames from `region_start`, repeated.
    pub(crate) region_start: u64,
    pub(crate) region_len: u64,
    /// Its envelope (plays only; set up when its origin is known).
    pub(crate) env: Envelope,
    pub(crate) shape: Shape,
    /// Counters of a stream's source or sink.
    pub(crate) stream: StreamCounters,
    pub(crate) map: ChannelMap,
}

/// What a stream play or recording met: frames its source lacked or its sink had no room
/// for, and the lowest level (frames available, or room) seen at a span's start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct StreamCounters {
    pub(crate) missing: u64,
    pub(crate) dropped: u64,
    pub(crate) lowest: Option<u64>,
}

impl StreamCounters {
    pub(crate) fn see_level(&mut self, frames: u64) {
        self.lowest = Some(self.lowest.map_or(frames, |l| l.min(frames)));
    }
}

impl<B> Transfer<B> {
    /// Where frame `p` of the play (counted from its origin) falls: the buffer frame it
    /// plays (`None` in the silence between spaced repetitions) and how many frames from
    /// `p` on continue the same way. At least 1 for a non-empty region.
    pub(crate) fn place(&self, p: u64) -> (Option<u64>, u64) {
        let len = self.region_len;
        let Some(interval) = self.shape.interval else {
            // Back to back: plain modular arithmetic (no division in the first repetition).
            let offset = if p < len { p } else { p % len.max(1) };
            return (Some(self.region_start + offset), len - offset);
        };
        // The last of a counted set plays whole: no repetition follows to cut it short.
        let k = interval.index_at(p);
        let (k, last) = match self.shape.repetitions {
            Some(n) if k.saturating_add(1) >= n => (n.saturating_sub(1), true),
            _ => (k, false),
        };
        let start = interval.start_of(k);
        let next = if last {
            u64::MAX
        } else {
            interval.start_of(k.saturating_add(1))
        };
        let offset = p - start;
        let playing = len.min(next - start);
        if offset < playing {
            (Some(self.region_start + offset), playing - offset)
        } else {
            (None, next - start - offset)
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
pub(crate) enum Work<B> {
    Transfer(Transfer<B>),
    Cancel { target_seq: u64, ending: Ending },
    Gain { target: Gain, gain: f32, ramp: u64 },
    Stats(Option<StreamStats>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// A group member waiting for the rest of its group.
    Staged,
    /// Waiting for the end of the action it follows ([`At::After`]) to be known.
    Waiting,
    /// Waiting for its frame, in the pending list.
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
pub(crate) struct Action<B> {
    pub(crate) state: State,
    /// Set when a cancel lowered `end`.
    pub(crate) cut: bool,
    /// The next frame it will process.
    pub(crate) position: u64,
    /// One past the last frame it covers; a cancel lowers it. `u64::MAX` while it loops
    /// forever.
    pub(crate) end: u64,
    /// The frame of buffer frame 0 (transfers) or the frame it takes effect (others).
    pub(crate) origin: u64,
    pub(crate) stats: ActionStats,
    pub(crate) work: Work<B>,
    // Read when it starts and ends only.
    pub(crate) id: ActionId,
    pub(crate) kind: ActionKind,
    pub(crate) requested: At,
    pub(crate) late: Late,
    pub(crate) late_by: u64,
    /// Leading buffer frames left out because they had passed (late with `Skip`).
    pub(crate) skipped: u64,
    pub(crate) actual_start: Option<u64>,
    pub(crate) reason: EndReason,
    /// The action it follows, for [`At::After`].
    pub(crate) after: Option<u64>,
    /// The frame asked for, once known (for [`At::After`], where the followed one stops).
    pub(crate) requested_frame: Option<u64>,
    /// Where it stopped, once known (see [`At::After`]).
    pub(crate) ended_at: Option<u64>,
    /// Set when its stream's policy stopped it.
    pub(crate) stopped: Option<EndReason>,
}

impl<B> Action<B> {
    pub(crate) fn from_command(cmd: Command<B>, kind: ActionKind) -> Self {
        let work = match cmd.body {
            Body::Transfer {
                buffer,
                map,
                layout,
                frames,
                shape,
            } => Work::Transfer(Transfer {
                buffer,
                channels: map.len(),
                map,
                layout,
                frames,
                region_start: shape.region_start,
                region_len: shape.region_len,
                env: Envelope::new(
                    Ramp::constant(shape.gain),
                    fade_in(shape.fade_in),
                    shape
                        .total
                        .map_or(Ramp::UNITY, |t| fade_out(t, shape.fade_out)),
                    shape.offset,
                ),
                shape,
                stream: StreamCounters::default(),
            }),
            Body::Cancel { target_seq, ending } => Work::Cancel { target_seq, ending },
            Body::Gain { target, gain, ramp } => Work::Gain { target, gain, ramp },
            Body::Stats => Work::Stats(None),
        };
        let after = match cmd.at {
            At::After(id) => Some(id.seq()),
            _ => None,
        };
        Self {
            id: cmd.id,
            kind,
            requested: cmd.at,
            late: cmd.late,
            state: State::Staged,
            work,
            origin: 0,
            end: 0,
            cut: false,
            position: 0,
            late_by: 0,
            skipped: 0,
            actual_start: None,
            reason: EndReason::Finished,
            stats: ActionStats::new(),
            after,
            requested_frame: None,
            ended_at: None,
            stopped: None,
        }
    }

    /// True for a transfer that covers at least one frame.
    pub(crate) fn has_frames(&self) -> bool {
        matches!(self.work, Work::Transfer(_)) && self.end > self.origin
    }

    /// Frames played or recorded: every frame it moved over since its start, less those
    /// lost to xruns. Derived, so the block loop has one counter less to write.
    pub(crate) fn frames_done(&self) -> u64 {
        self.actual_start.map_or(0, |start| {
            self.position.saturating_sub(start) - self.stats.frames_lost
        })
    }

    /// Marks it ended with `reason`, stopped at frame `at`.
    pub(crate) fn end_with(&mut self, reason: EndReason, at: u64) {
        self.state = State::Ended;
        self.reason = reason;
        self.ended_at = Some(at);
    }

    /// The report handed back through the completion queue.
    pub(crate) fn into_done(self) -> Done<B> {
        let frames = self.frames_done();
        let mut stats = self.stats.finish();
        let payload = match self.work {
            Work::Transfer(t) => {
                stats.missing = t.stream.missing;
                stats.dropped = t.stream.dropped;
                stats.lowest_level = t.stream.lowest;
                HalfPayload::Buffer(t.buffer)
            }
            Work::Cancel { .. } | Work::Gain { .. } => HalfPayload::None,
            Work::Stats(s) => s.map_or(HalfPayload::None, HalfPayload::Stats),
        };
        Done {
            id: self.id,
            kind: self.kind,
            requested: self.requested,
            late_by: self.late_by,
            actual_start: self.actual_start,
            frames,
            skipped: self.skipped,
            ended_at: self.ended_at,
            end: self.reason,
            stats,
            payload,
        }
    }
}

/// What one engine half hands back: a [`Completion`](crate::Completion) with one buffer type.
#[derive(Debug)]
pub(crate) enum HalfPayload<B> {
    None,
    Buffer(B),
    Stats(StreamStats),
}

/// A completion on its way back from one engine half.
#[derive(Debug)]
pub(crate) struct Done<B> {
    pub(crate) id: ActionId,
    pub(crate) kind: ActionKind,
    pub(crate) requested: At,
    pub(crate) late_by: u64,
    pub(crate) actual_start: Option<u64>,
    pub(crate) frames: u64,
    pub(crate) skipped: u64,
    pub(crate) ended_at: Option<u64>,
    pub(crate) end: EndReason,
    pub(crate) stats: ActionStats,
    pub(crate) payload: HalfPayload<B>,
}

/// A fade-in over the first `frames` frames of a play: gain `i / frames` at its frame `i`.
fn fade_in(frames: u64) -> Ramp {
    if frames == 0 {
        return Ramp::UNITY;
    }
    Ramp {
        start: 0,
        len: frames,
        from: 0.0,
        to: 1.0,
    }
}

/// A fade-out over the last `frames` of a play of `total` frames (the controller keeps the
/// fade within the play).
fn fade_out(total: u64, frames: u64) -> Ramp {
    if frames == 0 {
        return Ramp::UNITY;
    }
    Ramp {
        start: total.saturating_sub(frames),
        len: frames,
        from: 1.0,
        to: 0.0,
    }
}
