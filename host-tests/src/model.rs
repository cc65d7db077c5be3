//! The reference model: the expected output, recordings and completions of a scenario,
//! computed over the whole timeline with plain `Vec`s, no queues and no blocks.
//!
//! It takes from the simulation only what the semantics make depend on the device:
//! the runs of each direction (where blocks and xruns fell) and the run in which the
//! engine first saw each command. Everything else follows from the rules in
//! docs/timing.md:
//!
//! * a command at frame `F` seen at frame `s` (the first frame of the block that took it)
//!   is late when `F < s`; `Drop` ends it there, `StartNow` moves its origin to `s`,
//!   `Skip` keeps origin `F` and leaves out the frames before `s`;
//! * actions take effect in the order (run, origin, submission);
//! * a transfer covers `[max(origin, s), origin + frames)`, cut short by a cancel at `c`;
//! * each output sample is `0.0` plus every covering play's `sample * gain`, in submission
//!   order (the engine's order, so the result is bit-identical);
//! * frames in a lost run are not mixed (the output there is silent) and are recorded as
//!   zeros.

use std::collections::BTreeMap;

use rtmix_core::{
    ActionId, ActionKind, ActionStats, At, Completion, Direction, EndReason, Late, Payload,
    StreamStats,
};

use crate::scenario::{input_sample, Op, Scenario, RECORD_FILL};
use crate::sim::{dir_index, Run, SimCompletion, Submission};

/// What the model expects.
#[derive(Debug, PartialEq)]
pub struct Expected {
    /// The output, interleaved, over the whole output timeline.
    pub output: Vec<f32>,
    /// The completion of every action that ended, by id.
    pub completions: BTreeMap<ActionId, SimCompletion>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Unseen,
    Pending,
    Active,
    Ended,
}

/// One accepted op as the model tracks it.
#[derive(Debug)]
struct Item<'a> {
    op: &'a Op,
    id: ActionId,
    target: Option<usize>,
    seen_run: usize,
    state: State,
    late_by: u64,
    origin: u64,
    frames: u64,
    activation_run: Option<usize>,
    actual: Option<u64>,
    end: u64,
    cut: bool,
    skipped: u64,
    reason: EndReason,
    stats_snapshot: Option<StreamStats>,
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
            let target = match op {
                Op::Cancel { target, .. } => Some(*target),
                _ => None,
            };
            items.push(Item {
                op,
                id,
                target,
                seen_run,
                state: State::Unseen,
                late_by: 0,
                origin: 0,
                frames: transfer_frames(op),
                activation_run: None,
                actual: None,
                end: 0,
                cut: false,
                skipped: 0,
                reason: EndReason::Finished,
                stats_snapshot: None,
            });
        }
    }

    for direction in [Direction::Output, Direction::Input] {
        let runs = &runs[dir_index(direction)];
        let mine: Vec<usize> = (0..items.len())
            .filter(|&i| items[i].id.direction() == direction)
            .collect();
        resolve(&mut items, &mine, runs);
        activate(&mut items, &mine, runs, &by_op, direction);
    }

    let mut completions = BTreeMap::new();
    for item in &items {
        if let Some(c) = completion(item, runs, scenario) {
            completions.insert(item.id, c);
        }
    }
    Expected {
        output: mix(scenario, &items, &runs[0]),
        completions,
    }
}

fn transfer_frames(op: &Op) -> u64 {
    match op {
        Op::Play { samples, map, .. } => (samples.len() / map.len()) as u64,
        Op::Record { frames, .. } => *frames as u64,
        _ => 0,
    }
}

fn requested(op: &Op) -> (At, Late) {
    match op {
        Op::Play { at, late, .. } | Op::Record { at, late, .. } | Op::Cancel { at, late, .. } => {
            (*at, *late)
        }
        Op::Stats { at, .. } => (*at, Late::StartNow),
    }
}

