//! The deterministic simulated device: drives a real engine through a scenario.

use std::collections::BTreeMap;

use rtmix_core::{
    ActionId, At, ChannelMap, Completion, Controller, Direction, Engine, Error, Feed, GainTarget,
    Heap, Interval, Member, Payload, Play, Record, StreamCapacity, StreamConfig,
};

use crate::blocks::Blocks;
use crate::scenario::{input_sample, GainOf, Op, Scenario, RECORD_FILL};

/// Action slots per direction in the simulated stream.
pub const ACTIONS: usize = 16;
/// Commands that can wait for a block in the simulated stream.
pub const COMMANDS: usize = 15;
/// Completions in transit at once in the simulated stream: few, so that ended actions
/// often wait in their slots for room.
pub const COMPLETIONS: usize = 2;

/// What a simulated play reads: a buffer, or a ring buffer filled before submission.
pub type SimSource = Feed<Vec<f32>, rtrb::Consumer<f32>>;
/// What a simulated recording writes: a buffer, or a ring buffer drained at the end.
pub type SimTarget = Feed<Vec<f32>, rtrb::Producer<f32>>;
/// The capacity of the simulated stream.
pub const CAPACITY: StreamCapacity = StreamCapacity {
    actions: ACTIONS,
    commands: COMMANDS,
    completions: COMPLETIONS,
};
/// A completion of the simulated stream, with its streams turned into samples: a stream
/// play's payload is what was left unread in its ring, a stream recording's is everything
/// it wrote.
pub type SimCompletion = Completion<Vec<f32>, Vec<f32>>;
type Raw = Completion<SimSource, SimTarget>;
type SimMember = Member<SimSource, SimTarget>;
type SimEngine = Engine<SimSource, SimTarget, Heap>;

/// One engine run of one direction: a block, or frames lost to an xrun.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    /// Its first frame.
    pub start: u64,
    /// Its length.
    pub frames: u64,
    /// True for frames lost to an xrun.
    pub lost: bool,
}

impl Run {
    /// One past its last frame.
    pub fn end(&self) -> u64 {
        self.start + self.frames
    }
}

/// What became of one op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Submission {
    /// Accepted as `id`; the engine saw it at the start of run `seen_run` of its direction
    /// (equal to the number of runs if it never ran again).
    Accepted {
        /// Its id.
        id: ActionId,
        /// Index of the run in which the engine took it.
        seen_run: usize,
    },
    /// Refused by the controller.
    Refused(Error),
    /// Not submitted: a cancel whose target was not accepted.
    Skipped,
}

/// Everything a simulation observed.
#[derive(Debug)]
pub struct Outcome {
    /// The captured output, interleaved; frames lost to xruns are zeros.
    pub output: Vec<f32>,
    /// The runs of each direction: `[output, input]`.
    pub runs: [Vec<Run>; 2],
    /// What became of each op, in op order.
    pub submissions: Vec<Submission>,
    /// For each submitted op, how many completions had been collected when it was
    /// submitted (the first that many of `completions`).
    pub completions_before: Vec<usize>,
    /// Every completion received, in arrival order.
    pub completions: Vec<SimCompletion>,
    /// Refusals whose returned buffer differed from the one submitted (must stay empty).
    pub mangled_returns: usize,
    /// Cancels issued by [`simulate_and_drain`] to end what was still outstanding.
    pub drain_cancels: Vec<ActionId>,
    /// Each output channel's meter, read once after the run (before any drain).
    pub meters: Vec<rtmix_core::Level>,
    /// The reading ends of the rings that stream recordings write, by action.
    sinks: BTreeMap<ActionId, rtrb::Consumer<f32>>,
}

impl Outcome {
    /// The ids of the accepted ops, in op order.
    pub fn accepted(&self) -> impl Iterator<Item = ActionId> + '_ {
        self.submissions.iter().filter_map(|s| match s {
            Submission::Accepted { id, .. } => Some(*id),
            _ => None,
        })
    }
}

