//! The reference model: the expected output, recordings and completions of a scenario,
//! computed with plain `Vec`s and full scans, frame by frame, with no queues, no sorted
//! lists and no spans.
//!
//! It takes from the simulation only what the semantics make depend on the device: the
//! runs of each direction (where blocks and xruns fell) and the run in which the engine
//! first saw each command. Everything else follows from the rules in docs/timing.md and
//! docs/features.md:
//!
//! * a command at frame `F` seen at frame `s` (the first frame of the block that took it)
//!   is late when `F < s`; `Drop` ends it there, `StartNow` moves its origin to `s`,
//!   `Skip` keeps origin `F` and leaves out the frames before `s`. A command `After`
//!   another asks for the frame where that one stops, and waits while it is unknown;
//! * within a run, actions take effect in the order (origin, submission), and a gain
//!   change after the run's first frame takes effect exactly at its frame: what is due
//!   after it waits for it;
//! * a play covers `[max(origin, s), origin + region × repetitions)`, cut short by a
//!   cancel; at frame `f` it plays buffer frame `region start + (f - origin) mod region`;
//! * each output sample is `0.0` plus every covering play's
//!   `(sample * map gain) * (gain(f) * fade_in(f) * fade_out(f) * cancel_fade(f))`, in
//!   submission order (the engine's order, so the result is bit-identical), then times its
//!   channel's master gain; a NaN or infinity becomes 0, and with clamping on the sample
//!   is clamped to [-1, 1];
//! * frames in a lost run are not mixed (the output there is silent) and are recorded as
//!   zeros.

use std::collections::BTreeMap;

use rtmix_core::{
    ActionId, ActionKind, ActionStats, At, Completion, Direction, EndReason, Ending, Late, OnEmpty,
    OnFull, Payload, Repeat, StreamStats,
};

use crate::scenario::{input_sample, GainOf, Op, Scenario, RECORD_FILL};
use crate::sim::{dir_index, Run, SimCompletion, Submission};

/// What the model expects.
#[derive(Debug, PartialEq)]
pub struct Expected {
    /// The output, interleaved, over the whole output timeline.
    pub output: Vec<f32>,
    /// The completion of every action that ended, by id.
    pub completions: BTreeMap<ActionId, SimCompletion>,
}

/// A linear ramp, as docs/features.md defines it: `from` before `start`, `to` from
/// `start + len`, and `from + (to - from) * (k / len)` at `start + k` in between.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ramp {
    /// First frame of the ramp.
    pub start: u64,
    /// Its length in frames.
    pub len: u64,
    /// The value before and at `start`.
    pub from: f32,
    /// The value from `start + len` on.
    pub to: f32,
}

impl Ramp {
    /// The same value everywhere.
    pub fn constant(value: f32) -> Self {
        Self {
            start: 0,
            len: 0,
            from: value,
            to: value,
        }
    }

    /// The value at `frame`.
    pub fn at(&self, frame: u64) -> f32 {
        ramp(self.from, self.to, self.start, self.len, frame)
    }
}

/// The documented ramp at `frame` (see [`Ramp`]): `from` before `start`, `to` from
/// `start + len` on, and `from + (to - from) * (k as f32 / len as f32)` at `start + k`,
/// in f32 and in that order. The tests that check values sample by sample use it too.
pub fn ramp(from: f32, to: f32, start: u64, len: u64, frame: u64) -> f32 {
    if frame < start {
        return from;
    }
    let k = frame - start;
    if k >= len {
        return to;
    }
    from + (to - from) * (k as f32 / len as f32)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Unseen,
    Waiting,
    Pending,
    Active,
    Ended,
}

/// One accepted op as the model tracks it.
#[derive(Debug)]
struct Item<'a> {
    op: &'a Op,
    id: ActionId,
    direction: Direction,
    /// Item index of the action it follows.
    after: Option<usize>,
    /// Item index of a cancel's or gain change's target play.
    target: Option<usize>,
    seen_run: usize,
    state: State,
    requested: Option<u64>,
    late_by: u64,
    origin: u64,
    end: u64,
    actual: Option<u64>,
    cut: bool,
    skipped: u64,
    reason: EndReason,
    ended_at: Option<u64>,
    stats: ActionStats,
    stats_snapshot: Option<StreamStats>,
    region_start: u64,
    region_len: u64,
    /// `(num, den)`: repetitions start every `num / den` frames.
    interval: Option<(u64, u64)>,
    /// How many repetitions (`None`: endless).
    reps: Option<u64>,
    /// Play frames left out at its start (`Play::from_frame`).
    offset: u64,
    total: Option<u64>,
    gain: Ramp,
    fade_in: Ramp,
    fade_out: Ramp,
    cut_fade: Ramp,
    /// A stream play: stop when dry? And frames read from it so far.
    source: Option<bool>,
    consumed: u64,
    /// A stream recording: ring capacity in frames, stop when full? And what it wrote.
    sink: Option<(u64, bool)>,
    written: Vec<f32>,
    /// Set when a stream's policy stopped it.
    stopped: Option<EndReason>,
}

