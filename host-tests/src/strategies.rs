//! proptest strategies for scenarios and block patterns.

use proptest::prelude::*;
use rtmix_core::{At, Direction, Ending, Late, OnEmpty, OnFull, Repeat};

use crate::blocks::Blocks;
use crate::scenario::{GainOf, Op, PlayShape, Scenario, Step, Xrun};

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

/// A play's shape before it is fitted to the buffer.
#[derive(Clone, Debug)]
struct RawShape {
    /// Follow the op this many ops back.
    after: Option<usize>,
    region: Option<(u64, u64)>,
    /// `None`: forever.
    repeat: Option<u64>,
    /// Interval as (extra frames over the region, den).
    interval: Option<(u64, u64)>,
    gain: f32,
    fade_in: u64,
    fade_out: u64,
    stream: Option<OnEmpty>,
    /// Start this far into the play (a fraction of it, scaled when fitted).
    offset: Option<u64>,
}

fn on_empty() -> impl Strategy<Value = Option<OnEmpty>> {
    prop_oneof![
        5 => Just(None),
        1 => Just(Some(OnEmpty::Silence)),
        1 => Just(Some(OnEmpty::Stop)),
    ]
}

fn sink() -> impl Strategy<Value = Option<(usize, OnFull)>> {
    prop_oneof![
        4 => Just(None),
        1 => (1usize..300).prop_map(|c| Some((c, OnFull::Drop))),
        1 => (1usize..300).prop_map(|c| Some((c, OnFull::Stop))),
    ]
}

fn raw_shape() -> impl Strategy<Value = RawShape> {
    (
        prop_oneof![4 => Just(None), 1 => (1usize..4).prop_map(Some)],
        prop_oneof![2 => Just(None), 1 => (any::<u64>(), any::<u64>()).prop_map(Some)],
        prop_oneof![6 => Just(Some(1)), 2 => (0u64..5).prop_map(Some), 1 => Just(None)],
        prop_oneof![3 => Just(None), 1 => (0u64..400, 1u64..8).prop_map(Some)],
        prop_oneof![3 => Just(1.0f32), 1 => gain()],
        prop_oneof![3 => Just(0u64), 1 => any::<u64>()],
        prop_oneof![3 => Just(0u64), 1 => any::<u64>()],
        on_empty(),
        prop_oneof![4 => Just(None), 1 => any::<u64>().prop_map(Some)],
    )
        .prop_map(
            |(after, region, repeat, interval, gain, fade_in, fade_out, stream, offset)| RawShape {
                after,
                region,
                repeat,
                interval,
                gain,
                fade_in,
                fade_out,
                stream,
                offset,
            },
        )
}

impl RawShape {
    /// Fits the shape to a buffer of `frames` frames (a wild one keeps regions and fades
    /// that do not fit) for the op with index `index`.
    fn fit(self, frames: u64, index: usize, wild: bool) -> PlayShape {
        if self.stream.is_some() && !wild {
            // A stream has no region, repetitions or interval, and no natural end.
            return PlayShape {
                after: self.after.and_then(|back| index.checked_sub(back)),
                gain: self.gain,
                fade_in: self.fade_in % 300,
                stream: self.stream,
                ..PlayShape::default()
            };
        }
        let region = self.region.map(|(a, b)| {
            if wild && a.is_multiple_of(7) {
                return (a % (frames + 3), b % (frames + 3));
            }
            let start = a % (frames + 1);
            (start, start + b % (frames - start + 1))
        });
        let len = region.map_or(frames, |(a, b)| b.saturating_sub(a));
        let repeat = match self.repeat {
            None if len > 0 || wild => Repeat::Forever,
            None => Repeat::ONCE,
            Some(n) => Repeat::Times(n),
        };
        // Spaced repetitions: the interval is the region plus some frames, times den,
        // over den, so a fraction of a frame too (a wild one may be shorter than a frame).
        let interval = self.interval.map(|(extra, den)| {
            if wild && extra.is_multiple_of(9) {
                (den - 1, den)
            } else if extra % 2 == 0 {
                ((len.max(1) + extra) * den + extra % den, den)
            } else {
                // Shorter than the region too: each repetition cuts the one before.
                ((1 + extra / 8) * den + extra % den, den)
            }
        });
        let total = match (repeat, interval) {
            (Repeat::Times(0) | Repeat::Forever, _) => 0,
            (Repeat::Times(n), None) => len * n,
            (Repeat::Times(n), Some((num, den))) => (n - 1) * num / den + len,
        };
        let fit_fade = |fade: u64| {
            if fade == 0 || (wild && fade.is_multiple_of(5)) {
                fade % 1000
            } else {
                fade % (total + 1)
            }
        };
        PlayShape {
            after: self.after.and_then(|back| index.checked_sub(back)),
            region,
            repeat,
            interval,
            gain: self.gain,
            fade_in: if repeat == Repeat::Forever {
                self.fade_in % 300
            } else {
                fit_fade(self.fade_in)
            },
            fade_out: if repeat == Repeat::Forever && !wild {
                0
            } else {
                fit_fade(self.fade_out)
            },
            stream: self.stream,
            offset: self.offset.map_or(0, |o| o % (total.max(len) + 2)),
        }
    }
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
        shape: RawShape,
    },
    Record {
        frames: usize,
        map: Vec<u16>,
        at: RelAt,
        late: Late,
        after: Option<usize>,
        sink: Option<(usize, OnFull)>,
    },
    Cancel {
        back: usize,
        at: RelAt,
        late: Late,
        ending: Ending,
    },
    Gain {
        /// `Some(back)`: the op this many back; `None`: a master gain.
        back: Option<usize>,
        channel: u16,
        gain: f32,
        ramp: u64,
        at: RelAt,
        late: Late,
    },
    Stats {
        output: bool,
        at: RelAt,
    },
}