/// The index of a direction in `[output, input]` arrays.
pub fn dir_index(direction: Direction) -> usize {
    match direction {
        Direction::Output => 0,
        Direction::Input => 1,
    }
}

/// The id of the op with index `index`, if it was accepted.
fn id_of(ids: &[Submission], index: usize) -> Option<ActionId> {
    match ids.get(index) {
        Some(Submission::Accepted { id, .. }) => Some(*id),
        _ => None,
    }
}

/// `at`, or [`At::After`] the op `after` names (`None` if that op was not accepted).
fn when(at: At, after: Option<usize>, ids: &[Submission]) -> Option<At> {
    match after {
        Some(index) => id_of(ids, index).map(At::After),
        None => Some(at),
    }
}

/// The member for `op`, and the reading end of its ring if it records into one.
fn member(op: &Op, ids: &[Submission]) -> Option<(SimMember, Option<rtrb::Consumer<f32>>)> {
    let mut reader = None;
    let member = match op {
        Op::Play {
            samples,
            map,
            gains,
            at,
            late,
            shape,
        } => {
            let map = ChannelMap::new(map).ok()?.with_gains(gains).ok()?;
            let source = if shape.stream.is_some() {
                let (mut tx, rx) = rtrb::RingBuffer::new(samples.len().max(1));
                for &x in samples {
                    tx.push(x).ok()?;
                }
                Feed::Stream(rx)
            } else {
                Feed::Buffer(samples.clone())
            };
            let mut play = Play::new(source, map)
                .on_empty(shape.stream.unwrap_or_default())
                .at(when(*at, shape.after, ids)?)
                .late(*late)
                .repeat(shape.repeat)
                .gain(shape.gain)
                .fade_in(shape.fade_in)
                .fade_out(shape.fade_out)
                .from_frame(shape.offset);
            if let Some((start, end)) = shape.region {
                play = play.region(start, end);
            }
            if let Some((num, den)) = shape.interval {
                play = play.interval(Interval::new(num, den).ok()?);
            }
            Member::Play(play)
        }
        Op::Record {
            frames,
            map,
            at,
            late,
            after,
            sink,
        } => {
            let target = match sink {
                None => Feed::Buffer(vec![RECORD_FILL; frames * map.len()]),
                Some((capacity, _)) => {
                    let (tx, rx) = rtrb::RingBuffer::new((capacity * map.len()).max(1));
                    reader = Some(rx);
                    Feed::Stream(tx)
                }
            };
            let policy = sink.map(|(_, p)| p).unwrap_or_default();
            let map = ChannelMap::new(map).ok()?;
            let record = Record::new(target, map).on_full(policy);
            Member::Record(record.at(when(*at, *after, ids)?).late(*late))
        }
        Op::Cancel {
            target,
            at,
            late,
            ending,
        } => Member::Cancel {
            target: id_of(ids, *target)?,
            at: *at,
            late: *late,
            ending: *ending,
        },
        Op::Gain {
            target,
            gain,
            ramp,
            at,
            late,
        } => Member::Gain {
            target: match target {
                GainOf::Play(index) => GainTarget::Action(id_of(ids, *index)?),
                GainOf::Master(channel) => GainTarget::Master(*channel),
            },
            gain: *gain,
            ramp: *ramp,
            at: *at,
            late: *late,
        },
        Op::Stats { direction, at } => Member::Stats {
            direction: *direction,
            at: *at,
        },
    };
    Some((member, reader))
}

type Ctl = Controller<SimSource, SimTarget, Heap>;