impl Item<'_> {
    fn is_transfer(&self) -> bool {
        matches!(self.op, Op::Play { .. } | Op::Record { .. })
    }

    fn is_play(&self) -> bool {
        matches!(self.op, Op::Play { .. })
    }

    fn live(&self) -> bool {
        matches!(self.state, State::Waiting | State::Pending | State::Active)
    }

    /// The play's own frame at stream frame `f`: its fades and repetitions count in it.
    fn play_frame(&self, f: u64) -> u64 {
        f - self.origin + self.offset
    }

    fn envelope(&self, frame: u64) -> f32 {
        let p = self.play_frame(frame);
        self.gain.at(frame) * self.fade_in.at(p) * self.fade_out.at(p) * self.cut_fade.at(frame)
    }

    /// Frame `p` of the play (from its origin): the buffer frame it plays, if any, and
    /// where the repetition under way ends (from the origin).
    fn place(&self, p: u64) -> (Option<u64>, u64) {
        let len = self.region_len;
        let Some((num, den)) = self.interval else {
            let k = p / len.max(1);
            return (Some(self.region_start + p - k * len), (k + 1) * len);
        };
        let start = |k: u64| (u128::from(k) * u128::from(num) / u128::from(den)) as u64;
        // The last repetition started at or before p: estimate, then step.
        let mut k = (u128::from(p) * u128::from(den) / u128::from(num)) as u64;
        while start(k) > p {
            k -= 1;
        }
        while start(k + 1) <= p {
            k += 1;
        }
        // The last of a counted set plays whole.
        let last = matches!(self.reps, Some(n) if k + 1 >= n);
        if last {
            k = self.reps.unwrap_or(1).max(1) - 1;
        }
        let (s, next) = (start(k), if last { u64::MAX } else { start(k + 1) });
        let end = s + len.min(next - s);
        ((p < end).then_some(self.region_start + p - s), end)
    }

    fn end_with(&mut self, reason: EndReason, at: u64) {
        self.state = State::Ended;
        self.reason = reason;
        self.ended_at = Some(at);
    }
}

/// The model's state while it walks one direction's runs.
struct World<'a, 'b> {
    items: &'b mut [Item<'a>],
    direction: Direction,
    stats: StreamStats,
    master: Vec<Ramp>,
}

/// Computes what the engine must produce for `scenario`, given where the simulation's
/// runs fell and when the engine saw each accepted op.
pub fn expect(scenario: &Scenario, runs: &[Vec<Run>; 2], submissions: &[Submission]) -> Expected {
    let ops: Vec<&Op> = scenario.ops().collect();
    let mut by_op: BTreeMap<usize, usize> = BTreeMap::new();
    let mut items: Vec<Item<'_>> = Vec::new();
    for (index, (op, sub)) in ops.iter().zip(submissions).enumerate() {
        if let Submission::Accepted { id, seen_run } = *sub {
            by_op.insert(index, items.len());
            items.push(new_item(op, id, seen_run));
        }
    }
    for (index, op) in ops.iter().enumerate() {
        let Some(&i) = by_op.get(&index) else {
            continue;
        };
        let (after, target) = match op {
            Op::Play { shape, .. } => (shape.after, None),
            Op::Record { after, .. } => (*after, None),
            Op::Cancel { target, .. }
            | Op::Gain {
                target: GainOf::Play(target),
                ..
            } => (None, Some(*target)),
            _ => (None, None),
        };
        items[i].after = after.and_then(|a| by_op.get(&a).copied());
        items[i].target = target.and_then(|t| by_op.get(&t).copied());
    }

    let channels = usize::from(scenario.output_channels);
    let out_end = runs[0].last().map_or(0, Run::end);
    let mut output = vec![0.0f32; out_end as usize * channels];
    for direction in [Direction::Output, Direction::Input] {
        let mut world = World {
            items: &mut items,
            direction,
            stats: StreamStats::new(direction),
            master: vec![Ramp::constant(1.0); channels],
        };
        for (r, run) in runs[dir_index(direction)].iter().enumerate() {
            world.run(r, run, scenario, &mut output);
        }
    }

    let mut completions = BTreeMap::new();
    for item in &items {
        if let Some(c) = completion(item, &items, &runs[dir_index(item.direction)]) {
            completions.insert(item.id, c);
        }
    }
    Expected {
        output,
        completions,
    }
}

