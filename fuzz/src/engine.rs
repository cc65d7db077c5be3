//! The `engine` target: an arbitrary command stream under an arbitrary block partition,
//! run by the real engine on `rtmix-host-tests`' simulated device.
//!
//! The first byte picks how the rest becomes a [`Scenario`] and a [`Blocks`] pattern:
//!
//! * [`Mode::Model`]: host-tests' own `scenario` and `blocks` proptest strategies, with
//!   proptest's `ChaCha` generator seeded from a hash of the bytes: each input is one
//!   property-suite case, and libFuzzer keeps the seeds whose case reached new code. The
//!   engine's output must equal the reference model's bit for bit, and its completions
//!   must equal the model's, field for field. (proptest's pass-through generator, which
//!   would let the bytes steer each draw, hangs once the bytes run out: it pads with
//!   zeros, which rand's rejection sampling refuses forever);
//! * [`Mode::Wild`]: host-tests' `wild_scenario` strategy (a careless caller: channels out
//!   of range, NaN and infinite samples, ragged buffers, frames near `u64::MAX`, bursts that
//!   fill the queues);
//! * [`Mode::Raw`]: a decoder of this module that takes every field straight from the
//!   bytes, with no fitting at all: any `u64` frame, region, fade, ramp, repetition count
//!   and interval, any channel number, any `f32` bit pattern as a sample or a gain, groups
//!   of 2 to 4, xruns, and blocks of 1 to 4096 frames in any cycle.
//!
//! Every mode is then checked for the invariants ([`check_invariants`]): no panic, every
//! accepted action (and every cancel the drain adds) completes exactly once, a refused
//! buffer comes back intact, a played buffer comes back bit for bit, the engine clock of
//! each direction equals the frames it processed or lost, and the output is finite (and
//! within `[-1, 1]` when clamped).

use std::collections::{BTreeMap, BTreeSet};

use arbitrary::Unstructured;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use rtmix_core::{
    ActionId, ActionKind, At, Direction, Ending, Late, OnEmpty, OnFull, Payload, Repeat,
};
use rtmix_host_tests::blocks::Blocks;
use rtmix_host_tests::model::expect;
use rtmix_host_tests::scenario::{GainOf, Op, PlayShape, Scenario, Step, Xrun};
use rtmix_host_tests::sim::{simulate, simulate_and_drain, Outcome, Submission};
use rtmix_host_tests::strategies;

/// How the bytes became a scenario, and so what is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A valid scenario (host-tests' `scenario` strategy): the reference model and the
    /// invariants.
    Model,
    /// A careless caller (host-tests' `wild_scenario` strategy): the invariants.
    Wild,
    /// Every field straight from the bytes: the invariants.
    Raw,
}

/// One decoded input of the engine target.
#[derive(Clone, Debug)]
pub struct Case {
    /// How it was decoded.
    pub mode: Mode,
    /// The commands and xruns.
    pub scenario: Scenario,
    /// The block partition.
    pub blocks: Blocks,
}

/// The most steps a raw scenario has (host-tests' wild suite uses 60).
const MAX_STEPS: usize = 48;
/// The longest raw scenario, in frames of the reference clock.
const MAX_TOTAL: u64 = 6000;
/// The longest raw buffer, in frames.
const MAX_FRAMES: usize = 256;

/// Decodes libFuzzer's bytes; `None` when they are too short to say anything.
pub fn decode(data: &[u8]) -> Option<Case> {
    let (&first, rest) = data.split_first()?;
    let case = match first % 3 {
        0 => {
            let (scenario, blocks) =
                from_strategy((strategies::scenario(24), strategies::blocks()), rest)?;
            Case {
                mode: Mode::Model,
                scenario,
                blocks,
            }
        }
        1 => {
            let (scenario, blocks) =
                from_strategy((strategies::wild_scenario(60), strategies::blocks()), rest)?;
            Case {
                mode: Mode::Wild,
                scenario,
                blocks,
            }
        }
        _ => {
            let mut u = Unstructured::new(rest);
            let (scenario, blocks) = raw_case(&mut u).ok()?;
            Case {
                mode: Mode::Raw,
                scenario,
                blocks,
            }
        }
    };
    Some(case)
}

/// Decodes and checks one input: the whole of the `engine` target.
pub fn check(data: &[u8]) {
    if let Some(case) = decode(data) {
        check_case(&case);
    }
}