/// Submits one op alone. Returns the id, or the error, and whether a refused buffer came
/// back unchanged.
fn submit_one(ctl: &mut Ctl, m: SimMember) -> (Result<ActionId, Error>, bool) {
    match m {
        Member::Play(p) => {
            let original = p.frames();
            match ctl.play(p) {
                Ok(id) => (Ok(id), true),
                Err(r) => (Err(r.error), r.returned.frames() == original),
            }
        }
        Member::Record(r) => {
            let len = r.frames();
            match ctl.record(r) {
                Ok(id) => (Ok(id), true),
                Err(r) => (Err(r.error), r.returned.frames() == len),
            }
        }
        Member::Cancel {
            target,
            at,
            late,
            ending,
        } => (ctl.cancel_with(target, at, late, ending), true),
        Member::Gain {
            target,
            gain,
            ramp,
            at,
            late,
        } => (ctl.set_gain(target, gain, ramp, at, late), true),
        Member::Stats { direction, at } => (ctl.fetch_stats(direction, at), true),
    }
}

/// Submits several ops as one group (sizes 2 to 4).
fn submit_group(ctl: &mut Ctl, members: Vec<SimMember>) -> Result<Vec<ActionId>, Error> {
    macro_rules! group {
        ($n:literal) => {{
            let arr: [SimMember; $n] = members.try_into().expect("size checked");
            ctl.group(arr).map(|ids| ids.to_vec()).map_err(|r| r.error)
        }};
    }
    match members.len() {
        2 => group!(2),
        3 => group!(3),
        4 => group!(4),
        n => panic!("groups of {n} are not simulated"),
    }
}

/// Checks a simulation against the model, as every equivalence property does: no refusal
/// mangled its buffer, the output is the model's bit for bit, and every completion arrived
/// once and equals the model's.
pub fn check_against_model(
    outcome: &Outcome,
    expected: &crate::model::Expected,
) -> Result<(), proptest::test_runner::TestCaseError> {
    use proptest::{prop_assert, prop_assert_eq};
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
    prop_assert_eq!(outcome.mangled_returns, 0);
    prop_assert_eq!(
        bits(&outcome.output),
        bits(&expected.output),
        "output differs"
    );
    let mut got = BTreeMap::new();
    for c in &outcome.completions {
        prop_assert!(
            got.insert(c.id, c).is_none(),
            "duplicate completion for {:?}",
            c.id
        );
    }
    for (id, want) in &expected.completions {
        prop_assert_eq!(got.get(id).copied(), Some(want), "completion of {:?}", id);
    }
    prop_assert_eq!(
        got.len(),
        expected.completions.len(),
        "unexpected completions"
    );
    Ok(())
}

/// Runs `scenario` on a fresh engine with block sizes from `blocks`.
///
/// Before each block, the steps and xruns whose frame the reference clock has reached
/// are submitted or injected; after it, every arrived completion is collected. Final
/// empty blocks flush completions that had to wait for room in the queue.
pub fn simulate(scenario: &Scenario, blocks: &Blocks) -> Outcome {
    run_scenario(scenario, blocks, false)
}

/// Like [`simulate`], then cancels everything still outstanding (retrying while the
/// controller pushes back) and runs 64-frame blocks until every action has completed, or
/// 10 000 blocks have passed.
pub fn simulate_and_drain(scenario: &Scenario, blocks: &Blocks) -> Outcome {
    run_scenario(scenario, blocks, true)
}

