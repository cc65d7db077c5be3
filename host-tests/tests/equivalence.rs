//! Property a: random scenarios under random block partitions give exactly the reference
//! model's output samples, recordings and completions.

use proptest::prelude::*;
use rtmix_host_tests::model::expect;
use rtmix_host_tests::sim::{check_against_model, simulate};
use rtmix_host_tests::strategies::{blocks, scenario};

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

proptest! {
    #[test]
    fn engine_equals_reference_model(sc in scenario(24), pattern in blocks()) {
        let outcome = simulate(&sc, &pattern);
        let expected = expect(&sc, &outcome.runs, &outcome.submissions);
        check_against_model(&outcome, &expected)?;
        // The meters saw exactly what went to the device: the peak of each channel, and
        // its RMS (summed per block in f32, so compared within a tolerance).
        let channels = usize::from(sc.output_channels);
        let frames = outcome.output.len() / channels.max(1);
        for (c, level) in outcome.meters.iter().enumerate() {
            let samples = outcome.output.iter().skip(c).step_by(channels);
            let peak = samples.clone().fold(0.0f32, |m, x| m.max(x.abs()));
            let lost: u64 = outcome.runs[0].iter().filter(|r| r.lost).map(|r| r.frames).sum();
            prop_assert_eq!(level.peak, peak, "peak of channel {}", c);
            prop_assert_eq!(level.frames, frames as u64 - lost, "frames of channel {}", c);
            let squares: f64 = samples.map(|&x| f64::from(x) * f64::from(x)).sum();
            let rms = (squares / level.frames.max(1) as f64).sqrt();
            if peak > 1e18 {
                // Squares this large may overflow the meter's f32 block sums, which then
                // reads as an over (infinite RMS), as documented.
                continue;
            }
            prop_assert!((f64::from(level.rms) - rms).abs() <= 1e-4 * rms.max(1.0), "rms of channel {}: {} vs {}", c, level.rms, rms);
        }
    }
}

/// The model once panicked here (an overflow in its `AfterRepetition` arithmetic, 4 CI runs
/// in 140): a 0-frame play that starts from frame 1 of an empty region is active for no
/// frames in its first block, and a cancel after its repetition lands in that same block.
/// Nothing is left to cut: the cancel reports `TargetNotActive` in engine and model alike.
#[test]
fn zero_frame_play_cancelled_after_its_repetition_in_its_first_block() {
    use rtmix_core::{At, EndReason, Ending, Late};
    use rtmix_host_tests::blocks::Blocks;
    use rtmix_host_tests::scenario::{Op, PlayShape, Scenario, Step};
    let play = Op::Play {
        samples: vec![0.25; 4],
        map: vec![0],
        gains: vec![1.0],
        at: At::Asap,
        late: Late::Drop,
        shape: PlayShape {
            region: Some((3, 3)),
            offset: 1,
            ..PlayShape::default()
        },
    };
    let cancel = Op::Cancel {
        target: 0,
        at: At::Asap,
        late: Late::Drop,
        ending: Ending::AfterRepetition,
    };
    for pattern in [Blocks::Fixed(1), Blocks::Fixed(64)] {
        let sc = Scenario {
            output_channels: 1,
            input_channels: 0,
            // Two steps before the same block: the engine takes both in it.
            steps: vec![
                Step {
                    submit_at: 10,
                    ops: vec![play.clone()],
                },
                Step {
                    submit_at: 10,
                    ops: vec![cancel.clone()],
                },
            ],
            xruns: vec![],
            total_frames: 100,
            clamp: false,
        };
        let outcome = simulate(&sc, &pattern);
        let expected = expect(&sc, &outcome.runs, &outcome.submissions);
        let cancel_id = outcome.accepted().nth(1).expect("the cancel was accepted");
        let got = outcome.completions.iter().find(|c| c.id == cancel_id);
        assert_eq!(got.map(|c| c.end), Some(EndReason::TargetNotActive));
        assert_eq!(got, expected.completions.get(&cancel_id));
        assert_eq!(bits(&outcome.output), bits(&expected.output));
    }
}