fn new_item(op: &Op, id: ActionId, seen_run: usize) -> Item<'_> {
    let (region_start, region_len, total, gain, interval) = match op {
        Op::Play {
            samples,
            map,
            shape,
            ..
        } => {
            let frames = (samples.len() / map.len()) as u64;
            let (start, end) = shape.region.unwrap_or((0, frames));
            let len = end - start;
            let total = match (shape.repeat, shape.interval) {
                (Repeat::Times(0), _) => Some(0),
                (Repeat::Times(n), None) => Some(len * n),
                (Repeat::Times(n), Some((num, den))) => {
                    Some((u128::from(n - 1) * u128::from(num) / u128::from(den)) as u64 + len)
                }
                (Repeat::Forever, _) => None,
            };
            (start, len, total, shape.gain, shape.interval)
        }
        Op::Record { sink: Some(_), .. } => (0, u64::MAX, None, 1.0, None),
        Op::Record { frames, .. } => (0, *frames as u64, Some(*frames as u64), 1.0, None),
        _ => (0, 0, Some(0), 1.0, None),
    };
    // A stream play reads its samples in order: one endless region.
    let (region_len, total, interval) = match op {
        Op::Play { shape, .. } if shape.stream.is_some() => (u64::MAX, None, None),
        _ => (region_len, total, interval),
    };
    Item {
        op,
        id,
        direction: id.direction(),
        after: None,
        target: None,
        seen_run,
        state: State::Unseen,
        requested: None,
        late_by: 0,
        origin: 0,
        end: 0,
        actual: None,
        cut: false,
        skipped: 0,
        reason: EndReason::Finished,
        ended_at: None,
        stats: ActionStats::default(),
        stats_snapshot: None,
        region_start,
        region_len,
        interval,
        offset: match op {
            Op::Play { shape, .. } => shape.offset,
            _ => 0,
        },
        reps: match op {
            Op::Play { shape, .. } => match shape.repeat {
                Repeat::Times(n) => Some(n),
                Repeat::Forever => None,
            },
            _ => Some(1),
        },
        total,
        gain: Ramp::constant(gain),
        fade_in: Ramp::constant(1.0),
        fade_out: Ramp::constant(1.0),
        cut_fade: Ramp::constant(1.0),
        source: match op {
            Op::Play { shape, .. } => shape.stream.map(|p| p == OnEmpty::Stop),
            _ => None,
        },
        consumed: 0,
        sink: match op {
            Op::Record {
                sink: Some((capacity, policy)),
                ..
            } => Some((*capacity as u64, *policy == OnFull::Stop)),
            _ => None,
        },
        written: Vec::new(),
        stopped: None,
    }
}

fn at_and_late(op: &Op) -> (At, Late) {
    match op {
        Op::Play { at, late, .. }
        | Op::Record { at, late, .. }
        | Op::Cancel { at, late, .. }
        | Op::Gain { at, late, .. } => (*at, *late),
        Op::Stats { at, .. } => (*at, Late::StartNow),
    }
}

impl World<'_, '_> {
    /// Indices of this direction's items.
    fn mine(&self) -> Vec<usize> {
        (0..self.items.len())
            .filter(|&i| self.items[i].direction == self.direction)
            .collect()
    }

