//! proptest strategies for scenarios and block patterns.

use proptest::prelude::*;
use rtmix_core::{At, Direction, Late};

use crate::blocks::Blocks;
use crate::scenario::{Op, Scenario, Step, Xrun};

/// Deterministic samples in [-1, 1) from a seed, so big buffers cost little to generate.
pub fn samples(seed: u64, len: usize) -> Vec<f32> {
    (0..len as u64)
        .map(|i| ((seed.wrapping_mul(31).wrapping_add(i * 17)) % 2001) as f32 / 1000.0 - 1.0)
        .collect()
}

/// Any block pattern: fixed sizes from 1 to 4096 frames, random sizes (large and small) and
/// short cycles of odd sizes.
pub fn blocks() -> impl Strategy<Value = Blocks> {
    prop_oneof![
        Just(Blocks::Fixed(1)),
        (2usize..=7).prop_map(Blocks::Fixed),
        Just(Blocks::Fixed(64)),
        Just(Blocks::Fixed(4096)),
        any::<u64>().prop_map(|seed| Blocks::Random { seed, max: 4096 }),
        any::<u64>().prop_map(|seed| Blocks::Random { seed, max: 16 }),
        prop::collection::vec(1usize..300, 1..5).prop_map(Blocks::Cycle),
    ]
}

fn late() -> impl Strategy<Value = Late> {
    prop_oneof![Just(Late::Drop), Just(Late::StartNow), Just(Late::Skip)]
}

/// A frame relative to the submission time (past frames included), or as soon as possible.
#[derive(Clone, Copy, Debug)]
enum RelAt {
    Asap,
    Offset(i64),
    /// Only in wild scenarios: `u64::MAX - n`.
    NearMax(u64),
}

fn rel_at() -> impl Strategy<Value = RelAt> {
    prop_oneof![
        10 => Just(RelAt::Asap),
        40 => (-300i64..700).prop_map(RelAt::Offset),
        1 => (0u64..300).prop_map(RelAt::NearMax),
    ]
}

impl RelAt {
    fn at(self, submit: u64, wild: bool) -> At {
        match self {
            RelAt::Asap => At::Asap,
            RelAt::NearMax(n) if wild => At::Frame(u64::MAX - n),
            RelAt::NearMax(n) => At::Frame(submit + n),
            RelAt::Offset(d) => At::Frame(submit.saturating_add_signed(d)),
        }
    }
}

/// What a wild scenario breaks in a play.
#[derive(Clone, Copy, Debug)]
enum Flaw {
    None,
    Nan(usize),
    Infinite(usize),
    Ragged,
    BadChannel,
}

fn flaw() -> impl Strategy<Value = Flaw> {
    prop_oneof![
        8 => Just(Flaw::None),
        1 => any::<usize>().prop_map(Flaw::Nan),
        1 => any::<usize>().prop_map(Flaw::Infinite),
        1 => Just(Flaw::Ragged),
        1 => Just(Flaw::BadChannel),
    ]
}

/// An op before its channels and frames are fitted to the stream.
#[derive(Clone, Debug)]
enum RawOp {
    Play {
        seed: u64,
        frames: usize,
        map: Vec<u16>,
        gains: Vec<f32>,
        at: RelAt,
        late: Late,
        flaw: Flaw,
    },
    Record {
        frames: usize,
        map: Vec<u16>,
        at: RelAt,
        late: Late,
    },
    Cancel {
        back: usize,
        at: RelAt,
        late: Late,
    },
    Stats {
        output: bool,
        at: RelAt,
    },
}

fn gain() -> impl Strategy<Value = f32> {
    prop_oneof![
        Just(1.0f32),
        Just(0.5),
        Just(-0.25),
        Just(2.0),
        Just(0.0),
        -2.0f32..2.0
    ]
}

fn raw_op() -> impl Strategy<Value = RawOp> {
    let map = prop::collection::vec(0u16..4, 1..=3);
    prop_oneof![
        4 => (any::<u64>(), 0usize..200, map.clone(), prop::collection::vec(gain(), 3), rel_at(), late(), flaw())
            .prop_map(|(seed, frames, map, gains, at, late, flaw)| RawOp::Play { seed, frames, map, gains, at, late, flaw }),
        2 => (0usize..200, map, rel_at(), late())
            .prop_map(|(frames, map, at, late)| RawOp::Record { frames, map, at, late }),
        2 => (1usize..6, rel_at(), late()).prop_map(|(back, at, late)| RawOp::Cancel { back, at, late }),
        1 => (any::<bool>(), rel_at()).prop_map(|(output, at)| RawOp::Stats { output, at }),
    ]
}

