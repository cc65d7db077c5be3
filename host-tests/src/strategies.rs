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
    /// Frame `n` of the clock: the neighbourhood of frame 0 (in the past once the stream
    /// has run).
    NearZero(u64),
    /// `u64::MAX - n` in wild scenarios; in valid ones, `n` frames after submission.
    NearMax(u64),
}

fn rel_at() -> impl Strategy<Value = RelAt> {
    prop_oneof![
        10 => Just(RelAt::Asap),
        40 => (-300i64..700).prop_map(RelAt::Offset),
        2 => (0u64..3).prop_map(RelAt::NearZero),
        1 => prop_oneof![Just(0u64), Just(1), 0u64..300].prop_map(RelAt::NearMax),
    ]
}

impl RelAt {
    fn at(self, submit: u64, wild: bool) -> At {
        match self {
            RelAt::Asap => At::Asap,
            RelAt::NearZero(n) => At::Frame(n),
            RelAt::NearMax(n) if wild => At::Frame(u64::MAX - n),
            RelAt::NearMax(n) => At::Frame(submit + n),
            RelAt::Offset(d) => At::Frame(submit.saturating_add_signed(d)),
        }
    }
}

/// A channel as the generator picks it, fitted to the stream's channel count later, so
/// the exact boundaries come up often: the last valid channel, and (in wild scenarios) the
/// first invalid one.
#[derive(Clone, Copy, Debug)]
enum Pick {
    /// Channel `n`: reduced modulo the channel count unless a wild op keeps its flaw.
    Index(u16),
    /// The stream's last channel.
    Last,
    /// One past the last channel (the last one unless a wild op keeps its flaw).
    FirstInvalid,
}

fn pick() -> impl Strategy<Value = Pick> + Clone {
    prop_oneof![
        6 => (0u16..4).prop_map(Pick::Index),
        2 => Just(Pick::Last),
        1 => Just(Pick::FirstInvalid),
    ]
}

impl Pick {
    /// The channel in a direction with `channels` channels; `flawed` keeps a channel out
    /// of range.
    fn fit(self, channels: u16, flawed: bool) -> u16 {
        let last = channels.max(1) - 1;
        match (self, flawed) {
            (Pick::Index(n), true) => n,
            (Pick::Index(n), false) => n % (last + 1),
            (Pick::Last, _) | (Pick::FirstInvalid, false) => last,
            (Pick::FirstInvalid, true) => channels,
        }
    }
}

/// A play's region before it is fitted to the buffer.
#[derive(Clone, Copy, Debug)]
enum RawRegion {
    /// From `a` to `b`, reduced into the buffer (a wild one may overrun it).
    Span(u64, u64),
    /// From `a` (reduced) to exactly the buffer's end.
    ToEnd(u64),
    /// Empty, at `a` (reduced).
    Empty(u64),
}

fn raw_region() -> impl Strategy<Value = Option<RawRegion>> {
    prop_oneof![
        6 => Just(None),
        1 => any::<u64>().prop_map(|a| Some(RawRegion::ToEnd(a))),
        1 => any::<u64>().prop_map(|a| Some(RawRegion::Empty(a))),
        1 => (any::<u64>(), any::<u64>()).prop_map(|(a, b)| Some(RawRegion::Span(a, b))),
    ]
}

/// Buffer lengths in frames, empty and single-frame buffers often.
fn buffer_frames() -> impl Strategy<Value = usize> {
    prop_oneof![1 => Just(0usize), 1 => Just(1), 8 => 0usize..200]
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

/// Where an op sits among all ops of its scenario.
#[derive(Clone, Copy, Debug)]
struct Place<'a> {
    /// Its index over all ops.
    index: usize,
    /// The index of the first op of its step (its group's first member).
    first: usize,
    /// The direction of every op before it.
    directions: &'a [Direction],
    wild: bool,
}

impl Place<'_> {
    /// The op `back` ops before this one, which a request names (a predecessor, a
    /// target), in `direction` if given. A valid caller names such an op submitted
    /// before its own step (a member of the same group has no id yet): the nearest one at
    /// or before the op `back` ops back. A wild caller names exactly that op, whatever it
    /// is.
    fn earlier(self, back: usize, direction: Option<Direction>) -> Option<usize> {
        let named = self.index.checked_sub(back);
        if self.wild {
            return named;
        }
        let last = named?.min(self.first.checked_sub(1)?);
        (0..=last)
            .rev()
            .find(|&k| direction.is_none_or(|d| self.directions[k] == d))
    }
}