    /// Runs one block or xrun of this direction.
    fn run(&mut self, r: usize, run: &Run, scenario: &Scenario, output: &mut [f32]) {
        let (s, e) = (run.start, run.end());
        // Commands seen in this run arrive in submission order.
        let arriving: Vec<usize> = self
            .mine()
            .into_iter()
            .filter(|&i| self.items[i].seen_run == r)
            .collect();
        self.stats.queue_high_water = self.stats.queue_high_water.max(arriving.len());
        for i in arriving {
            self.arrive(i, s);
        }
        // Segments, cut at gain changes.
        let mut seg = s;
        loop {
            let seg_end = self.activate_due(s, seg, e);
            match (self.direction, run.lost) {
                (Direction::Output, false) => self.mix(seg, seg_end, scenario, output),
                (Direction::Output, true) => self.skip_streams(seg, seg_end),
                (Direction::Input, lost) => self.fill_sinks(seg, seg_end, lost),
            }
            if seg_end >= e {
                break;
            }
            seg = seg_end;
        }
        self.finish(s, e, run);
        if run.lost {
            self.stats.xruns += 1;
            self.stats.frames_lost += run.frames;
        } else {
            self.stats.blocks += 1;
            self.stats.frames += run.frames;
            self.stats.min_block = Some(
                self.stats
                    .min_block
                    .map_or(run.frames, |m| m.min(run.frames)),
            );
            self.stats.max_block = Some(
                self.stats
                    .max_block
                    .map_or(run.frames, |m| m.max(run.frames)),
            );
            if self.direction == Direction::Output {
                self.protect(s, e, scenario, output);
            }
        }
    }

    fn arrive(&mut self, i: usize, s: u64) {
        let item = &self.items[i];
        let requested = match (item.after, at_and_late(item.op).0) {
            (Some(t), _) => {
                let Some(f) = self.stop_frame(t) else {
                    self.items[i].state = State::Waiting;
                    return;
                };
                f
            }
            (None, At::Frame(f)) => f,
            (None, _) => s,
        };
        self.resolve(i, s, requested);
    }

    /// Where item `t` stops, if known.
    fn stop_frame(&self, t: usize) -> Option<u64> {
        let item = &self.items[t];
        match item.state {
            State::Ended => item.ended_at,
            State::Pending | State::Active if item.is_transfer() && item.end != u64::MAX => {
                Some(item.end)
            }
            _ => None,
        }
    }

    fn resolve(&mut self, i: usize, s: u64, requested: u64) {
        let item = &mut self.items[i];
        item.requested = Some(requested);
        item.late_by = s.saturating_sub(requested);
        let policy = match item.op {
            Op::Stats { .. } => Late::StartNow,
            op => at_and_late(op).1,
        };
        item.origin = if item.late_by == 0 {
            requested
        } else {
            self.stats.late += 1;
            match policy {
                Late::Drop => {
                    item.end_with(EndReason::DroppedLate, s);
                    self.settle(i, s, s);
                    return;
                }
                Late::StartNow => s,
                Late::Skip => requested,
            }
        };
        let origin = item.origin;
        if item.is_transfer() {
            item.end = match item.total {
                Some(total) => origin + total.saturating_sub(item.offset),
                None => u64::MAX,
            };
            // Fades sit on the play's own frames, from its frame 0.
            if let Op::Play { shape, .. } = item.op {
                if shape.fade_in > 0 {
                    item.fade_in = Ramp {
                        start: 0,
                        len: shape.fade_in,
                        from: 0.0,
                        to: 1.0,
                    };
                }
                if let (true, Some(total)) = (shape.fade_out > 0, item.total) {
                    let len = shape.fade_out;
                    item.fade_out = Ramp {
                        start: total - len,
                        len,
                        from: 1.0,
                        to: 0.0,
                    };
                }
            }
        } else {
            item.end = origin;
        }
        item.state = State::Pending;
        let end = item.end;
        if item.is_transfer() && end != u64::MAX {
            self.settle(i, end, s);
        }
    }

    /// Item `t` now stops at `end`: retime what follows it.
    fn settle(&mut self, t: usize, end: u64, s: u64) {
        let followers: Vec<usize> = (0..self.items.len())
            .filter(|&j| {
                let f = &self.items[j];
                f.after == Some(t) && matches!(f.state, State::Waiting | State::Pending)
            })
            .collect();
        for j in followers {
            if self.items[j].state == State::Pending && self.items[j].requested == Some(end) {
                continue;
            }
            self.resolve(j, s, end);
        }
    }

