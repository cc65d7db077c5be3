//! An action's state inside the engine, and the report it leaves with.

use crate::command::{Body, Command, Layout};
use crate::{ActionId, ActionKind, ActionStats, At, ChannelMap, EndReason, Late, StreamStats};

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
    pub(crate) map: ChannelMap,
}

/// The part of a block one transfer covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    /// First frame within the block.
    pub(crate) block_frame: usize,
    /// First frame within the buffer.
    pub(crate) buffer_frame: usize,
    /// Frames covered.
    pub(crate) frames: usize,
}

#[derive(Debug)]
#[repr(C, u8)]
pub(crate) enum Work<B> {
    Transfer(Transfer<B>),
    Cancel { target_seq: u64 },
    Stats(Option<StreamStats>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// A group member waiting for the rest of its group.
    Staged,
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
    /// One past the last frame it covers; a cancel lowers it.
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
}

impl<B> Action<B> {
    pub(crate) fn from_command(cmd: Command<B>, kind: ActionKind) -> Self {
        let work = match cmd.body {
            Body::Transfer {
                buffer,
                map,
                layout,
                frames,
            } => Work::Transfer(Transfer {
                buffer,
                channels: map.len(),
                map,
                layout,
                frames,
            }),
            Body::Cancel { target_seq } => Work::Cancel { target_seq },
            Body::Stats => Work::Stats(None),
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
        }
    }

    /// Frames played or recorded: every frame it moved over since its start, less those
    /// lost to xruns. Derived, so the block loop has one counter less to write.
    pub(crate) fn frames_done(&self) -> u64 {
        self.actual_start.map_or(0, |start| {
            self.position.saturating_sub(start) - self.stats.frames_lost
        })
    }

    /// Marks it ended with `reason`.
    pub(crate) fn end_with(&mut self, reason: EndReason) {
        self.state = State::Ended;
        self.reason = reason;
    }

    /// The report handed back through the completion queue.
    pub(crate) fn into_done(self) -> Done<B> {
        let frames = self.frames_done();
        let payload = match self.work {
            Work::Transfer(t) => HalfPayload::Buffer(t.buffer),
            Work::Cancel { .. } => HalfPayload::None,
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
            end: self.reason,
            stats: self.stats.finish(),
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
    pub(crate) end: EndReason,
    pub(crate) stats: ActionStats,
    pub(crate) payload: HalfPayload<B>,
}
