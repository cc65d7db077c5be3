//! The schedule and life cycle of actions in one engine half, shared by output and input.
//!
//! One block `[t0, t1)` runs in four steps, each bounded by the slot count `A`:
//! 1. take the commands that arrived (group members wait in `staged` until their group is
//!    complete, then resolve together against `t0`);
//! 2. move the pending actions whose frame is below `t1` to the active set, in order of
//!    (frame, submission). Pending actions are kept sorted, so future ones cost nothing;
//! 3. let each active transfer process its part of the block, in submission order (the
//!    order fixes the floating-point summation order, which the reference model mirrors);
//! 4. hand ended actions back through the completion queue.
//!
//! Frames lost to an xrun run the same steps with `lost` set: the clock, the schedule and
//! every action move over them exactly as over a block, but nothing is mixed.

use heapless::spsc::{Consumer, Producer};

use crate::action::{Action, Done, Span, State, Transfer, Work};
use crate::command::{Body, Command, GroupMark};
use crate::signal::Signal;
use crate::{ActionKind, At, EndReason, Late, StreamStats};

/// A pending action's place in the schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Due {
    frame: u64,
    seq: u64,
    slot: u16,
}

pub(crate) struct Scheduler<'a, B, const A: usize> {
    commands: Consumer<'a, Command<B>>,
    completions: Producer<'a, Done<B>>,
    /// Every action the engine holds, from arrival until its completion is queued.
    /// Invariant: the controller admits at most `A` outstanding actions per half, so a
    /// command always finds a free slot, and since an ended action keeps its slot until
    /// the completion queue takes it, no completion can ever be lost.
    slots: [Option<Action<B>>; A],
    free: heapless::Vec<u16, A>,
    staged: heapless::Vec<u16, A>,
    /// Sorted by (frame, seq), latest first: the next due action is the last element.
    pending: heapless::Vec<Due, A>,
    /// Sorted by seq.
    active: heapless::Vec<u16, A>,
    /// In the order they ended.
    ended: heapless::Vec<u16, A>,
    clock: u64,
    stats: StreamStats,
    transfer_kind: ActionKind,
    signal: Signal,
}