fn ending() -> impl Strategy<Value = Ending> {
    prop_oneof![
        3 => Just(Ending::Cut),
        1 => (0u64..300).prop_map(Ending::FadeOut),
        1 => Just(Ending::AfterRepetition),
    ]
}

fn gain() -> impl Strategy<Value = f32> {
    prop_oneof![
        20 => Just(1.0f32),
        20 => Just(0.5),
        20 => Just(-0.25),
        20 => Just(2.0),
        20 => Just(0.0),
        20 => -2.0f32..2.0,
        // Overflows to infinity when multiplied: the output must never carry it.
        5 => Just(f32::MAX),
    ]
}

fn raw_op() -> impl Strategy<Value = RawOp> {
    let map = prop::collection::vec(0u16..4, 1..=3);
    let after = prop_oneof![5 => Just(None), 1 => (1usize..4).prop_map(Some)];
    prop_oneof![
        4 => (any::<u64>(), 0usize..200, map.clone(), prop::collection::vec(gain(), 3), rel_at(), late(), flaw(), raw_shape())
            .prop_map(|(seed, frames, map, gains, at, late, flaw, shape)| RawOp::Play { seed, frames, map, gains, at, late, flaw, shape }),
        2 => (0usize..200, map, rel_at(), late(), after, sink())
            .prop_map(|(frames, map, at, late, after, sink)| RawOp::Record { frames, map, at, late, after, sink }),
        2 => (1usize..6, rel_at(), late(), ending()).prop_map(|(back, at, late, ending)| RawOp::Cancel { back, at, late, ending }),
        1 => (prop_oneof![2 => (1usize..6).prop_map(Some), 1 => Just(None)], 0u16..4, gain(), prop_oneof![Just(0u64), 0u64..500], rel_at(), late())
            .prop_map(|(back, channel, gain, ramp, at, late)| RawOp::Gain { back, channel, gain, ramp, at, late }),
        1 => (any::<bool>(), rel_at()).prop_map(|(output, at)| RawOp::Stats { output, at }),
    ]
}

/// Fits a raw op to the stream; a wild op keeps its flaws (channels out of range, bad
/// samples, ragged lengths, frames near `u64::MAX`).
fn fit(raw: RawOp, submit: u64, index: usize, channels: (u16, u16), wild: bool) -> Op {
    // A wild op keeps its raw channels (often out of range) only when that is its flaw.
    let fit_map = |map: Vec<u16>, ch: u16, keep: bool| -> Vec<u16> {
        if wild && keep {
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
            shape,
        } => {
            let map = fit_map(map, channels.0, matches!(flaw, Flaw::BadChannel));
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
                shape: shape.fit(frames as u64, index, wild),
            }
        }
        RawOp::Record {
            frames,
            map,
            at,
            late,
            after,
            sink,
        } => Op::Record {
            frames,
            map: fit_map(map, channels.1, frames.is_multiple_of(5)),
            at: at.at(submit, wild),
            late,
            after: after.and_then(|back| index.checked_sub(back)),
            sink,
        },
        RawOp::Cancel {
            back,
            at,
            late,
            ending,
        } => Op::Cancel {
            target: index.saturating_sub(back),
            at: at.at(submit, wild),
            late,
            ending,
        },
        RawOp::Gain {
            back,
            channel,
            gain,
            ramp,
            at,
            late,
        } => Op::Gain {
            target: match back {
                Some(back) => GainOf::Play(index.saturating_sub(back)),
                None if wild => GainOf::Master(channel),
                None => GainOf::Master(channel % channels.0.max(1)),
            },
            gain,
            ramp,
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
        any::<bool>(),
    )
        .prop_map(move |(out_ch, in_ch, total, steps, xruns, clamp)| {
            let in_ch = if out_ch == 0 { in_ch.max(1) } else { in_ch };
            let mut steps = steps;
            steps.sort_by_key(|s| if wild && s.0 % 2 == 0 { 0 } else { s.0 % total });
            let mut index = 0;
            let steps = steps
                .into_iter()
                .map(|(submit, raws, group_roll)| {
                    // Wild callers submit half their steps in one burst before the first
                    // block, to hit full capacity.
                    let submit = if wild && submit % 2 == 0 {
                        0
                    } else {
                        submit % total
                    };
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
                clamp,
            }
        })
}
