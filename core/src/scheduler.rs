//! The schedule and life cycle of actions in one engine half, shared by output and input.
//!
//! One block `[t0, t1)` runs in these steps, each bounded by the slot count `A`:
//! 1. take the commands that arrived (group members wait in `staged` until their group is
//!    complete, then resolve together against `t0`; an action that follows another
//!    ([`At::After`](crate::At::After)) waits in `waiting` while that one's end is unknown);
//! 2. move the pending actions whose frame is below `t1` to the active set, in order of
//!    (frame, submission). Pending actions are kept sorted, so future ones cost nothing.
//!    A gain change takes effect between samples, so the block is cut into segments at
//!    the frames of gain changes, and each segment activates what is due at its start;
//! 3. let each active transfer process its part of each segment, in submission order (the
//!    order fixes the floating-point summation order, which the reference model mirrors),
//!    one span per repetition of a looping region;
//! 4. count the block in every action it touched, end those that reached their end, and
//!    hand ended actions back through the completion queue.
//!
//! Frames lost to an xrun run the same steps with `lost` set: the clock, the schedule and
//! every action move over them exactly as over a block, but nothing is mixed.
//!
//! Whenever an action's end becomes known or moves (it is scheduled, cut, or ends), the
//! actions that follow it are (re)timed to that frame, transitively.

use heapless::spsc::{Consumer, Producer};
use heapless::Deque;

use crate::action::{Action, Done, Span, State, Transfer, Work};
use crate::command::{Body, Command, Gain, GroupMark};
use crate::envelope::Ramp;
use crate::mix::Flow;
use crate::signal::Signal;
use crate::{ActionKind, EndReason, Ending, Late, StreamStats};

/// A pending action's place in the schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Due {
    frame: u64,
    seq: u64,
    slot: u16,
    /// A gain change, which starts a new segment.
    splits: bool,
}

/// What one engine half does with the spans and segments of a block.
pub(crate) trait Half<B> {
    /// Processes one span of one transfer.
    fn transfer(&mut self, t: &mut Transfer<B>, span: Span, lost: bool) -> Flow;

    /// Sets the master gain of `channel` to a ramp; false if this half has none.
    fn set_master(&mut self, channel: u16, ramp_to: f32, len: u64, at: u64) -> bool {
        let _ = (channel, ramp_to, len, at);
        false
    }

    /// Block frames `from..to` (starting at clock frame `frame`) are done.
    fn segment_done(&mut self, from: usize, to: usize, frame: u64, lost: bool) {
        let _ = (from, to, frame, lost);
    }
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
    /// Following an action whose end is not known yet.
    waiting: heapless::Vec<u16, A>,
    /// Sorted by (frame, seq), latest first: the next due action is the last element.
    pending: heapless::Vec<Due, A>,
    /// Sorted by seq.
    active: heapless::Vec<u16, A>,
    /// In the order they ended.
    ended: heapless::Vec<u16, A>,
    /// (seq, stop frame) of the last `A` actions handed back, for an [`At::After`](crate::At::After) that
    /// arrives just after the action it follows has left. The controller resolves older
    /// ones itself; at most `A` actions can end in between (its admission limit).
    recent: Deque<(u64, u64), A>,
    clock: u64,
    stats: StreamStats,
}

impl<B, const A: usize> Schedule<B, A> {
    pub(crate) const fn new(direction: crate::Direction) -> Self {
        Self {
            slots: [const { None }; A],
            free: heapless::Vec::new(),
            staged: heapless::Vec::new(),
            waiting: heapless::Vec::new(),
            pending: heapless::Vec::new(),
            active: heapless::Vec::new(),
            ended: heapless::Vec::new(),
            recent: Deque::new(),
            clock: 0,
            stats: StreamStats::new(direction),
        }
    }

    /// Empties it in place, dropping what it holds, as [`new`](Self::new) would make it.
    /// In place because a `Schedule` is large (tens of KB) and a fresh one assigned
    /// over it would be built on the stack first, which a microcontroller does not have.
    pub(crate) fn reset(&mut self) {
        for slot in &mut self.slots {
            *slot = None;
        }
        self.free.clear();
        self.staged.clear();
        self.waiting.clear();
        self.pending.clear();
        self.active.clear();
        self.ended.clear();
        self.recent.clear();
        self.clock = 0;
        self.stats = StreamStats::new(self.stats.direction);
    }
}