fn run_scenario(scenario: &Scenario, blocks: &Blocks, drain: bool) -> Outcome {
    let mut config = StreamConfig::duplex(scenario.output_channels, scenario.input_channels);
    config.clamp_output = scenario.clamp;
    let (mut ctl, mut engine) =
        rtmix_core::open::<SimSource, SimTarget>(config, CAPACITY).expect("valid config");
    let reference = usize::from(scenario.output_channels == 0);

    let mut outcome = Outcome {
        output: Vec::new(),
        runs: [Vec::new(), Vec::new()],
        submissions: Vec::new(),
        completions_before: Vec::new(),
        completions: Vec::new(),
        mangled_returns: 0,
        drain_cancels: Vec::new(),
        meters: Vec::new(),
        sinks: BTreeMap::new(),
    };
    let mut next_step = 0;
    let mut next_xrun = 0;
    let mut sizes = blocks.sizes();
    let mut input = Vec::new();
    let mut output = Vec::new();

    loop {
        let clock = [engine.output.clock(), engine.input.clock()][reference];
        if clock >= scenario.total_frames {
            break;
        }
        while let Some(step) = scenario
            .steps
            .get(next_step)
            .filter(|s| s.submit_at <= clock)
        {
            next_step += 1;
            submit_step(&mut ctl, &step.ops, &mut outcome);
        }
        while let Some(x) = scenario.xruns.get(next_xrun).filter(|x| x.at <= clock) {
            next_xrun += 1;
            inject_xrun(&mut engine, x.direction, x.frames, &mut outcome);
        }
        let n = sizes
            .next()
            .unwrap_or(1)
            .min((scenario.total_frames - clock) as usize);
        process_block(&mut engine, n, &mut input, &mut output, &mut outcome);
        collect(&mut ctl, &mut outcome);
    }
    // Empty blocks hand back the completions that waited in their slots for room in the
    // (short) completion queue, until none is left.
    loop {
        let before = outcome.completions.len();
        process_block(&mut engine, 0, &mut input, &mut output, &mut outcome);
        collect(&mut ctl, &mut outcome);
        if outcome.completions.len() == before {
            break;
        }
    }
    outcome.meters = (0..scenario.output_channels)
        .filter_map(|c| ctl.meter(Direction::Output, c))
        .collect();
    if drain {
        drain_all(&mut ctl, &mut engine, &mut input, &mut output, &mut outcome);
    }
    outcome
}

/// Cancels every outstanding action and runs blocks until all have completed.
fn drain_all(
    ctl: &mut Ctl,
    engine: &mut SimEngine,
    input: &mut Vec<f32>,
    output: &mut Vec<f32>,
    outcome: &mut Outcome,
) {
    let mut to_cancel: Vec<ActionId> = outcome
        .accepted()
        .filter(|id| ctl.is_outstanding(*id))
        .collect();
    for _ in 0..10_000 {
        to_cancel.retain(|&id| {
            if !ctl.is_outstanding(id) {
                return false;
            }
            match ctl.cancel(id, At::Asap, rtmix_core::Late::StartNow) {
                Ok(cancel) => {
                    outcome.drain_cancels.push(cancel);
                    false
                }
                Err(_) => true, // capacity or queue: retry after the next block
            }
        });
        if to_cancel.is_empty()
            && ctl.outstanding(Direction::Output) == 0
            && ctl.outstanding(Direction::Input) == 0
        {
            return;
        }
        process_block(engine, 64, input, output, outcome);
        collect(ctl, outcome);
    }
}

fn submit_step(ctl: &mut Ctl, ops: &[Op], outcome: &mut Outcome) {
    let taken = outcome.completions.len();
    outcome
        .completions_before
        .extend(std::iter::repeat_n(taken, ops.len()));
    let seen = |d: Direction, outcome: &Outcome| outcome.runs[dir_index(d)].len();
    let (members, mut readers): (Vec<_>, Vec<_>) = ops
        .iter()
        .map(|op| match member(op, &outcome.submissions) {
            Some((m, r)) => (Some(m), r),
            None => (None, None),
        })
        .unzip();
    if ops.len() == 1 {
        let sub = match members.into_iter().next().flatten() {
            None => Submission::Skipped,
            Some(m) => match submit_one(ctl, m) {
                (Ok(id), _) => {
                    if let Some(reader) = readers[0].take() {
                        outcome.sinks.insert(id, reader);
                    }
                    Submission::Accepted {
                        id,
                        seen_run: seen(id.direction(), outcome),
                    }
                }
                (Err(e), intact) => {
                    if !intact {
                        outcome.mangled_returns += 1;
                    }
                    Submission::Refused(e)
                }
            },
        };
        outcome.submissions.push(sub);
        return;
    }
    if members.iter().any(Option::is_none) {
        outcome
            .submissions
            .extend(ops.iter().map(|_| Submission::Skipped));
        return;
    }
    match submit_group(ctl, members.into_iter().flatten().collect()) {
        Ok(ids) => {
            for (id, reader) in ids.into_iter().zip(readers) {
                if let Some(reader) = reader {
                    outcome.sinks.insert(id, reader);
                }
                let seen_run = seen(id.direction(), outcome);
                outcome
                    .submissions
                    .push(Submission::Accepted { id, seen_run });
            }
        }
        Err(e) => outcome
            .submissions
            .extend(ops.iter().map(|_| Submission::Refused(e))),
    }
}