    /// Activates what is due in `[seg, e)` in (origin, submission) order, up to a gain
    /// change after `seg`; returns the segment's end.
    fn activate_due(&mut self, s: u64, seg: u64, e: u64) -> u64 {
        loop {
            let next = self
                .mine()
                .into_iter()
                .filter(|&i| self.items[i].state == State::Pending && self.items[i].origin < e)
                .min_by_key(|&i| (self.items[i].origin, self.items[i].id.seq()));
            let Some(i) = next else {
                return e;
            };
            // Gain changes and faded cancels take effect between samples.
            let between = matches!(
                self.items[i].op,
                Op::Gain { .. }
                    | Op::Cancel {
                        ending: Ending::FadeOut(1..),
                        ..
                    }
            );
            if between && self.items[i].origin > seg {
                return self.items[i].origin;
            }
            self.activate(i, s, seg);
        }
    }

    /// Carries out item `i` at `now`, the start of the current segment of the run that
    /// starts at `s` (an item timed during this run may be due before `now`).
    fn activate(&mut self, i: usize, s: u64, now: u64) {
        let at = self.items[i].origin.max(now);
        match self.items[i].op {
            Op::Play { .. } | Op::Record { .. } => {
                let item = &mut self.items[i];
                let has_frames = item.end > item.origin;
                item.skipped = if has_frames { at - item.origin } else { 0 };
                if has_frames && at >= item.end {
                    item.skipped = item.end - item.origin;
                    let end = item.end;
                    item.end_with(EndReason::Finished, end);
                } else {
                    item.actual = Some(at);
                    item.state = State::Active;
                }
            }
            Op::Stats { .. } => {
                self.items[i].stats_snapshot = Some(self.stats);
                self.stats = StreamStats::new(self.direction);
                self.items[i].actual = Some(s);
                self.items[i].end_with(EndReason::Finished, s);
                self.settle(i, s, now);
            }
            Op::Cancel { ending, .. } => {
                let outcome = match self.items[i].target {
                    Some(t) => self.cut(t, at, *ending, now),
                    None => EndReason::TargetNotActive,
                };
                self.items[i].actual = Some(at);
                self.items[i].end_with(outcome, at);
                self.settle(i, at, now);
            }
            Op::Gain {
                target, gain, ramp, ..
            } => {
                let start = self.items[i].origin;
                let outcome = match target {
                    GainOf::Master(c) => {
                        let m = &mut self.master[usize::from(*c)];
                        *m = Ramp {
                            start,
                            len: *ramp,
                            from: m.at(start),
                            to: *gain,
                        };
                        EndReason::Finished
                    }
                    GainOf::Play(_) => match self.items[i].target {
                        Some(t) => self.retune(t, *gain, *ramp, start),
                        None => EndReason::TargetNotActive,
                    },
                };
                self.items[i].actual = Some(at);
                self.items[i].end_with(outcome, at);
                self.settle(i, at, now);
            }
        }
    }

    fn retune(&mut self, t: usize, gain: f32, len: u64, start: u64) -> EndReason {
        let target = &mut self.items[t];
        if !target.live()
            || !target.is_play()
            || (target.state == State::Active && target.end <= start)
        {
            return EndReason::TargetNotActive;
        }
        target.gain = Ramp {
            start,
            len,
            from: target.gain.at(start),
            to: gain,
        };
        EndReason::Finished
    }

    fn cut(&mut self, t: usize, at: u64, ending: Ending, s: u64) -> EndReason {
        let target = &mut self.items[t];
        if !target.live() {
            return EndReason::TargetNotActive;
        }
        if target.state != State::Active {
            target.actual = None;
            target.end_with(EndReason::Cancelled { at }, at);
            self.settle(t, at, s);
            return EndReason::Cut;
        }
        // A transfer that has reached its end (a 0-frame play that started in this run)
        // has nothing left to cut.
        if target.end <= at {
            return EndReason::TargetNotActive;
        }
        let new_end = match ending {
            Ending::Cut | Ending::FadeOut(0) => at,
            Ending::FadeOut(n) => at.saturating_add(n),
            Ending::AfterRepetition => {
                let p = at.saturating_sub(target.origin) + target.offset;
                let (playing, end) = target.place(p);
                if playing.is_some() {
                    target.origin.saturating_add(end - target.offset)
                } else {
                    at
                }
            }
        };
        if ending == Ending::AfterRepetition && new_end >= target.end {
            return EndReason::TargetNotActive;
        }
        if let Ending::FadeOut(n @ 1..) = ending {
            // Over a fade still under way, the one that ends first wins; a new one starts
            // from the gain the earlier one reached at `at`.
            let earlier = target.cut_fade;
            let earlier_end = earlier.start.saturating_add(earlier.len);
            let first = earlier.from == earlier.to;
            if target.is_play() && (first || at.saturating_add(n) < earlier_end) {
                target.cut_fade = Ramp {
                    start: at,
                    len: n,
                    from: earlier.at(at),
                    to: 0.0,
                };
            }
        }
        let new_end = new_end.min(target.end);
        target.end = new_end;
        if target.actual.is_some_and(|a| new_end <= a) {
            target.actual = None;
            target.end_with(EndReason::Cancelled { at: new_end }, new_end);
        } else {
            target.cut = true;
        }
        self.settle(t, new_end, s);
        EndReason::Cut
    }