/// Where the action an [`At::After`](crate::At::After) follows stops, as far as known now.
enum StopFrame {
    Known(u64),
    Unknown,
    Missing,
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
    pub(crate) fn run(&mut self, frames: u64, lost: bool, half: &mut impl Half<B>) {
        let t0 = self.st.clock;
        let t1 = t0.saturating_add(frames);
        self.take_commands(t0);
        let mut seg = t0;
        loop {
            let seg_end = self.start_due(t0, seg, t1, half);
            self.process(t0, seg, seg_end, lost, half);
            half.segment_done((seg - t0) as usize, (seg_end - t0) as usize, seg, lost);
            if seg_end >= t1 {
                break;
            }
            seg = seg_end;
        }
        self.finish(t0, t1, lost);

        // Count the frames the clock really moved (it saturates at u64::MAX).
        self.st.clock = t1;
        if lost {
            self.st.stats.count_xrun(t1 - t0);
        } else {
            self.st.stats.count_block(t1 - t0);
        }
        self.flush();
    }

    /// Lets every active transfer process its part of `[seg, seg_end)`.
    fn process(&mut self, t0: u64, seg: u64, seg_end: u64, lost: bool, half: &mut impl Half<B>) {
        let stop_reason = match self.transfer_kind {
            ActionKind::Play => EndReason::Underflow,
            _ => EndReason::Overflow,
        };
        for &slot in &self.st.active {
            let Some(action) = self.st.slots[usize::from(slot)].as_mut() else {
                continue;
            };
            if action.state != State::Active {
                continue;
            }
            let from = action.position.max(seg);
            let to = action.end.min(seg_end);
            let Work::Transfer(t) = &mut action.work else {
                continue;
            };
            let mut frame = from;
            let mut outcome = Flow::Done;
            while frame < to && outcome == Flow::Done {
                // The play's own frame. `from_frame` may skip up to u64::MAX frames into an
                // endless loop; past 2^64 play frames the count wraps, as release builds
                // always did (found by fuzzing with overflow checks on).
                let play_frame = (frame - action.origin).wrapping_add(t.shape.offset);
                let (buffer_frame, left) = t.place(play_frame);
                if left == 0 {
                    outcome = Flow::Invalid; // an empty region never becomes active
                    break;
                }
                let n = (to - frame).min(left);
                if let Some(buffer_frame) = buffer_frame {
                    let span = Span {
                        frame,
                        block_frame: (frame - t0) as usize,
                        buffer_frame: buffer_frame as usize,
                        frames: n as usize,
                    };
                    outcome = half.transfer(t, span, lost);
                    if let Flow::Stop { frames } = outcome {
                        frame += frames;
                        break;
                    }
                }
                frame += n;
            }
            match outcome {
                Flow::Done => {
                    if from < to {
                        action.position = to;
                    }
                }
                Flow::Stop { .. } => {
                    // Its stream ran dry (or full): it ends here, as if cut.
                    action.position = frame;
                    action.end = frame;
                    action.stopped = Some(stop_reason);
                }
                Flow::Invalid => action.end_with(EndReason::Invalid, frame),
            }
        }
    }

