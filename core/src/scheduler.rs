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

/// The engine-side state of one direction. It lives in [`Queues`](crate::Queues), the
/// stream's storage, so the engine handle itself stays small: on a microcontroller all of
/// it is in a `static`, and nothing large is ever moved on a stack.
pub(crate) struct Schedule<B, const A: usize> {
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
}

impl<B, const A: usize> Schedule<B, A> {
    pub(crate) const fn new(direction: crate::Direction) -> Self {
        Self {
            slots: [const { None }; A],
            free: heapless::Vec::new(),
            staged: heapless::Vec::new(),
            pending: heapless::Vec::new(),
            active: heapless::Vec::new(),
            ended: heapless::Vec::new(),
            clock: 0,
            stats: StreamStats::new(direction),
        }
    }
}

/// The engine side of one direction: the queue ends and the state in the storage.
pub(crate) struct Scheduler<'a, B, const A: usize> {
    commands: Consumer<'a, Command<B>>,
    completions: Producer<'a, Done<B>>,
    st: &'a mut Schedule<B, A>,
    transfer_kind: ActionKind,
    signal: Signal,
}

impl<B, const A: usize> core::fmt::Debug for Scheduler<'_, B, A> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Scheduler")
            .field("clock", &self.st.clock)
            .field("held", &(A - self.st.free.len()))
            .field("pending", &self.st.pending.len())
            .field("active", &self.st.active.len())
            .field("stats", &self.st.stats)
            .finish_non_exhaustive()
    }
}

impl<'a, B, const A: usize> Scheduler<'a, B, A> {
    /// The engine side over freshly reset state.
    pub(crate) fn new(
        commands: Consumer<'a, Command<B>>,
        completions: Producer<'a, Done<B>>,
        st: &'a mut Schedule<B, A>,
        transfer_kind: ActionKind,
        signal: Signal,
    ) -> Self {
        st.free.clear();
        for slot in (0..A).rev() {
            // A fits in u16: checked when the queues are built.
            st.free.push(slot as u16).ok();
        }
        Self {
            commands,
            completions,
            st,
            transfer_kind,
            signal,
        }
    }

    pub(crate) fn clock(&self) -> u64 {
        self.st.clock
    }

    pub(crate) fn stats_mut(&mut self) -> &mut StreamStats {
        &mut self.st.stats
    }

    /// Runs one block of `frames` frames (or frames lost to an xrun, when `lost`).
    /// `transfer` processes one span of one active transfer and returns false if the span
    /// does not fit its buffers (which validation rules out).
    pub(crate) fn run<F>(&mut self, frames: u64, lost: bool, mut transfer: F)
    where
        F: FnMut(&mut Transfer<B>, Span, bool) -> bool,
    {
        let t0 = self.st.clock;
        let t1 = t0.saturating_add(frames);
        self.take_commands(t0);
        self.start_due(t0, t1);

        let ended_before = self.st.ended.len();
        for &slot in &self.st.active {
            let Some(action) = self.st.slots[usize::from(slot)].as_mut() else {
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
                self.st.ended.push(slot).ok();
            }
        }
        if self.st.ended.len() > ended_before {
            let slots = &self.st.slots;
            self.st.active.retain(|&slot| {
                slots[usize::from(slot)]
                    .as_ref()
                    .is_some_and(|a| a.state == State::Active)
            });
        }

        // Count the frames the clock really moved (it saturates at u64::MAX).
        self.st.clock = t1;
        if lost {
            self.st.stats.count_xrun(t1 - t0);
        } else {
            self.st.stats.count_block(t1 - t0);
        }
        self.flush();
    }

    /// Ends every action the engine holds, and every command still queued to it, with
    /// [`EndReason::StreamStopped`], and hands back as many completions as fit.
    pub(crate) fn stop(&mut self) {
        let t0 = self.st.clock;
        self.take_commands(t0);
        for slot in 0..A {
            if let Some(action) = self.st.slots[slot].as_mut() {
                if action.state != State::Ended {
                    action.end_with(EndReason::StreamStopped);
                    self.st.ended.push(slot as u16).ok();
                }
            }
        }
        self.st.staged.clear();
        self.st.pending.clear();
        self.st.active.clear();
        self.flush();
    }

    /// True when the engine holds no action and no command is queued to it.
    pub(crate) fn is_idle(&self) -> bool {
        self.st.free.len() == A && self.commands.peek().is_none()
    }

