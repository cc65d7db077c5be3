//! The mixing kernels on every channel of wide streams: plays whose map covers the whole
//! stream (the kernels picked by channel count: mono, stereo, and the general loop for 3 and
//! more), with map gains, play gains, fades and gain ramps, under random block partitions,
//! give exactly the reference model's samples and completions.
//!
//! The general scenarios ([`rtmix_host_tests::strategies::scenario`]) have at most 3 output
//! channels and random maps, so a fade over a full map of 3 or more channels was rare there:
//! cargo-mutants found that the choice between the stereo and the general enveloped kernel
//! went unchecked (mix.rs, `play_enveloped`). This suite makes that case the common one.

use proptest::prelude::*;
use rtmix_core::{At, Late, OnEmpty};
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

proptest! {
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
