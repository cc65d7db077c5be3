//! The mixing kernels on every channel of wide streams: plays whose map covers the whole
//! stream (the kernels picked by channel count: mono, stereo, and the general loop for 3 and
//! more), with map gains, play gains, fades and gain ramps, under random block partitions,
//! give exactly the reference model's samples and completions.
//!
//! The general scenarios ([`rtmix_host_tests::strategies::scenario`]) have at most 3 output
//! channels and random maps, so a fade over a full map of 3 or more channels was rare there:
//! cargo-mutants found that the choice between the stereo and the general enveloped kernel
//! went unchecked (mix.rs, `play_enveloped`). This suite makes that case the common one.
//!
//! The engine mixes four plain voices (a buffer over every channel at unity gain, under an
//! envelope of 1) that follow one another on its active list in one sweep
//! (`mix::add4`), which must give the bits four single sweeps give. The second property
//! plays 4 to 14 voices, most of them plain, with starts, ends, seams, cancels and
//! non-plain voices among them that break up those groups, and samples of very different
//! sizes, so that any change in the order of the sums changes the output.

use proptest::prelude::*;
use rtmix_core::{At, Ending, Late, OnEmpty, Repeat};
use rtmix_host_tests::model::expect;
use rtmix_host_tests::scenario::{GainOf, Op, PlayShape, Scenario, Step};
use rtmix_host_tests::sim::{check_against_model, simulate};
use rtmix_host_tests::strategies::{blocks, samples};

/// Map gains: one for every channel (the full-map kernels) or one per channel (the
/// contiguous kernel over the same channels).
fn map_gains(channels: usize) -> impl Strategy<Value = Vec<f32>> {
    let gain = prop_oneof![Just(1.0f32), Just(0.5), Just(-0.75), Just(1.25)];
    prop_oneof![
        gain.clone().prop_map(move |g| vec![g; channels]),
        prop::collection::vec(gain, channels),
    ]
}

/// A play over every channel of a `channels`-wide stream: a buffer (with fades) or a
/// stream (fade-in only), at gain 1 or not, starting at some frame.
fn full_play(channels: u16) -> impl Strategy<Value = Op> {
    let k = usize::from(channels);
    (
        any::<u64>(),
        1u64..150,
        map_gains(k),
        prop_oneof![Just(1.0f32), Just(0.5), Just(2.0)],
        0u64..60,
        0u64..60,
        0u64..100,
        any::<bool>(),
    )
        .prop_map(
            move |(seed, frames, gains, gain, fade_in, fade_out, start, stream)| {
                let shape = PlayShape {
                    gain,
                    fade_in: fade_in.min(frames),
                    fade_out: if stream { 0 } else { fade_out.min(frames) },
                    stream: stream.then_some(OnEmpty::Silence),
                    ..PlayShape::default()
                };
                Op::Play {
                    samples: samples(seed, frames as usize * k),
                    map: (0..channels).collect(),
                    gains,
                    at: At::Frame(start),
                    late: Late::StartNow,
                    shape,
                }
            },
        )
}

/// One to three full plays on a stream of 1 to 6 channels, and perhaps a gain ramp on the
/// first play and a master gain ramp, all submitted before the first block.
fn wide_scenario() -> impl Strategy<Value = Scenario> {
    (1u16..=6).prop_flat_map(|channels| {
        (
            prop::collection::vec(full_play(channels), 1..=3),
            prop::option::of((0u64..200, 0u64..80, prop_oneof![Just(0.25f32), Just(1.5)])),
            prop::option::of((0..channels, 0u64..200, 0u64..80)),
        )
            .prop_map(move |(plays, retune, master)| {
                let mut ops = plays;
                if let Some((at, ramp, gain)) = retune {
                    ops.push(Op::Gain {
                        target: GainOf::Play(0),
                        gain,
                        ramp,
                        at: At::Frame(at),
                        late: Late::StartNow,
                    });
                }
                if let Some((channel, at, ramp)) = master {
                    ops.push(Op::Gain {
                        target: GainOf::Master(channel),
                        gain: 0.5,
                        ramp,
                        at: At::Frame(at),
                        late: Late::StartNow,
                    });
                }
                Scenario {
                    output_channels: channels,
                    input_channels: 0,
                    steps: vec![Step { submit_at: 0, ops }],
                    xruns: vec![],
                    total_frames: 300,
                    clamp: false,
                }
            })
    })
}