impl<B, const A: usize> core::fmt::Debug for Scheduler<'_, B, A> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Scheduler")
            .field("clock", &self.clock)
            .field("held", &(A - self.free.len()))
            .field("pending", &self.pending.len())
            .field("active", &self.active.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl<'a, B, const A: usize> Scheduler<'a, B, A> {
    pub(crate) fn new(
        commands: Consumer<'a, Command<B>>,
        completions: Producer<'a, Done<B>>,
        transfer_kind: ActionKind,
        stats: StreamStats,
        signal: Signal,
    ) -> Self {
        let mut free = heapless::Vec::new();
        for slot in (0..A).rev() {
            // A fits in u16: checked when the queues are built.
            free.push(slot as u16).ok();
        }
        Self {
            commands,
            completions,
            slots: core::array::from_fn(|_| None),
            free,
            staged: heapless::Vec::new(),
            pending: heapless::Vec::new(),
            active: heapless::Vec::new(),
            ended: heapless::Vec::new(),
            clock: 0,
            stats,
            transfer_kind,
            signal,
        }
    }

    pub(crate) fn clock(&self) -> u64 {
        self.clock
    }

    pub(crate) fn stats_mut(&mut self) -> &mut StreamStats {
        &mut self.stats
    }

    /// Runs one block of `frames` frames (or frames lost to an xrun, when `lost`).
    /// `transfer` processes one span of one active transfer and returns false if the span
    /// does not fit its buffers (which validation rules out).
    pub(crate) fn run<F>(&mut self, frames: u64, lost: bool, mut transfer: F)
    where
        F: FnMut(&mut Transfer<B>, Span, bool) -> bool,
    {
        let t0 = self.clock;
        let t1 = t0.saturating_add(frames);
        self.take_commands(t0);
        self.start_due(t0, t1);

        let ended_before = self.ended.len();
        for &slot in &self.active {
            let Some(action) = self.slots[usize::from(slot)].as_mut() else {
                continue;
            };
            let from = action.position.max(t0);
            let to = action.end.min(t1);
            if from < to {
                if let Work::Transfer(t) = &mut action.work {
                    let span = Span {
                        block_frame: (from - t0) as usize,
                        buffer_frame: (from - action.origin) as usize,
                        frames: (to - from) as usize,
                    };
                    let fits = transfer(t, span, lost);
                    if lost {
                        action.stats.xruns += 1;
                        action.stats.frames_lost += to - from;
                    } else {
                        action.stats.count_block(frames);
                    }
                    action.position = to;
                    if !fits {
                        action.end_with(EndReason::Invalid);
                    }
                }
            }
            if action.state == State::Active && action.position >= action.end {
                let reason = if action.cut {
                    EndReason::Cancelled { at: action.end }
                } else {
                    EndReason::Finished
                };
                action.end_with(reason);
            }
            if action.state == State::Ended {
                self.ended.push(slot).ok();
            }
        }
        if self.ended.len() > ended_before {
            let slots = &self.slots;
            self.active.retain(|&slot| {
                slots[usize::from(slot)]
                    .as_ref()
                    .is_some_and(|a| a.state == State::Active)
            });
        }

        // Count the frames the clock really moved (it saturates at u64::MAX).
        self.clock = t1;
        if lost {
            self.stats.count_xrun(t1 - t0);
        } else {
            self.stats.count_block(t1 - t0);
        }
        self.flush();
    }

    /// Ends every action the engine holds, and every command still queued to it, with
    /// [`EndReason::StreamStopped`], and hands back as many completions as fit.
    pub(crate) fn stop(&mut self) {
        let t0 = self.clock;
        self.take_commands(t0);
        for slot in 0..A {
            if let Some(action) = self.slots[slot].as_mut() {
                if action.state != State::Ended {
                    action.end_with(EndReason::StreamStopped);
                    self.ended.push(slot as u16).ok();
                }
            }
        }
        self.staged.clear();
        self.pending.clear();
        self.active.clear();
        self.flush();
    }

    /// True when the engine holds no action and no command is queued to it.
    pub(crate) fn is_idle(&self) -> bool {
        self.free.len() == A && self.commands.peek().is_none()
    }

    fn take_commands(&mut self, t0: u64) {
        let waiting = self.commands.len();
        self.stats.queue_high_water = self.stats.queue_high_water.max(waiting);
        while self.commands.peek().is_some() {
            let Some(slot) = self.free.pop() else {
                break; // cannot happen while the controller keeps its admission limit
            };
            let Some(cmd) = self.commands.dequeue() else {
                self.free.push(slot).ok();
                break;
            };
            let group = cmd.group;
            let kind = match cmd.body {
                Body::Transfer { .. } => self.transfer_kind,
                Body::Cancel { .. } => ActionKind::Cancel,
                Body::Stats => ActionKind::Stats,
            };
            self.slots[usize::from(slot)] = Some(Action::from_command(cmd, kind));
            self.staged.push(slot).ok();
            if group != GroupMark::More {
                for i in 0..self.staged.len() {
                    self.resolve(self.staged[i], t0);
                }
                self.staged.clear();
            }
        }
    }

    /// Decides where a newly complete command goes: the schedule, or straight to the end
    /// when it is late and to be dropped.
    fn resolve(&mut self, slot: u16, t0: u64) {
        let Some(action) = self.slots[usize::from(slot)].as_mut() else {
            return;
        };
        let (frame, late_by) = match action.requested {
            At::Asap => (t0, 0),
            At::Frame(f) if f >= t0 => (f, 0),
            At::Frame(f) => (f, t0 - f),
        };
        action.late_by = late_by;
        let policy = match action.work {
            Work::Stats(_) => Late::StartNow,
            _ => action.late,
        };
        let origin = if late_by == 0 {
            frame
        } else {
            self.stats.late += 1;
            match policy {
                Late::Drop => {
                    action.end_with(EndReason::DroppedLate);
                    self.ended.push(slot).ok();
                    return;
                }
                Late::StartNow => t0,
                Late::Skip => frame,
            }
        };
        action.origin = origin;
        let end = match &action.work {
            Work::Transfer(t) => origin.checked_add(t.frames),
            _ => Some(origin),
        };
        let Some(end) = end else {
            // Only `Asap` or a late start near the end of the frame clock can get here
            // (the controller refuses explicit frames that would overflow).
            action.end_with(EndReason::Invalid);
            self.ended.push(slot).ok();
            return;
        };
        action.end = end;
        action.state = State::Pending;
        let due = Due {
            frame: origin,
            seq: action.id.seq(),
            slot,
        };
        let at = self.pending.partition_point(|d| *d > due);
        if self.pending.insert(at, due).is_err() {
            action.end_with(EndReason::Invalid);
            self.ended.push(slot).ok();
        }
    }

    fn start_due(&mut self, t0: u64, t1: u64) {
        while let Some(&due) = self.pending.last() {
            // The clock saturates at u64::MAX (after some 12 million years at 48 kHz):
            // there, everything still pending is due, so nothing waits forever.
            if due.frame >= t1 && t1 != u64::MAX {
                break;
            }
            self.pending.pop();
            self.activate(due.slot, t0);
        }
    }

    fn activate(&mut self, slot: u16, t0: u64) {
        let Some(action) = self.slots[usize::from(slot)].as_mut() else {
            return;
        };
        let at = action.origin.max(t0);
        match &mut action.work {
            Work::Transfer(t) => {
                action.skipped = (at - action.origin).min(t.frames);
                if t.frames > 0 && at >= action.end {
                    // Late with `Skip`, and every frame has already passed.
                    action.position = at;
                    action.end_with(EndReason::Finished);
                    self.ended.push(slot).ok();
                    return;
                }
                action.actual_start = Some(at);
                action.position = at;
                action.state = State::Active;
                let seq = action.id.seq();
                let slots = &self.slots;
                let place = self.active.partition_point(|&s| {
                    slots[usize::from(s)]
                        .as_ref()
                        .is_some_and(|a| a.id.seq() < seq)
                });
                self.active.insert(place, slot).ok();
            }
            Work::Stats(snapshot) => {
                *snapshot = Some(self.stats);
                self.stats = StreamStats::new(self.stats.direction);
                action.actual_start = Some(t0);
                action.end_with(EndReason::Finished);
                self.ended.push(slot).ok();
            }
            Work::Cancel { target_seq } => {
                let target_seq = *target_seq;
                action.actual_start = Some(at);
                let outcome = self.cut(target_seq, at);
                if let Some(action) = self.slots[usize::from(slot)].as_mut() {
                    action.end_with(outcome);
                }
                self.ended.push(slot).ok();
            }
        }
    }

    /// Applies a cancel at frame `at` to the action `target_seq`: any pending action is
    /// removed; a running transfer is cut.
    fn cut(&mut self, target_seq: u64, at: u64) -> EndReason {
        let found = self.slots.iter().position(|s| {
            s.as_ref().is_some_and(|a| {
                a.id.seq() == target_seq && matches!(a.state, State::Pending | State::Active)
            })
        });
        let Some(index) = found else {
            return EndReason::TargetNotActive;
        };
        let Some(target) = self.slots[index].as_mut() else {
            return EndReason::TargetNotActive;
        };
        let slot = index as u16;
        match target.state {
            State::Pending => {
                // It has not started: it never will.
                self.pending.retain(|d| d.slot != slot);
                target.end_with(EndReason::Cancelled { at });
                self.ended.push(slot).ok();
                EndReason::Cut
            }
            _ if target.end <= at => EndReason::TargetNotActive,
            _ if target.actual_start.is_some_and(|s| at <= s) => {
                // Cut before its first frame: nothing plays or records.
                target.actual_start = None;
                target.end = at;
                target.end_with(EndReason::Cancelled { at });
                self.active.retain(|&s| s != slot);
                self.ended.push(slot).ok();
                EndReason::Cut
            }
            _ => {
                target.end = at;
                target.cut = true;
                EndReason::Cut
            }
        }
    }

    /// Queues the completions of ended actions, oldest first, as far as there is room;
    /// the rest keep their slots and go out after a later block.
    fn flush(&mut self) {
        let mut sent = 0;
        for &slot in &self.ended {
            if !self.completions.ready() {
                break;
            }
            let Some(action) = self.slots[usize::from(slot)].take() else {
                sent += 1; // listed twice; its slot was freed the first time
                continue;
            };
            // Cannot fail: `ready()` said there is room, and this half is the queue's only
            // producer.
            let _ = self.completions.enqueue(action.into_done());
            self.free.push(slot).ok();
            sent += 1;
        }
        if sent > 0 {
            self.ended.rotate_left(sent);
            self.ended.truncate(self.ended.len() - sent);
            self.signal.notify();
        }
    }
}