    /// Mixes output frames `[a, b)`: every covering play in submission order, then the
    /// master gains.
    fn mix(&mut self, a: u64, b: u64, scenario: &Scenario, output: &mut [f32]) {
        let channels = usize::from(scenario.output_channels);
        let mut plays: Vec<usize> = (0..self.items.len())
            .filter(|&i| {
                let i = &self.items[i];
                i.direction == Direction::Output && i.state == State::Active && i.is_play()
            })
            .collect();
        plays.sort_by_key(|&i| self.items[i].id.seq());
        // A stream's level is seen where each of its spans starts: once per segment.
        for &i in &plays {
            let item = &mut self.items[i];
            if let (Some(_), Op::Play { samples, map, .. }) = (item.source, item.op) {
                if item.actual.expect("active").max(a) < item.end.min(b) {
                    let level = (samples.len() / map.len()) as u64 - item.consumed;
                    see_level(&mut item.stats, level);
                }
            }
        }
        for f in a..b {
            let row = f as usize * channels;
            for &i in &plays {
                let item = &mut self.items[i];
                let Op::Play {
                    samples,
                    map,
                    gains,
                    ..
                } = item.op
                else {
                    continue;
                };
                let start = item.actual.expect("active");
                if f < start || f >= item.end {
                    continue;
                }
                let k = map.len();
                let bf = match item.source {
                    None => match item.place(item.play_frame(f)).0 {
                        Some(bf) => bf as usize,
                        None => continue, // between spaced repetitions
                    },
                    Some(stop) => {
                        if item.consumed as usize * k >= samples.len() {
                            if stop {
                                item.end = f;
                                item.stopped = Some(EndReason::Underflow);
                            } else {
                                item.stats.missing += 1;
                            }
                            continue;
                        }
                        item.consumed += 1;
                        item.consumed as usize - 1
                    }
                };
                let env = item.envelope(f);
                for j in 0..k {
                    output[row + usize::from(map[j])] += (samples[bf * k + j] * gains[j]) * env;
                }
            }
            for (c, m) in self.master.iter().enumerate() {
                output[row + c] *= m.at(f);
            }
        }
    }

    /// Frames `[a, b)` were lost: stream plays read and drop the samples meant for them.
    fn skip_streams(&mut self, a: u64, b: u64) {
        for item in self.items.iter_mut() {
            let (Some(_), State::Active, Op::Play { samples, map, .. }) =
                (item.source, item.state, item.op)
            else {
                continue;
            };
            let covered = item
                .end
                .min(b)
                .saturating_sub(item.actual.expect("active").max(a));
            let left = (samples.len() / map.len()) as u64 - item.consumed;
            item.consumed += covered.min(left);
        }
    }

    /// Input frames `[a, b)`: stream recordings write them (zeros if lost) while their ring
    /// has room.
    fn fill_sinks(&mut self, a: u64, b: u64, lost: bool) {
        for item in self.items.iter_mut() {
            let (Some((capacity, stop)), State::Active, Op::Record { map, .. }) =
                (item.sink, item.state, item.op)
            else {
                continue;
            };
            let from = item.actual.expect("active").max(a);
            let k = map.len();
            if from < item.end.min(b) {
                see_level(&mut item.stats, capacity - (item.written.len() / k) as u64);
            }
            for f in from..item.end.min(b) {
                if (item.written.len() / k) as u64 >= capacity {
                    if stop {
                        item.end = f;
                        item.stopped = Some(EndReason::Overflow);
                        break;
                    }
                    item.stats.dropped += 1;
                    continue;
                }
                for &c in map {
                    item.written
                        .push(if lost { 0.0 } else { input_sample(f, c) });
                }
            }
        }
    }