fn inject_xrun(engine: &mut SimEngine, direction: Direction, frames: u64, outcome: &mut Outcome) {
    let (start, channels) = match direction {
        Direction::Output => (engine.output.clock(), engine.output.channels()),
        Direction::Input => (engine.input.clock(), engine.input.channels()),
    };
    if channels == 0 {
        return;
    }
    match direction {
        Direction::Output => {
            engine.output.report_lost(frames);
            let zeros = frames as usize * usize::from(channels);
            outcome.output.extend(std::iter::repeat_n(0.0, zeros));
        }
        Direction::Input => engine.input.report_lost(frames),
    }
    outcome.runs[dir_index(direction)].push(Run {
        start,
        frames,
        lost: true,
    });
}

fn process_block(
    engine: &mut SimEngine,
    n: usize,
    input: &mut Vec<f32>,
    output: &mut Vec<f32>,
    outcome: &mut Outcome,
) {
    let out_ch = usize::from(engine.output.channels());
    let in_ch = engine.input.channels();
    let in_start = engine.input.clock();
    let out_start = engine.output.clock();
    input.clear();
    for f in 0..n as u64 {
        for c in 0..in_ch {
            input.push(input_sample(in_start + f, c));
        }
    }
    output.clear();
    output.resize(n * out_ch, f32::NAN);
    engine.process(input, output);
    // Every loop over blocks ends by the clock: one that stood still would never end.
    if out_ch > 0 {
        assert_eq!(engine.output.clock(), out_start + n as u64, "output clock");
    }
    if in_ch > 0 {
        assert_eq!(engine.input.clock(), in_start + n as u64, "input clock");
    }
    outcome.output.extend_from_slice(output);
    if out_ch > 0 {
        outcome.runs[0].push(Run {
            start: out_start,
            frames: n as u64,
            lost: false,
        });
    }
    if in_ch > 0 {
        outcome.runs[1].push(Run {
            start: in_start,
            frames: n as u64,
            lost: false,
        });
    }
}

fn collect(ctl: &mut Ctl, outcome: &mut Outcome) {
    while let Some(c) = ctl.try_next() {
        let c = samples_of(c, &mut outcome.sinks);
        outcome.completions.push(c);
    }
}

/// Everything left in a ring.
fn drain(ring: &mut rtrb::Consumer<f32>) -> Vec<f32> {
    std::iter::from_fn(|| ring.pop().ok()).collect()
}

/// A completion with its streams turned into samples: what a stream play left unread,
/// what a stream recording wrote.
fn samples_of(c: Raw, sinks: &mut BTreeMap<ActionId, rtrb::Consumer<f32>>) -> SimCompletion {
    let payload = match c.payload {
        Payload::None => Payload::None,
        Payload::Stats(s) => Payload::Stats(s),
        Payload::Played(Feed::Buffer(v)) => Payload::Played(v),
        Payload::Played(Feed::Stream(mut ring)) => Payload::Played(drain(&mut ring)),
        Payload::Recorded(Feed::Buffer(v)) => Payload::Recorded(v),
        Payload::Recorded(Feed::Stream(_)) => {
            Payload::Recorded(sinks.get_mut(&c.id).map(drain).unwrap_or_default())
        }
    };
    Completion {
        id: c.id,
        kind: c.kind,
        requested: c.requested,
        late_by: c.late_by,
        actual_start: c.actual_start,
        frames: c.frames,
        skipped: c.skipped,
        ended_at: c.ended_at,
        end: c.end,
        stats: c.stats,
        payload,
    }
}