    /// Counts the block in each action it touched, ends those that reached their end.
    fn finish(&mut self, t0: u64, t1: u64, lost: bool) {
        let ended_before = self.st.ended.len();
        let mut moved = false;
        for &slot in &self.st.active {
            let Some(action) = self.st.slots[usize::from(slot)].as_mut() else {
                continue;
            };
            let start = action.actual_start.unwrap_or(action.position).max(t0);
            let covered = action.end.min(t1).saturating_sub(start);
            if covered > 0 {
                if lost {
                    action.stats.xruns += 1;
                    action.stats.frames_lost += covered;
                } else {
                    action.stats.count_block(t1 - t0);
                }
            }
            if action.state == State::Active && action.position >= action.end {
                let reason = match (action.stopped, action.cut) {
                    (Some(reason), _) => reason,
                    (None, true) => EndReason::Cancelled { at: action.end },
                    (None, false) => EndReason::Finished,
                };
                action.end_with(reason, action.end);
            }
            if action.state == State::Ended {
                self.st.ended.push(slot).ok();
                // Its end was known (and its followers timed) unless a stream's policy or
                // an invalid span stopped it in this block.
                moved |= action.stopped.is_some() || action.reason == EndReason::Invalid;
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
        if moved {
            // By index: settling may end (and list) followers.
            let mut i = ended_before;
            while let Some(&slot) = self.st.ended.get(i) {
                i += 1;
                let Some(a) = self.st.slots[usize::from(slot)].as_ref() else {
                    continue;
                };
                if let (Some(at), true) = (
                    a.ended_at,
                    a.stopped.is_some() || a.reason == EndReason::Invalid,
                ) {
                    let seq = a.id.seq();
                    self.settle(seq, at, t1);
                }
            }
        }
    }

    /// Ends every action the engine holds, and every command still queued to it, with
    /// [`EndReason::StreamStopped`], and hands back as many completions as fit.
    pub(crate) fn stop(&mut self) {
        let t0 = self.st.clock;
        self.take_commands(t0);
        for slot in 0..A {
            if let Some(action) = self.st.slots[slot].as_mut() {
                if action.state != State::Ended {
                    action.end_with(EndReason::StreamStopped, t0);
                    self.st.ended.push(slot as u16).ok();
                }
            }
        }
        self.st.staged.clear();
        self.st.waiting.clear();
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
                Body::Gain { .. } => ActionKind::Gain,
                Body::Stats => ActionKind::Stats,
            };
            let known_end = cmd.after_end;
            let mut action = Action::from_command(cmd, kind);
            if let (Some(at), Some(_)) = (known_end, action.after) {
                // The controller already had the followed action's completion.
                action.requested_frame = Some(at);
            }
            self.st.slots[usize::from(slot)] = Some(action);
            self.st.staged.push(slot).ok();
            if group != GroupMark::More {
                for i in 0..self.st.staged.len() {
                    if let Some((seq, end)) = self.resolve(self.st.staged[i], t0) {
                        self.settle(seq, end, t0);
                    }
                }
                self.st.staged.clear();
            }
        }
    }

    /// Where the action with sequence number `seq` stops, if that is known.
    fn stop_frame(&self, seq: u64) -> StopFrame {
        let held = self.st.slots.iter().flatten().find(|a| a.id.seq() == seq);
        match held {
            Some(a) if a.state == State::Ended => {
                a.ended_at.map_or(StopFrame::Missing, StopFrame::Known)
            }
            // A transfer's end is known once it is scheduled (and moves it along if cut);
            // a command of another kind stops where it takes effect.
            Some(a)
                if matches!(a.state, State::Pending | State::Active)
                    && matches!(a.work, Work::Transfer(_))
                    && a.end != u64::MAX =>
            {
                StopFrame::Known(a.end)
            }
            Some(_) => StopFrame::Unknown,
            None => self
                .st
                .recent
                .iter()
                .find(|(s, _)| *s == seq)
                .map_or(StopFrame::Missing, |&(_, at)| StopFrame::Known(at)),
        }
    }

    /// Decides where a newly complete command goes: the schedule, the waiting list (it
    /// follows an action whose end is unknown), or straight to the end when it is late and
    /// to be dropped. It is late if its frame is before `now` (the start of the block, or of
    /// the segment in which what it follows stopped). Returns its sequence number and stop
    /// frame once they are known, for [`settle`](Self::settle).
    fn resolve(&mut self, slot: u16, now: u64) -> Option<(u64, u64)> {
        let action = self.st.slots[usize::from(slot)].as_ref()?;
        // A frame already known (set by `settle`, or by the controller) comes first.
        let known = action.requested_frame.or(action.requested.frame());
        let requested = match (known, action.after) {
            (Some(f), _) => f,
            (None, Some(seq)) => match self.stop_frame(seq) {
                StopFrame::Known(f) => f,
                StopFrame::Unknown => {
                    if let Some(a) = self.st.slots[usize::from(slot)].as_mut() {
                        a.state = State::Waiting;
                    }
                    self.st.waiting.push(slot).ok();
                    return None;
                }
                // Ruled out by the controller and `recent`; refuse rather than guess.
                StopFrame::Missing => return self.end_now(slot, EndReason::Invalid, now),
            },
            (None, None) => now,
        };
        let action = self.st.slots[usize::from(slot)].as_mut()?;
        action.requested_frame = Some(requested);
        let late_by = now.saturating_sub(requested);
        action.late_by = late_by;
        let policy = match action.work {
            Work::Stats(_) => Late::StartNow,
            _ => action.late,
        };
        let origin = if late_by == 0 {
            requested
        } else {
            self.st.stats.late += 1;
            match policy {
                Late::Drop => return self.end_now(slot, EndReason::DroppedLate, now),
                Late::StartNow => now,
                Late::Skip => requested,
            }
        };
        action.origin = origin;
        let end = match &mut action.work {
            Work::Transfer(t) => {
                t.env.origin = origin;
                t.env.refresh();
                match t.shape.total {
                    Some(total) => origin.checked_add(total.saturating_sub(t.shape.offset)),
                    None => Some(u64::MAX),
                }
            }
            _ => Some(origin),
        };
        let Some(end) = end else {
            // Only `Asap` or a late start near the end of the frame clock can get here
            // (the controller refuses explicit frames that would overflow).
            return self.end_now(slot, EndReason::Invalid, now);
        };
        action.end = end;
        action.state = State::Pending;
        let due = Due {
            frame: origin,
            seq: action.id.seq(),
            slot,
            splits: matches!(action.work, Work::Gain { .. }),
        };
        let at = self.st.pending.partition_point(|d| *d > due);
        let seq = action.id.seq();
        if self.st.pending.insert(at, due).is_err() {
            return self.end_now(slot, EndReason::Invalid, now);
        }
        let transfer = matches!(action.work, Work::Transfer(_));
        (transfer && end != u64::MAX).then_some((seq, end))
    }