/// A play over every channel of a `channels`-wide stream, plain (buffer, unity gains,
/// envelope 1) in most cases: its samples scaled by 1, 2^-24 or 2^24 (so the order of the
/// sums shows in the bits). Now and then a map gain (the same on every channel, or not), a
/// play gain, a fade-in, a looped region or a stream; the engine mixes some of those in
/// groups too (a full map with one gain, from a buffer, on up to 2 channels under a
/// changing envelope), the rest alone.
fn mostly_plain_play(channels: u16) -> impl Strategy<Value = Op> {
    let k = usize::from(channels);
    (
        any::<u64>(),
        1u64..200,
        prop_oneof![Just(1.0f32), Just(1.0 / 16_777_216.0), Just(16_777_216.0)],
        prop_oneof![4 => Just(1.0f32), 1 => Just(0.75), 1 => Just(-1.5)],
        prop_oneof![4 => Just(1.0f32), 1 => Just(0.5), 1 => Just(3.0)],
        prop_oneof![4 => Just(0u8), 1 => 1u8..=4],
        prop_oneof![3 => Just(0u64), 1 => 0u64..40],
        0u64..8,
    )
        .prop_map(
            move |(seed, frames, scale, map_gain, play_gain, odd, start, offset)| {
                let mut shape = PlayShape {
                    gain: play_gain,
                    ..PlayShape::default()
                };
                let mut gains = vec![map_gain; k];
                match odd {
                    1 => gains[0] = 0.5,
                    2 => shape.fade_in = frames.min(30),
                    3 => {
                        shape.region = Some((frames / 3, frames / 3 + 1 + frames % 17));
                        shape.repeat = Repeat::Forever;
                    }
                    4 => shape.stream = Some(OnEmpty::Silence),
                    _ => {}
                }
                shape.offset = offset.min(frames - 1);
                Op::Play {
                    samples: samples(seed, frames as usize * k)
                        .into_iter()
                        .map(|x| x * scale)
                        .collect(),
                    map: (0..channels).collect(),
                    gains,
                    at: At::Frame(start),
                    late: Late::StartNow,
                    shape,
                }
            },
        )
}

/// 4 to 14 mostly plain plays on a stream of 1 to 4 channels, and perhaps gain ramps and
/// cancels (cut or faded) of some of them, each submitted alone before the first block.
fn many_voices_scenario() -> impl Strategy<Value = Scenario> {
    (1u16..=4).prop_flat_map(|channels| {
        (
            prop::collection::vec(mostly_plain_play(channels), 4..=14),
            prop::collection::vec((0usize..14, 0u64..300, 0u64..20), 0..3),
            prop::collection::vec((0usize..14, 0u64..200, 1u64..300), 0..4),
        )
            .prop_map(move |(plays, cancels, ramps)| {
                let n = plays.len();
                let mut ops = plays;
                for (target, at, ramp) in ramps {
                    ops.push(Op::Gain {
                        target: GainOf::Play(target % n),
                        gain: 0.3,
                        ramp,
                        at: At::Frame(at),
                        late: Late::StartNow,
                    });
                }
                for (target, at, fade) in cancels {
                    ops.push(Op::Cancel {
                        target: target % n,
                        at: At::Frame(at),
                        late: Late::StartNow,
                        ending: if fade == 0 {
                            Ending::Cut
                        } else {
                            Ending::FadeOut(fade)
                        },
                    });
                }
                Scenario {
                    output_channels: channels,
                    input_channels: 0,
                    // One at a time (several ops in one step make a group).
                    steps: Step::each_alone(ops),
                    xruns: vec![],
                    total_frames: 320,
                    clamp: false,
                }
            })
    })
}

proptest! {
    #[test]
    fn many_mostly_plain_voices_equal_the_reference_model_bit_for_bit(
        sc in many_voices_scenario(),
        pattern in blocks(),
    ) {
        let outcome = simulate(&sc, &pattern);
        let expected = expect(&sc, &outcome.runs, &outcome.submissions);
        check_against_model(&outcome, &expected)?;
    }

    #[test]
    fn full_map_plays_on_streams_of_one_to_six_channels_equal_the_reference_model(
        sc in wide_scenario(),
        pattern in blocks(),
    ) {
        let outcome = simulate(&sc, &pattern);
        let expected = expect(&sc, &outcome.runs, &outcome.submissions);
        check_against_model(&outcome, &expected)?;
    }
}
