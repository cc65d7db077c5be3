//! The schedule and life cycle of actions in one engine half, shared by output and input.
//!
//! One block `[t0, t1)` runs in these steps:
//! 1. take the commands that arrived, each into the slot the controller gave it (group
//!    members wait in `staged` until their group is complete, then resolve together against
//!    `t0`; an action that follows another ([`At::After`](crate::At::After)) waits, listed
//!    under that one, while its end is unknown);
//! 2. move the pending actions whose frame is below `t1` to the active set, in order of
//!    (frame, submission): the pending heap's top. A gain change or a faded cancel takes
//!    effect between samples, so the block is cut into segments at their frames, and each
//!    segment activates what is due at its start;
//! 3. let each active transfer process its part of each segment, in submission order (the
//!    order fixes the floating-point summation order, which the reference model mirrors),
//!    one span per repetition of a looping region;
//! 4. count the block in every action it touched, end those that reached their end, and
//!    hand ended actions back through the completion queue as far as it has room; the
//!    rest keep their slots and go out after a later block.
//!
//! Frames lost to an xrun run the same steps with `lost` set: the clock, the schedule and
//! every action move over them exactly as over a block, but nothing is mixed.
//!
//! Whenever an action's end becomes known or moves (it is scheduled, cut, or ends), the
//! actions that follow it are (re)timed to that frame, transitively. The work of every
//! step grows with what it works on (commands arriving, actions due, active, ended or
//! following), never with the number of slots (docs/performance.md).

use crate::action::{Action, Done, Snapshot, Span, State, Transfer, Work};
use crate::channel_map::MapStore;
use crate::command::{Command, Gain, GroupMark, Target, When, NONE};
use crate::completion::End;
use crate::envelope::Ramp;
use crate::home::{Home, Receiver, Sender};
use crate::mix::Flow;
use crate::signal::Signal;
use crate::slots::{List, Slot, Slots, NIL};
use crate::{ActionKind, EndReason, Ending, Late, StreamStats};

/// What one engine half does with the spans and segments of a block.
pub(crate) trait Half<B, Mp> {
    /// Processes one span of one transfer.
    fn transfer(&mut self, t: &mut Transfer<B, Mp>, span: Span, lost: bool) -> Flow;

    /// Whether this half ever plays spans plainly ([`plain`](Self::plain)): if not, the
    /// scheduler does not look for groups of them.
    const GROUPS: bool = false;

    /// The samples of `span` if `t` plays them plainly: mixing them is `out += sample`.
    fn plain<'t>(&self, t: &'t Transfer<B, Mp>, span: Span) -> Option<&'t [f32]> {
        let _ = (t, span);
        None
    }

    /// Mixes the plain samples of [`GROUP`] transfers that follow one another on the
    /// active list, all for the block frames of `span`, as mixing them one by one in that
    /// order would: true. False, with nothing mixed, if `span` is not in the block.
    fn mix_plain(&mut self, span: Span, group: [&[f32]; GROUP]) -> bool {
        let _ = (span, group);
        false
    }

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

/// How many active transfers a half may be handed at once ([`Half::transfer_group`]): a
/// mix of four voices in one sweep loads and stores each output sample once, not four
/// times (docs/performance.md).
pub(crate) const GROUP: usize = 4;

/// Where the action an [`At::After`](crate::At::After) follows stops, as far as known now.
enum StopFrame {
    Known(u64),
    Unknown,
    Missing,
}

/// The queue ends one engine half holds.
pub(crate) struct Ends<B: 'static, Mp: 'static, H: Home> {
    pub(crate) commands: H::Rx<Command<B, Mp>>,
    pub(crate) completions: H::Tx<Done<B>>,
    pub(crate) snapshots: H::Tx<Snapshot>,
}

/// The engine side of one direction: its queue ends, its slots and its clock.
pub(crate) struct Scheduler<B: 'static, Mp: 'static, H: Home> {
    ends: Ends<B, Mp, H>,
    st: Slots<H::Array<Slot<B, Mp>>, H::Array<u16>>,
    clock: u64,
    stats: StreamStats,
    transfer_kind: ActionKind,
    signal: Signal,
}