    /// Ends the action in `slot` before it was scheduled, stopped at `now`.
    fn end_now(&mut self, slot: u16, reason: EndReason, now: u64) -> Option<(u64, u64)> {
        let action = self.st.slots[usize::from(slot)].as_mut()?;
        action.end_with(reason, now);
        self.st.ended.push(slot).ok();
        Some((action.id.seq(), now))
    }

    /// The action `seq` now stops at `end`: (re)time every action that follows it, and
    /// their followers in turn. Only actions that have not started are moved.
    fn settle(&mut self, seq: u64, end: u64, now: u64) {
        let mut work = heapless::Vec::<(u64, u64), A>::new();
        work.push((seq, end)).ok();
        while let Some((seq, end)) = work.pop() {
            for slot in 0..A {
                let Some(a) = self.st.slots[slot].as_mut() else {
                    continue;
                };
                if a.after != Some(seq) || !matches!(a.state, State::Waiting | State::Pending) {
                    continue;
                }
                let slot = slot as u16;
                if a.state == State::Pending && a.requested_frame == Some(end) {
                    continue;
                }
                a.requested_frame = Some(end);
                if a.state == State::Waiting {
                    self.st.waiting.retain(|&s| s != slot);
                } else {
                    self.st.pending.retain(|d| d.slot != slot);
                }
                if let Some(next) = self.resolve(slot, now) {
                    work.push(next).ok();
                }
            }
        }
    }

    /// Moves the due actions to the active set, up to the next gain change after `seg`,
    /// and returns the end of the segment that starts at `seg`.
    fn start_due(&mut self, t0: u64, seg: u64, t1: u64, half: &mut impl Half<B>) -> u64 {
        while let Some(&due) = self.st.pending.last() {
            // The clock saturates at u64::MAX (after some 12 million years at 48 kHz):
            // there, everything still pending is due, so nothing waits forever.
            if due.frame >= t1 && t1 != u64::MAX {
                break;
            }
            if due.splits && due.frame > seg {
                return due.frame.min(t1);
            }
            self.st.pending.pop();
            self.activate(due.slot, t0, seg, half);
        }
        t1
    }