/// Fits a raw op to the stream; a wild op keeps its flaws (channels out of range, bad
/// samples, ragged lengths, frames near `u64::MAX`).
fn fit(raw: RawOp, submit: u64, index: usize, channels: (u16, u16), wild: bool) -> Op {
    let fit_map = |map: Vec<u16>, ch: u16| -> Vec<u16> {
        if wild {
            map
        } else {
            map.into_iter().map(|c| c % ch.max(1)).collect()
        }
    };
    match raw {
        RawOp::Play {
            seed,
            frames,
            map,
            gains,
            at,
            late,
            flaw,
        } => {
            let map = fit_map(map, channels.0);
            let mut samples = samples(seed, frames * map.len());
            match flaw {
                Flaw::Nan(i) if wild && !samples.is_empty() => {
                    let n = samples.len();
                    samples[i % n] = f32::NAN;
                }
                Flaw::Infinite(i) if wild && !samples.is_empty() => {
                    let n = samples.len();
                    samples[i % n] = f32::NEG_INFINITY;
                }
                Flaw::Ragged if wild => samples.push(0.5),
                _ => {}
            }
            Op::Play {
                samples,
                gains: gains[..map.len()].to_vec(),
                map,
                at: at.at(submit, wild),
                late,
            }
        }
        RawOp::Record {
            frames,
            map,
            at,
            late,
        } => Op::Record {
            frames,
            map: fit_map(map, channels.1),
            at: at.at(submit, wild),
            late,
        },
        RawOp::Cancel { back, at, late } => Op::Cancel {
            target: index.saturating_sub(back),
            at: at.at(submit, wild),
            late,
        },
        RawOp::Stats { output, at } => Op::Stats {
            direction: if output {
                Direction::Output
            } else {
                Direction::Input
            },
            at: at.at(submit, wild),
        },
    }
}

/// Random valid scenarios: 1 to 3 output and 0 to 3 input channels, up to 3000 frames,
/// up to `max_steps` steps of single ops or groups of 2 to 3, and up to 3 xruns.
pub fn scenario(max_steps: usize) -> impl Strategy<Value = Scenario> {
    scenario_with(max_steps, false)
}

/// Random scenarios with careless callers: besides everything [`scenario`] makes, channels
/// out of range, NaN and infinite samples, ragged buffers, frames near `u64::MAX`, streams
/// without outputs, and enough ops at once to hit full capacity and full queues.
pub fn wild_scenario(max_steps: usize) -> impl Strategy<Value = Scenario> {
    scenario_with(max_steps, true)
}

fn scenario_with(max_steps: usize, wild: bool) -> impl Strategy<Value = Scenario> {
    let step = (0u64..3000, prop::collection::vec(raw_op(), 1..=3), 0u8..4);
    let min_out = u16::from(!wild);
    (
        min_out..=3,
        0u16..=3,
        1u64..3000,
        prop::collection::vec(step, 0..=max_steps),
        prop::collection::vec((0u64..3000, 1u64..200, any::<bool>()), 0..=3),
    )
        .prop_map(move |(out_ch, in_ch, total, steps, xruns)| {
            let in_ch = if out_ch == 0 { in_ch.max(1) } else { in_ch };
            let mut steps = steps;
            steps.sort_by_key(|s| if wild && s.0 % 2 == 0 { s.0 % 64 } else { s.0 } % total);
            let mut index = 0;
            let steps = steps
                .into_iter()
                .map(|(submit, raws, group_roll)| {
                    // Wild callers submit half their steps in one early burst, to hit full
                    // capacity.
                    let submit = if wild && submit % 2 == 0 {
                        submit % 64
                    } else {
                        submit
                    } % total;
                    // Most steps are single ops; one in four is a group.
                    let take = if group_roll == 0 { raws.len() } else { 1 };
                    let ops = raws
                        .into_iter()
                        .take(take)
                        .map(|raw| {
                            let op = fit(raw, submit, index, (out_ch, in_ch), wild);
                            index += 1;
                            op
                        })
                        .collect();
                    Step {
                        submit_at: submit,
                        ops,
                    }
                })
                .collect();
            let mut xruns: Vec<Xrun> = xruns
                .into_iter()
                .map(|(at, frames, output)| Xrun {
                    at: at % total,
                    frames,
                    direction: if (output && out_ch > 0) || in_ch == 0 {
                        Direction::Output
                    } else {
                        Direction::Input
                    },
                })
                .collect();
            xruns.sort_by_key(|x| x.at);
            Scenario {
                output_channels: out_ch,
                input_channels: in_ch,
                steps,
                xruns,
                total_frames: total,
            }
        })
}