    fn take_commands(&mut self, t0: u64) {
        let waiting = self.commands.len();
        self.st.stats.queue_high_water = self.st.stats.queue_high_water.max(waiting);
        while self.commands.peek().is_some() {
            let Some(slot) = self.st.free.pop() else {
                break; // cannot happen while the controller keeps its admission limit
            };
            let Some(cmd) = self.commands.dequeue() else {
                self.st.free.push(slot).ok();
                break;
            };
            let group = cmd.group;
            let kind = match cmd.body {
                Body::Transfer { .. } => self.transfer_kind,
                Body::Cancel { .. } => ActionKind::Cancel,
                Body::Stats => ActionKind::Stats,
            };
            self.st.slots[usize::from(slot)] = Some(Action::from_command(cmd, kind));
            self.st.staged.push(slot).ok();
            if group != GroupMark::More {
                for i in 0..self.st.staged.len() {
                    self.resolve(self.st.staged[i], t0);
                }
                self.st.staged.clear();
            }
        }
    }

    /// Decides where a newly complete command goes: the schedule, or straight to the end
    /// when it is late and to be dropped.
    fn resolve(&mut self, slot: u16, t0: u64) {
        let Some(action) = self.st.slots[usize::from(slot)].as_mut() else {
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
            self.st.stats.late += 1;
            match policy {
                Late::Drop => {
                    action.end_with(EndReason::DroppedLate);
                    self.st.ended.push(slot).ok();
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
            self.st.ended.push(slot).ok();
            return;
        };
        action.end = end;
        action.state = State::Pending;
        let due = Due {
            frame: origin,
            seq: action.id.seq(),
            slot,
        };
        let at = self.st.pending.partition_point(|d| *d > due);
        if self.st.pending.insert(at, due).is_err() {
            action.end_with(EndReason::Invalid);
            self.st.ended.push(slot).ok();
        }
    }

    fn start_due(&mut self, t0: u64, t1: u64) {
        while let Some(&due) = self.st.pending.last() {
            // The clock saturates at u64::MAX (after some 12 million years at 48 kHz):
            // there, everything still pending is due, so nothing waits forever.
            if due.frame >= t1 && t1 != u64::MAX {
                break;
            }
            self.st.pending.pop();
            self.activate(due.slot, t0);
        }
    }

    fn activate(&mut self, slot: u16, t0: u64) {
        let Some(action) = self.st.slots[usize::from(slot)].as_mut() else {
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
                    self.st.ended.push(slot).ok();
                    return;
                }
                action.actual_start = Some(at);
                action.position = at;
                action.state = State::Active;
                let seq = action.id.seq();
                let slots = &self.st.slots;
                let place = self.st.active.partition_point(|&s| {
                    slots[usize::from(s)]
                        .as_ref()
                        .is_some_and(|a| a.id.seq() < seq)
                });
                self.st.active.insert(place, slot).ok();
            }
            Work::Stats(snapshot) => {
                *snapshot = Some(self.st.stats);
                self.st.stats = StreamStats::new(self.st.stats.direction);
                action.actual_start = Some(t0);
                action.end_with(EndReason::Finished);
                self.st.ended.push(slot).ok();
            }
            Work::Cancel { target_seq } => {
                let target_seq = *target_seq;
                action.actual_start = Some(at);
                let outcome = self.cut(target_seq, at);
                if let Some(action) = self.st.slots[usize::from(slot)].as_mut() {
                    action.end_with(outcome);
                }
                self.st.ended.push(slot).ok();
            }
        }
    }

    /// Applies a cancel at frame `at` to the action `target_seq`: any pending action is
    /// removed; a running transfer is cut.
    fn cut(&mut self, target_seq: u64, at: u64) -> EndReason {
        let found = self.st.slots.iter().position(|s| {
            s.as_ref().is_some_and(|a| {
                a.id.seq() == target_seq && matches!(a.state, State::Pending | State::Active)
            })
        });
        let Some(index) = found else {
            return EndReason::TargetNotActive;
        };
        let Some(target) = self.st.slots[index].as_mut() else {
            return EndReason::TargetNotActive;
        };
        let slot = index as u16;
        match target.state {
            State::Pending => {
                // It has not started: it never will.
                self.st.pending.retain(|d| d.slot != slot);
                target.end_with(EndReason::Cancelled { at });
                self.st.ended.push(slot).ok();
                EndReason::Cut
            }
            _ if target.end <= at => EndReason::TargetNotActive,
            _ if target.actual_start.is_some_and(|s| at <= s) => {
                // Cut before its first frame: nothing plays or records.
                target.actual_start = None;
                target.end = at;
                target.end_with(EndReason::Cancelled { at });
                self.st.active.retain(|&s| s != slot);
                self.st.ended.push(slot).ok();
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
        for &slot in &self.st.ended {
            if !self.completions.ready() {
                break;
            }
            let Some(action) = self.st.slots[usize::from(slot)].take() else {
                sent += 1; // listed twice; its slot was freed the first time
                continue;
            };
            // Cannot fail: `ready()` said there is room, and this half is the queue's only
            // producer.
            let _ = self.completions.enqueue(action.into_done());
            self.st.free.push(slot).ok();
            sent += 1;
        }
        if sent > 0 {
            self.st.ended.rotate_left(sent);
            self.st.ended.truncate(self.st.ended.len() - sent);
            self.signal.notify();
        }
    }
}