impl<B, Mp, H: Home> core::fmt::Debug for Scheduler<B, Mp, H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Scheduler")
            .field("clock", &self.clock)
            .field("slots", &self.st.len())
            .field("held", &self.st.held())
            .field("pending", &self.st.pending())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl<B, Mp: MapStore, H: Home> Scheduler<B, Mp, H> {
    /// The engine side over `slots` and a pending heap of the same length.
    pub(crate) fn new(
        ends: Ends<B, Mp, H>,
        slots: H::Array<Slot<B, Mp>>,
        heap: H::Array<u16>,
        transfer_kind: ActionKind,
        direction: crate::Direction,
        signal: Signal,
    ) -> Self {
        Self {
            ends,
            st: Slots::new(slots, heap),
            clock: 0,
            stats: StreamStats::new(direction),
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
    pub(crate) fn run(&mut self, frames: u64, lost: bool, half: &mut impl Half<B, Mp>) {
        let t0 = self.clock;
        let t1 = t0.saturating_add(frames);
        self.take_commands(t0);
        let mut seg = t0;
        loop {
            let seg_end = self.start_due(t0, seg, t1, half);
            // The last segment also closes the block for each action, in the same walk.
            let last = seg_end >= t1;
            self.process(t0, seg, seg_end, lost, last.then_some(t1), half);
            half.segment_done((seg - t0) as usize, (seg_end - t0) as usize, seg, lost);
            if last {
                break;
            }
            seg = seg_end;
        }
        self.drain_settle(t1);

        // Count the frames the clock really moved (it saturates at u64::MAX).
        self.clock = t1;
        if lost {
            self.stats.count_xrun(t1 - t0);
        } else {
            self.stats.count_block(t1 - t0);
        }
        self.flush();
    }

    /// Lets every active transfer process its part of `[seg, seg_end)`; with `close` (the
    /// end of the block, in its last segment), then closes the block for each
    /// ([`close`](Self::close)).
    fn process<P: Half<B, Mp>>(
        &mut self,
        t0: u64,
        seg: u64,
        seg_end: u64,
        lost: bool,
        close: Option<u64>,
        half: &mut P,
    ) {
        let stop_reason = self.stop_reason();
        let mut slot = self.st.active.head;
        // Those not processed yet (nothing joins or leaves the list before they are).
        let mut left = self.st.active_len();
        while slot != NIL {
            let grouped = P::GROUPS && !lost && left >= GROUP;
            let (run, after) = self.process_some(slot, t0, seg, seg_end, grouped, lost, half);
            left -= run.iter().filter(|&&s| s != NIL).count().min(left);
            if let Some(t1) = close {
                for slot in run.into_iter().filter(|&s| s != NIL) {
                    self.close(slot, t0, t1, lost, stop_reason);
                }
            }
            slot = after;
        }
    }

    /// Processes the active transfer in `slot`, or (if `grouped`, and they play plainly)
    /// the [`GROUP`] from it on; returns the slots processed (the rest [`NIL`]) and the
    /// slot after them.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    fn process_some<P: Half<B, Mp>>(
        &mut self,
        slot: u16,
        t0: u64,
        seg: u64,
        seg_end: u64,
        grouped: bool,
        lost: bool,
        half: &mut P,
    ) -> ([u16; GROUP], u16) {
        if grouped {
            if let Some(group) = self.process_plain_group(slot, t0, seg, seg_end, half) {
                return group;
            }
        }
        let mut one = [NIL; GROUP];
        one[0] = slot;
        let next = self.st.next(slot);
        if let Some(action) = self.st.get_mut(slot) {
            if action.state == State::Active {
                process_one(action, t0, seg, seg_end, lost, half);
            }
        }
        (one, next)
    }

    /// Mixes the [`GROUP`] active transfers from `slot` on in one sweep if each plays one
    /// plain span over the same frames of `[seg, seg_end)`; returns their slots and the
    /// slot after them. `None`, with nothing done, if they do not.
    #[inline]
    fn process_plain_group<P: Half<B, Mp>>(
        &mut self,
        slot: u16,
        t0: u64,
        seg: u64,
        seg_end: u64,
        half: &mut P,
    ) -> Option<([u16; GROUP], u16)> {
        // The first alone, before borrowing the rest: most failures end here, cheaply.
        let (t, span) = lone_span(self.st.get(slot)?, t0, seg, seg_end)?;
        half.plain(t, span)?;
        let (run, mut actions, after) = self.st.run_of::<GROUP>(slot)?;
        let mut group: [&[f32]; GROUP] = [&[]; GROUP];
        let (first, rest) = group.split_at_mut(1);
        let Work::Transfer(t) = &actions[0].as_deref()?.work else {
            return None;
        };
        // Its span is known: only its samples are borrowed again.
        first[0] = half.plain(t, span)?;
        for (samples, action) in rest.iter_mut().zip(&actions[1..]) {
            let (t, s) = lone_span(action.as_deref()?, t0, seg, seg_end)?;
            if (s.frame, s.frames) != (span.frame, span.frames) {
                return None;
            }
            *samples = half.plain(t, s)?;
        }
        if !half.mix_plain(span, group) {
            return None;
        }
        for action in actions.iter_mut().flatten() {
            // Its lone span ended at the segment's end or at its own.
            action.position = action.end.min(seg_end);
        }
        Some((run, after))
    }

    /// Counts the block `[t0, t1)` in the action in `slot` if the block touched it, and
    /// ends the action if it reached its end.
    fn close(&mut self, slot: u16, t0: u64, t1: u64, lost: bool, stop_reason: EndReason) {
        let Some(action) = self.st.get_mut(slot) else {
            return;
        };
        let start = if action.actual_start == NONE {
            action.position
        } else {
            action.actual_start
        }
        .max(t0);
        let covered = action.end.min(t1).saturating_sub(start);
        if covered > 0 {
            if lost {
                action.stats.count_xrun(covered);
            } else {
                action.stats.count_block(t1 - t0);
            }
        }
        if action.state == State::Active && action.position >= action.end {
            let reason = match (action.stopped, action.cut) {
                (true, _) => stop_reason,
                (false, true) => EndReason::Cancelled { at: action.end },
                (false, false) => EndReason::Finished,
            };
            let end = action.end;
            action.end_with(reason, end);
        }
        if action.state == State::Ended {
            // Its end was known (and its followers timed) unless a stream's policy or an
            // invalid span stopped it in this block, or it ran until the end of the frame
            // clock.
            let moved = action.stopped || action.reason == End::Invalid || action.ended_at == NONE;
            self.st.unlink(List::Active, slot);
            self.st.push_back(List::Ended, slot);
            if moved {
                self.st.queue_settle(slot);
            }
        }
    }

    /// Why a stream that its policy stopped ended.
    fn stop_reason(&self) -> EndReason {
        match self.transfer_kind {
            ActionKind::Play => EndReason::Underflow,
            _ => EndReason::Overflow,
        }
    }

    /// Ends every action the engine holds, and every command still queued to it, with
    /// [`EndReason::StreamStopped`], and hands back as many completions as fit.
    pub(crate) fn stop(&mut self) {
        let t0 = self.clock;
        self.take_commands(t0);
        self.st.clear_lists();
        for slot in 0..self.st.len() {
            let slot = slot as u16;
            if let Some(action) = self.st.get_mut(slot) {
                if action.state != State::Ended {
                    action.end_with(EndReason::StreamStopped, t0);
                    self.st.push_back(List::Ended, slot);
                }
            }
        }
        self.flush();
    }

    /// True when the engine holds no action and no command is queued to it.
    pub(crate) fn is_idle(&self) -> bool {
        self.st.held() == 0 && self.ends.commands.waiting() == 0
    }

    fn take_commands(&mut self, t0: u64) {
        let waiting = self.ends.commands.waiting();
        self.stats.queue_high_water = self.stats.queue_high_water.max(waiting);
        while let Some(cmd) = self.ends.commands.receive() {
            let group = cmd.group;
            let (slot, seq) = (cmd.slot, cmd.seq);
            let kind = cmd.kind(self.transfer_kind);
            let action = Action::from_command(cmd, kind);
            if let Err(action) = self.st.put(slot, seq, action) {
                // The controller gives a slot again only once its last action's completion
                // was taken, so this cannot happen; if it did, the command ends at once.
                self.refuse(slot, seq, action, t0);
                continue;
            }
            self.st.push_back(List::Staged, slot);
            if group != GroupMark::More {
                while let Some(member) = self.st.pop_front(List::Staged) {
                    self.resolve(member, t0);
                }
                self.drain_settle(t0);
            }
        }
    }

    /// Hands back, as [`EndReason::Invalid`], a command whose slot was taken.
    fn refuse(&mut self, slot: u16, seq: u64, mut action: Action<B, Mp>, now: u64) {
        action.end_with(EndReason::Invalid, now);
        if let Err(done) = self.ends.completions.send(action.into_done(slot, seq)) {
            // No room either: keep it from being freed on the audio thread.
            core::mem::forget(done);
        }
    }

    /// Where the action `target` stops, if that is known.
    fn stop_frame(&mut self, target: Target) -> StopFrame {
        if let Some(a) = self.st.find(target.slot, target.seq) {
            return match a.state {
                State::Ended if a.ended_at != NONE => StopFrame::Known(a.ended_at),
                State::Ended => StopFrame::Missing,
                // A transfer's end is known once it is scheduled (and moves it along if
                // cut); a command of another kind stops where it takes effect.
                State::Pending | State::Active
                    if matches!(a.work, Work::Transfer(_)) && a.end != u64::MAX =>
                {
                    StopFrame::Known(a.end)
                }
                _ => StopFrame::Unknown,
            };
        }
        self.st
            .left_at(target.slot, target.seq)
            .map_or(StopFrame::Missing, StopFrame::Known)
    }

    /// Decides where a newly complete command goes: the schedule, the follower list of the
    /// action it follows (while that one's end is unknown), or straight to the end when it
    /// is late and to be dropped. It is late if its frame is before `now` (the start of the
    /// block, or of the segment in which what it follows stopped). Once its own end is
    /// known, its followers are queued for retiming.
    fn resolve(&mut self, slot: u16, now: u64) {
        let Some(action) = self.st.get(slot) else {
            return;
        };
        let after = action.after();
        // A frame already known (set by `settle`, or by the controller) comes first.
        let known = match (action.requested_frame, action.when) {
            (f, _) if f != NONE => Some(f),
            (_, When::Frame(f)) => Some(f),
            _ => None,
        };
        if let Some(target) = after {
            self.list_follower(slot, target);
        }
        let requested = match (known, after) {
            (Some(f), _) => f,
            (None, Some(target)) => match self.stop_frame(target) {
                StopFrame::Known(f) => f,
                StopFrame::Unknown => {
                    if let Some(a) = self.st.get_mut(slot) {
                        a.state = State::Waiting;
                    }
                    return;
                }
                // Ruled out by the controller and the slot's record; refuse rather than
                // guess.
                StopFrame::Missing => return self.end_now(slot, EndReason::Invalid, now),
            },
            (None, None) => now,
        };
        let Some(action) = self.st.get_mut(slot) else {
            return;
        };
        action.requested_frame = requested;
        let late_by = now.saturating_sub(requested);
        action.late_by = late_by;
        let origin = if late_by == 0 {
            requested
        } else {
            self.stats.late += 1;
            // A stats fetch comes with `Late::StartNow` (`Controller::send_stats`).
            match action.late {
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
                match t.shape.total() {
                    Some(total) => origin.checked_add(total.saturating_sub(t.env.offset)),
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
        let transfer = matches!(action.work, Work::Transfer(_));
        self.st.schedule(slot);
        if transfer && end != u64::MAX {
            self.st.queue_settle(slot);
        }
    }

    /// Lists `slot` under the action it follows, while that one is here and may still
    /// move its end.
    fn list_follower(&mut self, slot: u16, target: Target) {
        let listed = self.st.get(slot).is_some_and(|a| {
            matches!(a.state, State::Waiting | State::Pending) // already listed when retimed
        });
        if listed {
            return;
        }
        let here = self
            .st
            .find(target.slot, target.seq)
            .is_some_and(|t| t.state != State::Ended);
        if here {
            self.st.follow(slot, target.slot);
        }
    }

    /// Ends the action in `slot` before it was scheduled, stopped at `now`.
    fn end_now(&mut self, slot: u16, reason: EndReason, now: u64) {
        if let Some(action) = self.st.get_mut(slot) {
            action.end_with(reason, now);
            self.st.push_back(List::Ended, slot);
            self.st.queue_settle(slot);
        }
    }

    /// Retimes the followers of every action queued for it, and theirs in turn, against
    /// `now`. Only actions that have not started are moved.
    fn drain_settle(&mut self, now: u64) {
        while let Some(target) = self.st.next_settle() {
            if self.st.get(target).is_none() {
                continue;
            }
            let seq = self.st.seq(target);
            let end = match self.stop_frame(Target { slot: target, seq }) {
                StopFrame::Known(end) => end,
                // It stopped at the end of the frame clock, after which no frame is
                // left: retimed to no frame, its followers end as invalid.
                StopFrame::Missing => NONE,
                StopFrame::Unknown => continue,
            };
            let mut follower = self.st.first_follower(target);
            while follower != NIL {
                let next = self.st.next_follower(follower);
                self.retime(follower, end, now);
                follower = next;
            }
        }
    }

    /// The action `slot` follows one that now stops at `end`: time it there.
    fn retime(&mut self, slot: u16, end: u64, now: u64) {
        let Some(a) = self.st.get_mut(slot) else {
            return;
        };
        if !matches!(a.state, State::Waiting | State::Pending) {
            return;
        }
        if a.state == State::Pending && a.requested_frame == end {
            return;
        }
        a.requested_frame = end;
        let pending = a.state == State::Pending;
        if pending {
            self.st.unschedule(slot);
        }
        self.resolve(slot, now);
    }

    /// Moves the due actions to the active set, up to the next gain change after `seg`,
    /// and returns the end of the segment that starts at `seg`.
    fn start_due(&mut self, t0: u64, seg: u64, t1: u64, half: &mut impl Half<B, Mp>) -> u64 {
        while let Some(slot) = self.st.next_due() {
            let Some(due) = self.st.get(slot) else {
                self.st.unschedule(slot);
                continue;
            };
            // The clock saturates at u64::MAX (after some 12 million years at 48 kHz):
            // there, everything still pending is due, so nothing waits forever.
            if due.origin >= t1 && t1 != u64::MAX {
                break;
            }
            if splits(&due.work) && due.origin > seg {
                return due.origin.min(t1);
            }
            self.st.unschedule(slot);
            self.activate(slot, t0, seg, half);
        }
        t1
    }

    /// Carries out a due action at `now`, the start of the current segment of the block
    /// that starts at `t0`. Its frame is `now` or later, unless it is late (then `now` is
    /// `t0`) or it was timed during this block, after its frame (it follows an action that
    /// stopped earlier in the block): either way it starts at `now` at the earliest.
    fn activate(&mut self, slot: u16, t0: u64, now: u64, half: &mut impl Half<B, Mp>) {
        let seq = self.st.seq(slot);
        let Some(action) = self.st.get_mut(slot) else {
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
                    self.st.push_back(List::Ended, slot);
                    return;
                }
                if !action.has_frames() {
                    action.skipped = 0;
                }
                action.actual_start = at;
                action.position = at;
                action.state = State::Active;
                self.st.activate(slot);
            }
            Work::Stats => {
                let snapshot = Snapshot {
                    seq,
                    stats: self.stats,
                };
                action.actual_start = t0;
                // The controller admits no more stats fetches than this queue holds.
                let outcome = match self.ends.snapshots.send(snapshot) {
                    Ok(()) => {
                        self.stats = StreamStats::new(self.stats.direction);
                        EndReason::Finished
                    }
                    Err(_) => EndReason::Invalid,
                };
                self.finish_control(slot, outcome, t0, now);
            }
            Work::Cancel { target, ending } => {
                let (target, ending) = (*target, *ending);
                action.actual_start = at;
                let outcome = self.cut(target, at, ending, now);
                self.finish_control(slot, outcome, at, now);
            }
            Work::Gain { target, gain, ramp } => {
                let (target, gain, ramp) = (*target, *gain, *ramp);
                // A ramp is placed at its frame, even a late one with `Skip`.
                let start = action.origin;
                action.actual_start = at;
                let outcome = match target {
                    Gain::Master(channel) => {
                        if half.set_master(channel, gain, ramp, start) {
                            EndReason::Finished
                        } else {
                            EndReason::TargetNotActive
                        }
                    }
                    Gain::Action(target) => self.retune(target, gain, ramp, start),
                };
                self.finish_control(slot, outcome, at, now);
            }
        }
    }

    /// Ends a command that took effect at `at`, and starts what follows it.
    fn finish_control(&mut self, slot: u16, outcome: EndReason, at: u64, now: u64) {
        if let Some(action) = self.st.get_mut(slot) {
            action.end_with(outcome, at);
            self.st.push_back(List::Ended, slot);
            self.st.queue_settle(slot);
            self.drain_settle(now);
        }
    }

    /// The action `target`, if it is here and scheduled or running.
    fn find_live(&mut self, target: Target) -> Option<&mut Action<B, Mp>> {
        self.st
            .find(target.slot, target.seq)
            .filter(|a| a.is_live())
    }

    /// Ramps the gain of the play `target` to `gain` over `len` frames from frame `start`.
    fn retune(&mut self, target: Target, gain: f32, len: u64, start: u64) -> EndReason {
        let Some(target) = self.find_live(target) else {
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

    /// Applies a cancel at frame `at` to the action `target`: an action that has not
    /// started is removed; a running transfer stops as `ending` says.
    fn cut(&mut self, target: Target, at: u64, ending: Ending, now: u64) -> EndReason {
        let slot = target.slot;
        let Some(t) = self.find_live(target) else {
            return EndReason::TargetNotActive;
        };
        if t.state != State::Active {
            // It has not started: it never will.
            let pending = t.state == State::Pending;
            t.actual_start = NONE;
            t.end_with(EndReason::Cancelled { at }, at);
            if pending {
                self.st.unschedule(slot);
            }
            self.st.push_back(List::Ended, slot);
            self.st.queue_settle(slot);
            self.drain_settle(now);
            return EndReason::Cut;
        }
        // A transfer that has reached its end has nothing left to cut.
        if t.end <= at {
            return EndReason::TargetNotActive;
        }
        let new_end = match ending {
            Ending::Cut | Ending::FadeOut(0) => at,
            Ending::FadeOut(n) => at.saturating_add(n),
            // The repetition playing at `at` finishes; in a gap it stops at once.
            Ending::AfterRepetition => match &t.work {
                Work::Transfer(tr) => tr
                    .repetition_end(at.saturating_sub(t.origin) + tr.env.offset)
                    .map_or(at, |end| {
                        t.origin.saturating_add(end - tr.env.offset.min(end))
                    }),
                _ => at,
            },
        };
        if new_end >= t.end && ending == Ending::AfterRepetition {
            return EndReason::TargetNotActive;
        }
        if let (Ending::FadeOut(n @ 1..), Work::Transfer(tr)) = (ending, &mut t.work) {
            // A fade never rises: over an earlier cancel's fade, the one that ends first
            // wins, and a new one falls from the gain the earlier one has reached.
            let earlier = tr.env.cut;
            let earlier_end = earlier.start.saturating_add(earlier.len);
            if earlier.from == earlier.to || at.saturating_add(n) < earlier_end {
                tr.env.cut = Ramp {
                    start: at,
                    len: n,
                    from: earlier.value(at),
                    to: 0.0,
                };
                tr.env.refresh();
            }
        }
        let new_end = new_end.min(t.end);
        t.end = new_end;
        if t.actual_start != NONE && new_end <= t.actual_start {
            // Stopped before its first frame: nothing plays or records.
            t.actual_start = NONE;
            t.end_with(EndReason::Cancelled { at: new_end }, new_end);
            self.st.unlink(List::Active, slot);
            self.st.push_back(List::Ended, slot);
        } else {
            t.cut = true;
        }
        self.st.queue_settle(slot);
        self.drain_settle(now);
        EndReason::Cut
    }

    /// Queues the completions of ended actions, oldest first, as far as there is room;
    /// the rest keep their slots and go out after a later block.
    fn flush(&mut self) {
        let mut sent = false;
        while self.ends.completions.room() > 0 {
            let Some(slot) = self.st.pop_front(List::Ended) else {
                break;
            };
            let seq = self.st.seq(slot);
            let Some(action) = self.st.take(slot) else {
                continue;
            };
            if let Err(done) = self.ends.completions.send(action.into_done(slot, seq)) {
                // `room` said there is room and this half is the only sender: cannot
                // happen. Never free on the audio thread.
                core::mem::forget(done);
            }
            sent = true;
        }
        if sent {
            self.signal.notify();
        }
    }
}

/// True for an action that changes an envelope (a gain change, a faded cancel): it takes
/// effect between two samples, so the block is split at its frame and the samples before
/// it keep the envelope they had.
fn splits<B, Mp>(work: &Work<B, Mp>) -> bool {
    matches!(
        work,
        Work::Gain { .. }
            | Work::Cancel {
                ending: Ending::FadeOut(1..),
                ..
            }
    )
}

/// The one span an active transfer plays of `[seg, seg_end)` of the block that starts at
/// `t0`, if its part of the segment is one span (no seam, no gap) and not empty.
#[inline]
fn lone_span<B, Mp: MapStore>(
    action: &Action<B, Mp>,
    t0: u64,
    seg: u64,
    seg_end: u64,
) -> Option<(&Transfer<B, Mp>, Span)> {
    let Work::Transfer(t) = &action.work else {
        return None;
    };
    let from = action.position.max(seg);
    let to = action.end.min(seg_end);
    if action.state != State::Active || from >= to {
        return None;
    }
    // As `process_one` places it.
    let play_frame = (from - action.origin).wrapping_add(t.env.offset);
    match t.place(play_frame) {
        (Some(buffer_frame), left) if left >= to - from => Some((
            t,
            Span {
                frame: from,
                block_frame: (from - t0) as usize,
                buffer_frame: buffer_frame as usize,
                frames: (to - from) as usize,
            },
        )),
        _ => None,
    }
}

/// Lets one active transfer process its part of `[seg, seg_end)` of the block that starts
/// at `t0`.
#[inline]
fn process_one<B, Mp: MapStore>(
    action: &mut Action<B, Mp>,
    t0: u64,
    seg: u64,
    seg_end: u64,
    lost: bool,
    half: &mut impl Half<B, Mp>,
) {
    let from = action.position.max(seg);
    let to = action.end.min(seg_end);
    let Work::Transfer(t) = &mut action.work else {
        return;
    };
    let mut frame = from;
    let mut outcome = Flow::Done;
    while frame < to && outcome == Flow::Done {
        // The play's own frame. `from_frame` may skip up to u64::MAX frames into an
        // endless loop; past 2^64 play frames the count wraps, as release builds always
        // did (found by fuzzing with overflow checks on).
        let play_frame = (frame - action.origin).wrapping_add(t.env.offset);
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
            match outcome {
                Flow::Stop { frames } => {
                    frame += frames;
                    break;
                }
                // Not one frame of the span was played: it ends where the span begins.
                Flow::Invalid => break,
                Flow::Done => {}
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
            action.stopped = true;
        }
        Flow::Invalid => action.end_with(EndReason::Invalid, frame),
    }
}