/// Runs `case` and checks it (see the module's documentation). Panics on a finding.
pub fn check_case(case: &Case) {
    let drained = simulate_and_drain(&case.scenario, &case.blocks);
    check_invariants(&case.scenario, &drained);
    if case.mode == Mode::Model {
        check_model(&case.scenario, &case.blocks);
    }
}

/// A value of `strategy` drawn by proptest's `ChaCha` generator seeded from `bytes`.
fn from_strategy<S: Strategy>(strategy: S, bytes: &[u8]) -> Option<S::Value> {
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_of(bytes));
    let config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, rng);
    strategy
        .new_tree(&mut runner)
        .ok()
        .map(|tree| tree.current())
}

/// A 32-byte seed that every byte of `bytes` changes (four FNV-1a-like lanes, mixed).
fn seed_of(bytes: &[u8]) -> [u8; 32] {
    let mut lanes = [
        0xcbf2_9ce4_8422_2325u64,
        0x9e37_79b9_7f4a_7c15,
        0xbf58_476d_1ce4_e5b9,
        0x94d0_49bb_1331_11eb,
    ];
    for (i, &b) in bytes.iter().enumerate() {
        let lane = &mut lanes[i % 4];
        *lane = (*lane ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut seed = [0u8; 32];
    for (k, lane) in lanes.iter().enumerate() {
        let mut z = lane.wrapping_add(bytes.len() as u64);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        seed[k * 8..k * 8 + 8].copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    seed
}

/// The engine's output and completions equal the reference model's (as host-tests'
/// `equivalence` suite checks them).
fn check_model(scenario: &Scenario, blocks: &Blocks) {
    let outcome = simulate(scenario, blocks);
    let expected = expect(scenario, &outcome.runs, &outcome.submissions);
    assert_eq!(
        outcome.mangled_returns, 0,
        "a refused buffer came back changed"
    );
    assert_eq!(outcome.output.len(), expected.output.len(), "output length");
    for (i, (got, want)) in outcome.output.iter().zip(&expected.output).enumerate() {
        assert_eq!(
            got.to_bits(),
            want.to_bits(),
            "output sample {i} (frame {}): engine {got}, model {want}",
            i / usize::from(scenario.output_channels.max(1))
        );
    }
    let mut got = BTreeMap::new();
    for c in outcome.completions {
        let id = c.id;
        assert!(
            got.insert(id, c).is_none(),
            "duplicate completion of {id:?}"
        );
    }
    for (id, want) in &expected.completions {
        assert_eq!(got.get(id), Some(want), "completion of {id:?}");
    }
    assert_eq!(
        got.len(),
        expected.completions.len(),
        "unexpected completions"
    );
}

/// The invariants every scenario keeps, valid or not, after a drain that cancels what
/// is still outstanding.
pub fn check_invariants(scenario: &Scenario, outcome: &Outcome) {
    assert_eq!(
        outcome.mangled_returns, 0,
        "a refused buffer did not come back intact"
    );

    // Every accepted action, and every cancel of the drain, completes exactly once.
    let ops: Vec<&Op> = scenario.ops().collect();
    let mut op_of: BTreeMap<ActionId, &Op> = BTreeMap::new();
    for (op, sub) in ops.iter().zip(&outcome.submissions) {
        if let Submission::Accepted { id, .. } = sub {
            assert!(op_of.insert(*id, op).is_none(), "id {id:?} given twice");
        }
    }
    let mut expected: BTreeSet<ActionId> = op_of.keys().copied().collect();
    expected.extend(outcome.drain_cancels.iter().copied());
    let mut seen = BTreeSet::new();
    for c in &outcome.completions {
        assert!(seen.insert(c.id), "duplicate completion {:?}", c.id);
        assert!(
            expected.contains(&c.id),
            "completion of an unknown action {:?}",
            c.id
        );
    }
    let missing: Vec<_> = expected.difference(&seen).collect();
    assert!(missing.is_empty(), "lost completions: {missing:?}");

    // Each completion hands back what it was given, and its frames add up.
    for c in &outcome.completions {
        let Some(op) = op_of.get(&c.id) else {
            assert_eq!(
                c.kind,
                ActionKind::Cancel,
                "a drain completion that is no cancel"
            );
            continue;
        };
        check_completion(op, c);
    }

    // The clock of each direction counts exactly the frames processed or lost: every run
    // starts where the one before ended, from frame 0.
    for (d, channels) in [scenario.output_channels, scenario.input_channels]
        .into_iter()
        .enumerate()
    {
        let runs = &outcome.runs[d];
        if channels == 0 {
            assert!(runs.is_empty(), "runs in a direction without channels");
            continue;
        }
        let mut clock = 0;
        for run in runs {
            assert_eq!(
                run.start, clock,
                "direction {d}: a run starts off the clock"
            );
            clock = run.end();
        }
    }
    let out_frames: u64 = outcome.runs[0].iter().map(|r| r.frames).sum();
    assert_eq!(
        outcome.output.len() as u64,
        out_frames * u64::from(scenario.output_channels),
        "captured output length"
    );

    // Nothing but finite samples reaches the device, and clamped output stays in range.
    for (i, x) in outcome.output.iter().enumerate() {
        assert!(x.is_finite(), "output sample {i} is {x}");
        if scenario.clamp {
            assert!((-1.0..=1.0).contains(x), "clamped output sample {i} is {x}");
        }
    }
}

/// One completion of an accepted op: its kind, its payload and its frame counts.
fn check_completion(op: &Op, c: &rtmix_host_tests::sim::SimCompletion) {
    let kind = match op {
        Op::Play { .. } => ActionKind::Play,
        Op::Record { .. } => ActionKind::Record,
        Op::Cancel { .. } => ActionKind::Cancel,
        Op::Gain { .. } => ActionKind::Gain,
        Op::Stats { .. } => ActionKind::Stats,
    };
    assert_eq!(c.kind, kind, "completion kind of {:?}", c.id);
    match (op, &c.payload) {
        (Op::Play { samples, shape, .. }, Payload::Played(back)) => {
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            if shape.stream.is_none() {
                assert_eq!(
                    bits(back),
                    bits(samples),
                    "a played buffer came back changed"
                );
            } else {
                // What a stream play left unread is the tail of what was pushed.
                assert!(
                    back.len() <= samples.len()
                        && bits(&samples[samples.len() - back.len()..]) == bits(back),
                    "a stream play's leftover is not the tail of its samples"
                );
            }
        }
        (Op::Play { .. }, other) => panic!("a play completed without its buffer: {other:?}"),
        (
            Op::Record {
                frames,
                map,
                sink: None,
                ..
            },
            Payload::Recorded(back),
        ) => {
            assert_eq!(
                back.len(),
                frames * map.len(),
                "a recording came back resized"
            );
        }
        (Op::Record { .. }, Payload::Recorded(_)) => {}
        (Op::Record { .. }, other) => {
            panic!("a recording completed without its buffer: {other:?}")
        }
        _ => {}
    }
    if let (Some(start), Some(end)) = (c.actual_start, c.ended_at) {
        if matches!(op, Op::Play { .. } | Op::Record { .. }) {
            assert!(
                c.frames <= end.saturating_sub(start),
                "{:?}: {} frames between {start} and {end}",
                c.id,
                c.frames
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// The raw decoder.

type Res<T> = arbitrary::Result<T>;

/// A scenario and a block pattern with every field straight from the bytes.
fn raw_case(u: &mut Unstructured<'_>) -> Res<(Scenario, Blocks)> {
    let output_channels = u.int_in_range(0..=4)?;
    let mut input_channels = u.int_in_range(0..=4)?;
    if output_channels == 0 && input_channels == 0 {
        input_channels = 1;
    }
    let total_frames = u.int_in_range(1..=MAX_TOTAL)?;
    let clamp = u.arbitrary()?;
    let blocks = raw_blocks(u)?;

    let n_steps = u.int_in_range(0..=MAX_STEPS)?;
    let mut submits = Vec::with_capacity(n_steps);
    for _ in 0..n_steps {
        submits.push(raw_submit(u, total_frames)?);
    }
    submits.sort_unstable();
    let mut steps = Vec::with_capacity(n_steps);
    let mut index = 0;
    for submit_at in submits {
        if u.is_empty() {
            break; // the rest would all be alike
        }
        let size = if u.ratio(1, 4)? {
            u.int_in_range(2..=4)?
        } else {
            1
        };
        let mut ops = Vec::with_capacity(size);
        for _ in 0..size {
            ops.push(raw_op(
                u,
                (output_channels, input_channels),
                submit_at,
                index,
            )?);
            index += 1;
        }
        steps.push(Step { submit_at, ops });
    }

    let mut xruns = Vec::new();
    for _ in 0..u.int_in_range(0..=3)? {
        let at = u.int_in_range(0..=total_frames - 1)?;
        let frames = u.int_in_range(1..=600)?;
        let output = u.arbitrary::<bool>()?;
        let direction = if (output && output_channels > 0) || input_channels == 0 {
            Direction::Output
        } else {
            Direction::Input
        };
        xruns.push(Xrun {
            at,
            frames,
            direction,
        });
    }
    xruns.sort_by_key(|x| x.at);

    Ok((
        Scenario {
            output_channels,
            input_channels,
            steps,
            xruns,
            total_frames,
            clamp,
        },
        blocks,
    ))
}

/// Any block pattern of 1 to 4096 frames.
fn raw_blocks(u: &mut Unstructured<'_>) -> Res<Blocks> {
    Ok(match u.int_in_range(0..=3)? {
        0 => Blocks::Fixed(u.int_in_range(1..=4096)?),
        1 => Blocks::Fixed(u.int_in_range(1..=8)?),
        2 => Blocks::Random {
            seed: u.arbitrary()?,
            max: u.int_in_range(1..=4096)?,
        },
        _ => {
            let n = u.int_in_range(1..=4)?;
            let mut sizes = Vec::with_capacity(n);
            for _ in 0..n {
                sizes.push(if u.arbitrary()? {
                    u.int_in_range(1..=16)?
                } else {
                    u.int_in_range(1..=4096)?
                });
            }
            Blocks::Cycle(sizes)
        }
    })
}

/// When a step is submitted: before the first block, or anywhere in the run.
fn raw_submit(u: &mut Unstructured<'_>, total: u64) -> Res<u64> {
    Ok(if u.ratio(1, 4)? {
        0
    } else {
        u.int_in_range(0..=total - 1)?
    })
}

/// A frame count or length: mostly 0 or small, sometimes medium or any `u64` (near the
/// top and powers of two included).
fn raw_count(u: &mut Unstructured<'_>) -> Res<u64> {
    Ok(match u.int_in_range(0..=15)? {
        0..=5 => 0,
        6..=9 => u64::from(u.arbitrary::<u8>()?),
        10 => u64::from(u.arbitrary::<u16>()?),
        11 => u64::MAX - u64::from(u.arbitrary::<u8>()?),
        12 => u.arbitrary()?,
        13 => 1u64 << u.int_in_range(0..=63)?,
        _ => u.int_in_range(1..=8)?,
    })
}

/// A start frame: as soon as possible, near the submission (past included), near
/// `u64::MAX`, or anything.
fn raw_at(u: &mut Unstructured<'_>, submit: u64) -> Res<At> {
    Ok(match u.int_in_range(0..=4)? {
        0 => At::Asap,
        1 => At::Frame(submit.saturating_add_signed(i64::from(u.arbitrary::<i16>()?))),
        2 => At::Frame(u64::from(u.arbitrary::<u16>()?)),
        3 => At::Frame(u64::MAX - u64::from(u.arbitrary::<u16>()?)),
        _ => At::Frame(u.arbitrary()?),
    })
}

fn raw_late(u: &mut Unstructured<'_>) -> Res<Late> {
    Ok(*u.choose(&[Late::Drop, Late::StartNow, Late::Skip])?)
}

/// A sample or gain: ordinary values, the awkward ones (NaN, infinities, `f32::MAX`,
/// subnormals, -0), or any bit pattern.
fn raw_f32(u: &mut Unstructured<'_>) -> Res<f32> {
    const SPECIAL: [f32; 12] = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        2.0,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::MAX,
        f32::MIN_POSITIVE,
        1e-45,
    ];
    Ok(match u.int_in_range(0..=3)? {
        0 => *u.choose(&SPECIAL)?,
        1 => f32::from_bits(u.arbitrary()?),
        _ => f32::from(u.arbitrary::<i8>()?) / 64.0,
    })
}

/// A channel map for a direction of `channels` channels: mostly 1 to 3 channels in
/// range (duplicates included), sometimes empty, too long, just out of range or any `u16`.
fn raw_map(u: &mut Unstructured<'_>, channels: u16) -> Res<Vec<u16>> {
    // (An exhausted input reads as the lowest choice everywhere: make that the usual.)
    let len = match u.int_in_range(0..=31)? {
        n @ 0..=29 => 1 + n % 3,
        30 => 0,
        _ => u.int_in_range(4..=40)?,
    };
    let mut map = Vec::with_capacity(len);
    for _ in 0..len {
        map.push(match u.int_in_range(0..=31)? {
            0..=29 => u.int_in_range(0..=channels.saturating_sub(1))?,
            30 => channels,
            _ => u.arbitrary()?,
        });
    }
    Ok(map)
}

/// The index of an earlier op (or one that does not exist).
fn raw_index(u: &mut Unstructured<'_>, index: usize) -> Res<usize> {
    u.int_in_range(0..=index + 1)
}

fn raw_op(u: &mut Unstructured<'_>, channels: (u16, u16), submit: u64, index: usize) -> Res<Op> {
    Ok(match u.int_in_range(0..=9)? {
        0..=3 => raw_play(u, channels.0, submit, index)?,
        4 | 5 => {
            let frames = u.int_in_range(0..=2 * MAX_FRAMES)?;
            let map = raw_map(u, channels.1)?;
            let at = raw_at(u, submit)?;
            let late = raw_late(u)?;
            let after = if u.ratio(1, 5)? {
                Some(raw_index(u, index)?)
            } else {
                None
            };
            let sink = if u.ratio(1, 3)? {
                let policy = if u.arbitrary()? {
                    OnFull::Drop
                } else {
                    OnFull::Stop
                };
                Some((u.int_in_range(1..=300)?, policy))
            } else {
                None
            };
            Op::Record {
                frames,
                map,
                at,
                late,
                after,
                sink,
            }
        }
        6 | 7 => Op::Cancel {
            target: raw_index(u, index)?,
            at: raw_at(u, submit)?,
            late: raw_late(u)?,
            ending: match u.int_in_range(0..=2)? {
                0 => Ending::Cut,
                1 => Ending::FadeOut(raw_count(u)?),
                _ => Ending::AfterRepetition,
            },
        },
        8 => Op::Gain {
            target: if u.arbitrary()? {
                GainOf::Play(raw_index(u, index)?)
            } else if u.ratio(1, 8)? {
                GainOf::Master(u.arbitrary()?)
            } else {
                GainOf::Master(u.int_in_range(0..=channels.0)?)
            },
            gain: raw_f32(u)?,
            ramp: raw_count(u)?,
            at: raw_at(u, submit)?,
            late: raw_late(u)?,
        },
        _ => Op::Stats {
            direction: if u.arbitrary()? {
                Direction::Output
            } else {
                Direction::Input
            },
            at: raw_at(u, submit)?,
        },
    })
}

fn raw_play(u: &mut Unstructured<'_>, channels: u16, submit: u64, index: usize) -> Res<Op> {
    let map = raw_map(u, channels)?;
    let frames = u.int_in_range(0..=MAX_FRAMES)?;
    let seed = u.arbitrary()?;
    let mut samples = strategies::samples(seed, frames * map.len());
    // A few samples of any value (NaN, infinities, huge, subnormal...).
    for _ in 0..u.int_in_range(0..=3)? {
        if samples.is_empty() {
            break;
        }
        let i = u.choose_index(samples.len())?;
        samples[i] = raw_f32(u)?;
    }
    // Sometimes a ragged buffer: not a whole number of frames.
    if u.ratio(1, 16)? {
        samples.push(0.25);
    }
    let mut gains = Vec::with_capacity(map.len() + 1);
    let n_gains = if u.ratio(1, 16)? {
        map.len() + 1
    } else {
        map.len()
    };
    for _ in 0..n_gains {
        gains.push(raw_f32(u)?);
    }
    let at = raw_at(u, submit)?;
    let late = raw_late(u)?;
    let shape = PlayShape {
        after: if u.ratio(1, 5)? {
            Some(raw_index(u, index)?)
        } else {
            None
        },
        region: if u.ratio(1, 4)? {
            let frames = frames as u64;
            Some(if u.arbitrary()? {
                (
                    u.int_in_range(0..=frames + 2)?,
                    u.int_in_range(0..=frames + 2)?,
                )
            } else {
                (raw_count(u)?, raw_count(u)?)
            })
        } else {
            None
        },
        repeat: match u.int_in_range(0u8..=5)? {
            0 => Repeat::Forever,
            1 => Repeat::Times(raw_count(u)?),
            n => Repeat::Times(u64::from(n) - 2),
        },
        interval: if u.ratio(1, 6)? {
            Some((raw_count(u)?, raw_count(u)?))
        } else {
            None
        },
        gain: if u.arbitrary()? { 1.0 } else { raw_f32(u)? },
        fade_in: if u.arbitrary()? { 0 } else { raw_count(u)? },
        fade_out: if u.arbitrary()? { 0 } else { raw_count(u)? },
        stream: match u.int_in_range(0..=7)? {
            0 => Some(OnEmpty::Silence),
            1 => Some(OnEmpty::Stop),
            _ => None,
        },
        offset: if u.arbitrary()? { 0 } else { raw_count(u)? },
    };
    Ok(Op::Play {
        samples,
        map,
        gains,
        at,
        late,
        shape,
    })
}