    /// Carries out a due action at `now`, the start of the current segment of the block
    /// that starts at `t0`. Its frame is `now` or later, unless it is late (then `now` is
    /// `t0`) or it was timed during this block, after its frame (it follows an action that
    /// stopped earlier in the block): either way it starts at `now` at the earliest.
    fn activate(&mut self, slot: u16, t0: u64, now: u64, half: &mut impl Half<B>) {
        let Some(action) = self.st.slots[usize::from(slot)].as_mut() else {
            return;
        };
        let at = action.origin.max(now);
        match &mut action.work {
            Work::Transfer(_) => {
                action.skipped = at - action.origin;
                if action.has_frames() && at >= action.end {
                    // Late with `Skip`, and every frame has already passed.
                    action.skipped = action.end - action.origin;
                    action.position = at;
                    let end = action.end;
                    action.end_with(EndReason::Finished, end);
                    self.st.ended.push(slot).ok();
                    return;
                }
                if !action.has_frames() {
                    action.skipped = 0;
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
                self.finish_control(slot, EndReason::Finished, t0, now);
            }
            Work::Cancel { target_seq, ending } => {
                let (target_seq, ending) = (*target_seq, *ending);
                action.actual_start = Some(at);
                let outcome = self.cut(target_seq, at, ending, now);
                self.finish_control(slot, outcome, at, now);
            }
            Work::Gain { target, gain, ramp } => {
                let (target, gain, ramp) = (*target, *gain, *ramp);
                // A ramp is placed at its frame, even a late one with `Skip`.
                let start = action.origin;
                action.actual_start = Some(at);
                let outcome = match target {
                    Gain::Master(channel) => {
                        if half.set_master(channel, gain, ramp, start) {
                            EndReason::Finished
                        } else {
                            EndReason::TargetNotActive
                        }
                    }
                    Gain::Action(seq) => self.retune(seq, gain, ramp, start),
                };
                self.finish_control(slot, outcome, at, now);
            }
        }
    }

    /// Ends a command that took effect at `at`, and starts what follows it.
    fn finish_control(&mut self, slot: u16, outcome: EndReason, at: u64, now: u64) {
        if let Some(action) = self.st.slots[usize::from(slot)].as_mut() {
            action.end_with(outcome, at);
            let seq = action.id.seq();
            self.st.ended.push(slot).ok();
            self.settle(seq, at, now);
        }
    }

    /// The held, not yet ended action with sequence number `seq`.
    fn find_live(&mut self, seq: u64) -> Option<(u16, &mut Action<B>)> {
        self.st.slots.iter_mut().enumerate().find_map(|(i, s)| {
            s.as_mut()
                .filter(|a| {
                    a.id.seq() == seq
                        && matches!(a.state, State::Pending | State::Active | State::Waiting)
                })
                .map(|a| (i as u16, a))
        })
    }

    /// Ramps the gain of the play `seq` to `gain` over `len` frames from frame `start`.
    fn retune(&mut self, seq: u64, gain: f32, len: u64, start: u64) -> EndReason {
        let Some((_, target)) = self.find_live(seq) else {
            return EndReason::TargetNotActive;
        };
        if target.state == State::Active && target.end <= start {
            return EndReason::TargetNotActive;
        }
        let Work::Transfer(t) = &mut target.work else {
            return EndReason::TargetNotActive;
        };
        t.env.gain = Ramp {
            start,
            len,
            from: t.env.gain.value(start),
            to: gain,
        };
        t.env.refresh();
        EndReason::Finished
    }

    /// Applies a cancel at frame `at` to the action `target_seq`: an action that has not
    /// started is removed; a running transfer stops as `ending` says.
    fn cut(&mut self, target_seq: u64, at: u64, ending: Ending, now: u64) -> EndReason {
        let Some((slot, target)) = self.find_live(target_seq) else {
            return EndReason::TargetNotActive;
        };
        if target.state != State::Active {
            // It has not started: it never will.
            let state = target.state;
            target.actual_start = None;
            target.end_with(EndReason::Cancelled { at }, at);
            match state {
                State::Waiting => self.st.waiting.retain(|&s| s != slot),
                _ => self.st.pending.retain(|d| d.slot != slot),
            }
            self.st.ended.push(slot).ok();
            self.settle(target_seq, at, now);
            return EndReason::Cut;
        }
        let new_end = match ending {
            Ending::Cut | Ending::FadeOut(0) => at,
            Ending::FadeOut(n) => at.saturating_add(n),
            // The repetition playing at `at` finishes; in a gap it stops at once.
            Ending::AfterRepetition => match &target.work {
                Work::Transfer(t) => t
                    .repetition_end(at.saturating_sub(target.origin) + t.shape.offset)
                    .map_or(at, |end| {
                        target.origin.saturating_add(end - t.shape.offset.min(end))
                    }),
                _ => at,
            },
        };
        if target.end <= at || (new_end >= target.end && ending == Ending::AfterRepetition) {
            return EndReason::TargetNotActive;
        }
        if let (Ending::FadeOut(n @ 1..), Work::Transfer(t)) = (ending, &mut target.work) {
            t.env.cut = Ramp {
                start: at,
                len: n,
                from: 1.0,
                to: 0.0,
            };
            t.env.refresh();
        }
        let new_end = new_end.min(target.end);
        if target.actual_start.is_some_and(|s| new_end <= s) {
            // Stopped before its first frame: nothing plays or records.
            target.actual_start = None;
            target.end = new_end;
            target.end_with(EndReason::Cancelled { at: new_end }, new_end);
            self.st.active.retain(|&s| s != slot);
            self.st.ended.push(slot).ok();
        } else {
            target.end = new_end;
            target.cut = true;
        }
        self.settle(target_seq, new_end, now);
        EndReason::Cut
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
            if let Some(at) = action.ended_at {
                if self.st.recent.is_full() {
                    self.st.recent.pop_front();
                }
                self.st.recent.push_back((action.id.seq(), at)).ok();
            }
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