/// A play's shape before it is fitted to the buffer.
#[derive(Clone, Debug)]
struct RawShape {
    /// Follow the op this many ops back.
    after: Option<usize>,
    region: Option<RawRegion>,
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
        raw_region(),
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
    /// that do not fit) for the op at `place`.
    fn fit(self, frames: u64, place: Place<'_>) -> PlayShape {
        let wild = place.wild;
        if self.stream.is_some() && !wild {
            // A stream has no region, repetitions or interval, and no natural end.
            return PlayShape {
                after: self
                    .after
                    .and_then(|back| place.earlier(back, Some(Direction::Output))),
                gain: self.gain,
                fade_in: self.fade_in % 300,
                stream: self.stream,
                ..PlayShape::default()
            };
        }
        let region = self.region.map(|region| match region {
            RawRegion::Span(a, b) if wild && a.is_multiple_of(7) => {
                (a % (frames + 3), b % (frames + 3))
            }
            RawRegion::Span(a, b) => {
                let start = a % (frames + 1);
                (start, start + b % (frames - start + 1))
            }
            RawRegion::ToEnd(a) => (a % (frames + 1), frames),
            RawRegion::Empty(a) => (a % (frames + 1), a % (frames + 1)),
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
            after: self
                .after
                .and_then(|back| place.earlier(back, Some(Direction::Output))),
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
        map: Vec<Pick>,
        gains: Vec<f32>,
        at: RelAt,
        late: Late,
        flaw: Flaw,
        shape: RawShape,
    },
    Record {
        frames: usize,
        map: Vec<Pick>,
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
        channel: Pick,
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
    let map = prop::collection::vec(pick(), 1..=3);
    let after = prop_oneof![5 => Just(None), 1 => (1usize..4).prop_map(Some)];
    prop_oneof![
        4 => (any::<u64>(), buffer_frames(), map.clone(), prop::collection::vec(gain(), 3), rel_at(), late(), flaw(), raw_shape())
            .prop_map(|(seed, frames, map, gains, at, late, flaw, shape)| RawOp::Play { seed, frames, map, gains, at, late, flaw, shape }),
        2 => (buffer_frames(), map, rel_at(), late(), after, sink())
            .prop_map(|(frames, map, at, late, after, sink)| RawOp::Record { frames, map, at, late, after, sink }),
        2 => (1usize..6, rel_at(), late(), ending()).prop_map(|(back, at, late, ending)| RawOp::Cancel { back, at, late, ending }),
        1 => (prop_oneof![2 => (1usize..6).prop_map(Some), 1 => Just(None)], pick(), gain(), prop_oneof![Just(0u64), 0u64..500], rel_at(), late())
            .prop_map(|(back, channel, gain, ramp, at, late)| RawOp::Gain { back, channel, gain, ramp, at, late }),
        1 => (any::<bool>(), rel_at()).prop_map(|(output, at)| RawOp::Stats { output, at }),
    ]
}

/// `samples` with a wild play's flaw: a NaN or infinite sample, or a ragged length.
fn flawed_samples(mut samples: Vec<f32>, flaw: Flaw, wild: bool) -> Vec<f32> {
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
    samples
}

/// Fits a raw op to the stream; a wild op keeps its flaws (channels out of range, bad
/// samples, ragged lengths, frames near `u64::MAX`).
fn fit(raw: RawOp, submit: u64, place: Place<'_>, channels: (u16, u16)) -> Op {
    let wild = place.wild;
    // A wild op keeps its raw channels (often out of range) only when that is its flaw.
    let fit_map = |map: Vec<Pick>, ch: u16, keep: bool| -> Vec<u16> {
        map.into_iter().map(|p| p.fit(ch, wild && keep)).collect()
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
            let samples = flawed_samples(samples(seed, frames * map.len()), flaw, wild);
            Op::Play {
                samples,
                gains: gains[..map.len()].to_vec(),
                map,
                at: at.at(submit, wild),
                late,
                shape: shape.fit(frames as u64, place),
            }
        }
        // A valid caller asks a stream without inputs for output stats instead.
        RawOp::Record { at, .. } if channels.1 == 0 && !wild => Op::Stats {
            direction: Direction::Output,
            at: at.at(submit, wild),
        },
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
            after: after.and_then(|back| place.earlier(back, Some(Direction::Input))),
            sink,
        },
        // A valid caller with nothing to cancel asks for stats instead; a wild one may
        // cancel itself (an id it was never given).
        RawOp::Cancel { back, at, .. } if place.earlier(back, None).is_none() && !wild => {
            Op::Stats {
                direction: Direction::Output,
                at: at.at(submit, wild),
            }
        }
        RawOp::Cancel {
            back,
            at,
            late,
            ending,
        } => Op::Cancel {
            target: place.earlier(back, None).unwrap_or(place.index),
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
            target: match back.map(|back| place.earlier(back, Some(Direction::Output))) {
                Some(Some(target)) => GainOf::Play(target),
                Some(None) if wild => GainOf::Play(place.index),
                Some(None) | None => GainOf::Master(channel.fit(channels.0, wild)),
            },
            gain,
            ramp,
            at: at.at(submit, wild),
            late,
        },
        RawOp::Stats { output, at } => Op::Stats {
            direction: if output || (channels.1 == 0 && !wild) {
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
            let mut directions = Vec::new();
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
                    let first = index;
                    let ops: Vec<Op> = raws
                        .into_iter()
                        .take(take)
                        .map(|raw| {
                            let place = Place {
                                index,
                                first,
                                directions: &directions,
                                wild,
                            };
                            let op = fit(raw, submit, place, (out_ch, in_ch));
                            directions.push(match &op {
                                Op::Cancel { target, .. } => directions
                                    .get(*target)
                                    .copied()
                                    .unwrap_or(Direction::Output),
                                op => op.direction().unwrap_or(Direction::Output),
                            });
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