    /// Keeps NaN and infinity from the device, counts (and maybe clamps) the samples
    /// beyond [-1, 1].
    fn protect(&mut self, s: u64, e: u64, scenario: &Scenario, output: &mut [f32]) {
        let channels = usize::from(scenario.output_channels);
        for x in &mut output[s as usize * channels..e as usize * channels] {
            if !x.is_finite() {
                *x = 0.0;
                self.stats.non_finite += 1;
            }
            if x.abs() > 1.0 {
                self.stats.clipped += 1;
                if scenario.clamp {
                    *x = x.clamp(-1.0, 1.0);
                }
            }
        }
    }

    /// Counts the run in every transfer it touched and ends those that reached their end.
    fn finish(&mut self, s: u64, e: u64, run: &Run) {
        let active: Vec<usize> = self
            .mine()
            .into_iter()
            .filter(|&i| self.items[i].state == State::Active)
            .collect();
        for i in active {
            let item = &mut self.items[i];
            let start = item.actual.expect("active").max(s);
            let covered = item.end.min(e).saturating_sub(start);
            if covered > 0 {
                if run.lost {
                    item.stats.xruns += 1;
                    item.stats.frames_lost += covered;
                } else {
                    item.stats.min_block = if item.stats.blocks == 0 {
                        run.frames
                    } else {
                        item.stats.min_block.min(run.frames)
                    };
                    item.stats.max_block = item.stats.max_block.max(run.frames);
                    item.stats.blocks += 1;
                }
            }
            if item.end <= e {
                let reason = match (item.stopped, item.cut) {
                    (Some(reason), _) => reason,
                    (None, true) => EndReason::Cancelled { at: item.end },
                    (None, false) => EndReason::Finished,
                };
                let end = item.end;
                item.end_with(reason, end);
                self.settle(i, end, e);
            }
        }
    }
}

fn completion(item: &Item<'_>, items: &[Item<'_>], runs: &[Run]) -> Option<SimCompletion> {
    if item.state != State::Ended {
        return None;
    }
    let kind = match item.op {
        Op::Play { .. } => ActionKind::Play,
        Op::Record { .. } => ActionKind::Record,
        Op::Cancel { .. } => ActionKind::Cancel,
        Op::Gain { .. } => ActionKind::Gain,
        Op::Stats { .. } => ActionKind::Stats,
    };
    let frames = match item.actual {
        Some(a) if item.is_transfer() => item.end.saturating_sub(a) - item.stats.frames_lost,
        _ => 0,
    };
    let payload = match item.op {
        Op::Play { samples, map, .. } if item.source.is_some() => {
            Payload::Played(samples[item.consumed as usize * map.len()..].to_vec())
        }
        Op::Play { samples, .. } => Payload::Played(samples.clone()),
        Op::Record { .. } if item.sink.is_some() => Payload::Recorded(item.written.clone()),
        Op::Record { map, .. } => Payload::Recorded(recording(item, map, runs)),
        Op::Cancel { .. } | Op::Gain { .. } => Payload::None,
        Op::Stats { .. } => item.stats_snapshot.map_or(Payload::None, Payload::Stats),
    };
    let requested = match item.after {
        Some(t) => At::After(items[t].id),
        None => at_and_late(item.op).0,
    };
    Some(Completion {
        id: item.id,
        kind,
        requested,
        late_by: item.late_by,
        actual_start: item.actual,
        frames,
        skipped: if item.is_transfer() { item.skipped } else { 0 },
        ended_at: item.ended_at,
        end: item.reason,
        stats: item.stats,
        payload,
    })
}

/// Notes a stream's level at a span's start.
fn see_level(stats: &mut ActionStats, level: u64) {
    stats.lowest_level = Some(stats.lowest_level.map_or(level, |l| l.min(level)));
}

/// The expected content of a recording buffer.
fn recording(item: &Item<'_>, map: &[u16], runs: &[Run]) -> Vec<f32> {
    let k = map.len();
    let mut buffer = vec![RECORD_FILL; item.region_len as usize * k];
    let Some(start) = item.actual else {
        return buffer;
    };
    for run in runs {
        let (a, b) = (start.max(run.start), item.end.min(run.end()));
        for f in a..b {
            let row = (f - item.origin) as usize * k;
            for (j, &c) in map.iter().enumerate() {
                buffer[row + j] = if run.lost { 0.0 } else { input_sample(f, c) };
            }
        }
    }
    buffer
}