/// Lateness and origin of every op the engine saw.
fn resolve(items: &mut [Item<'_>], mine: &[usize], runs: &[Run]) {
    for &i in mine {
        let item = &mut items[i];
        let Some(seen) = runs.get(item.seen_run) else {
            continue; // submitted after the last run
        };
        let s = seen.start;
        let (at, late) = requested(item.op);
        let f = at.frame().unwrap_or(s);
        item.state = State::Pending;
        if f >= s {
            item.origin = f;
        } else {
            item.late_by = s - f;
            match late {
                Late::Drop => {
                    item.state = State::Ended;
                    item.reason = EndReason::DroppedLate;
                    continue;
                }
                Late::StartNow => item.origin = s,
                Late::Skip => item.origin = f,
            }
        }
        item.end = item.origin + item.frames;
        item.activation_run = (item.seen_run..runs.len()).find(|&r| item.origin < runs[r].end());
    }
}

/// Carries out activations in engine order: by run, then origin, then submission.
fn activate(
    items: &mut [Item<'_>],
    mine: &[usize],
    runs: &[Run],
    by_op: &BTreeMap<usize, usize>,
    direction: Direction,
) {
    let mut order: Vec<(usize, u64, u64, usize)> = mine
        .iter()
        .filter(|&&i| items[i].state == State::Pending)
        .filter_map(|&i| {
            Some((
                items[i].activation_run?,
                items[i].origin,
                items[i].id.seq(),
                i,
            ))
        })
        .collect();
    order.sort_unstable();

    // Stats: counters between resets, run by run.
    let mut stats = StreamStats::new(direction);
    let mut next = 0;
    for (r, run) in runs.iter().enumerate() {
        let seen_here: Vec<usize> = mine
            .iter()
            .copied()
            .filter(|&i| items[i].seen_run == r)
            .collect();
        stats.queue_high_water = stats.queue_high_water.max(seen_here.len());
        stats.late += seen_here.iter().filter(|&&i| items[i].late_by > 0).count() as u64;
        while let Some(&(run_index, _, _, i)) = order.get(next) {
            if run_index != r {
                break;
            }
            next += 1;
            if items[i].state != State::Pending {
                continue; // cancelled before its turn
            }
            let at = items[i].origin.max(run.start);
            match items[i].op {
                Op::Play { .. } | Op::Record { .. } => {
                    let item = &mut items[i];
                    item.skipped = (at - item.origin).min(item.frames);
                    if item.frames > 0 && at >= item.end {
                        item.state = State::Ended;
                    } else {
                        item.actual = Some(at);
                        item.state = State::Active;
                    }
                }
                Op::Stats { .. } => {
                    items[i].stats_snapshot = Some(stats);
                    stats = StreamStats::new(direction);
                    items[i].actual = Some(run.start);
                    items[i].state = State::Ended;
                }
                Op::Cancel { .. } => {
                    let target = items[i].target.and_then(|t| by_op.get(&t).copied());
                    let outcome =
                        target.map_or(EndReason::TargetNotActive, |t| cut(&mut items[t], at));
                    items[i].actual = Some(at);
                    items[i].reason = outcome;
                    items[i].state = State::Ended;
                }
            }
        }
        if run.lost {
            stats.xruns += 1;
            stats.frames_lost += run.frames;
        } else {
            stats.blocks += 1;
            stats.frames += run.frames;
            stats.min_block = Some(stats.min_block.map_or(run.frames, |m| m.min(run.frames)));
            stats.max_block = Some(stats.max_block.map_or(run.frames, |m| m.max(run.frames)));
        }
    }
}

/// A cancel at frame `at` reaching `target`: a pending action of any kind is removed, a
/// running transfer is cut.
fn cut(target: &mut Item<'_>, at: u64) -> EndReason {
    match target.state {
        State::Pending => {
            target.state = State::Ended;
            target.reason = EndReason::Cancelled { at };
            target.actual = None;
            target.activation_run = None;
            EndReason::Cut
        }
        State::Active if target.end <= at => EndReason::TargetNotActive,
        State::Active if target.actual.is_some_and(|s| at <= s) => {
            target.state = State::Ended;
            target.reason = EndReason::Cancelled { at };
            target.actual = None;
            target.end = at;
            EndReason::Cut
        }
        State::Active => {
            target.end = at;
            target.cut = true;
            EndReason::Cut
        }
        _ => EndReason::TargetNotActive,
    }
}

/// Frames of `[from, to)` that fall in lost runs, and the runs that overlap it.
fn overlaps(runs: &[Run], from: u64, to: u64) -> impl Iterator<Item = (&Run, u64, u64)> {
    runs.iter().filter_map(move |r| {
        let (a, b) = (from.max(r.start), to.min(r.end()));
        (a < b).then_some((r, a, b))
    })
}

fn completion(item: &Item<'_>, runs: &[Vec<Run>; 2], scenario: &Scenario) -> Option<SimCompletion> {
    let runs = &runs[dir_index(item.id.direction())];
    let final_clock = runs.last().map_or(0, Run::end);
    let kind = match item.op {
        Op::Play { .. } => ActionKind::Play,
        Op::Record { .. } => ActionKind::Record,
        Op::Cancel { .. } => ActionKind::Cancel,
        Op::Stats { .. } => ActionKind::Stats,
    };
    let is_transfer = matches!(kind, ActionKind::Play | ActionKind::Record);
    let mut reason = item.reason;
    let mut frames = 0;
    let mut stats = ActionStats::default();
    match item.state {
        State::Unseen | State::Pending => return None,
        State::Active => {
            if item.end > final_clock {
                return None;
            }
            reason = if item.cut {
                EndReason::Cancelled { at: item.end }
            } else {
                EndReason::Finished
            };
            let start = item.actual.expect("active transfers have a start");
            for (run, a, b) in overlaps(runs, start, item.end) {
                if run.lost {
                    stats.xruns += 1;
                    stats.frames_lost += b - a;
                } else {
                    stats.min_block = if stats.blocks == 0 {
                        run.frames
                    } else {
                        stats.min_block.min(run.frames)
                    };
                    stats.max_block = stats.max_block.max(run.frames);
                    stats.blocks += 1;
                    frames += b - a;
                }
            }
        }
        State::Ended => {}
    }
    let payload = match item.op {
        Op::Play { samples, .. } => Payload::Played(samples.clone()),
        Op::Record { map, .. } => Payload::Recorded(recording(item, map, runs)),
        Op::Cancel { .. } => Payload::None,
        Op::Stats { .. } => item.stats_snapshot.map_or(Payload::None, Payload::Stats),
    };
    let _ = scenario;
    Some(Completion {
        id: item.id,
        kind,
        requested: requested(item.op).0,
        late_by: item.late_by,
        actual_start: item.actual,
        frames,
        skipped: if is_transfer { item.skipped } else { 0 },
        end: reason,
        stats,
        payload,
    })
}

/// The expected content of a recording buffer.
fn recording(item: &Item<'_>, map: &[u16], runs: &[Run]) -> Vec<f32> {
    let k = map.len();
    let mut buffer = vec![RECORD_FILL; item.frames as usize * k];
    let Some(start) = item.actual else {
        return buffer;
    };
    if item.state != State::Active {
        return buffer;
    }
    for (run, a, b) in overlaps(runs, start, item.end) {
        for f in a..b {
            let row = (f - item.origin) as usize * k;
            for (j, &c) in map.iter().enumerate() {
                buffer[row + j] = if run.lost { 0.0 } else { input_sample(f, c) };
            }
        }
    }
    buffer
}

/// The expected output: every play's samples times gains, summed in submission order.
fn mix(scenario: &Scenario, items: &[Item<'_>], runs: &[Run]) -> Vec<f32> {
    let channels = usize::from(scenario.output_channels);
    let final_clock = runs.last().map_or(0, Run::end);
    let mut out = vec![0.0f32; final_clock as usize * channels];
    let mut plays: Vec<&Item<'_>> = items
        .iter()
        .filter(|i| i.state == State::Active && matches!(i.op, Op::Play { .. }))
        .collect();
    plays.sort_by_key(|i| i.id.seq());
    for item in plays {
        let Op::Play {
            samples,
            map,
            gains,
            ..
        } = item.op
        else {
            continue;
        };
        let k = map.len();
        let start = item.actual.expect("active");
        for (run, a, b) in overlaps(runs, start, item.end.min(final_clock)) {
            if run.lost {
                continue;
            }
            for f in a..b {
                let src = (f - item.origin) as usize * k;
                for j in 0..k {
                    out[f as usize * channels + usize::from(map[j])] += samples[src + j] * gains[j];
                }
            }
        }
    }
    out
}
