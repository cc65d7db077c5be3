//! Properties b to e: onset, record, cancel and xrun timing, each exact to the frame under
//! every block pattern (1 frame to 4096, random partitions included).

use proptest::prelude::*;
use rtmix_core::{At, Direction, EndReason, Ending, Late, Payload};
use rtmix_host_tests::scenario::{input_sample, Op, PlayShape, Scenario, Step, Xrun};
use rtmix_host_tests::sim::{simulate, Outcome, SimCompletion, Submission};
use rtmix_host_tests::strategies::blocks;

fn play(samples: Vec<f32>, channel: u16, at: u64) -> Op {
    Op::Play {
        samples,
        map: vec![channel],
        gains: vec![1.0],
        at: At::Frame(at),
        late: Late::Drop,
        shape: PlayShape::default(),
    }
}

fn completion_of(outcome: &Outcome, op_index: usize) -> &SimCompletion {
    let Submission::Accepted { id, .. } = outcome.submissions[op_index] else {
        panic!(
            "op {op_index} was not accepted: {:?}",
            outcome.submissions[op_index]
        );
    };
    outcome
        .completions
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no completion for op {op_index}"))
}

proptest! {
    /// b. An impulse played at frame F appears at output frame F, on its channel only.
    #[test]
    fn impulse_lands_on_its_frame(channels in 1u16..=4, channel in 0u16..4, f in 0u64..6000, pattern in blocks()) {
        let channel = channel % channels;
        let sc = Scenario {
            output_channels: channels,
            input_channels: 0,
            steps: vec![Step { submit_at: 0, ops: vec![play(vec![1.0], channel, f)] }],
            xruns: vec![],
            total_frames: f + 5,
            clamp: false,
        };
        let outcome = simulate(&sc, &pattern);
        let at = f as usize * usize::from(channels) + usize::from(channel);
        for (i, &s) in outcome.output.iter().enumerate() {
            prop_assert_eq!(s, if i == at { 1.0 } else { 0.0 }, "sample {}", i);
        }
        let done = completion_of(&outcome, 0);
        prop_assert_eq!(done.actual_start, Some(f));
        prop_assert_eq!(done.frames, 1);
    }

    /// c. A buffer recorded at frame F equals input[F .. F + len], channel by channel.
    #[test]
    fn recording_equals_input_from_its_frame(
        channels in 1u16..=4,
        map in prop::collection::vec(0u16..4, 1..=3),
        f in 0u64..5000,
        len in 0usize..600,
        pattern in blocks(),
    ) {
        let map: Vec<u16> = map.into_iter().map(|c| c % channels).collect();
        let sc = Scenario {
            output_channels: 0,
            input_channels: channels,
            steps: vec![Step { submit_at: 0, ops: vec![Op::Record { frames: len, map: map.clone(), at: At::Frame(f), late: Late::Drop, after: None, sink: None }] }],
            xruns: vec![],
            total_frames: f + len as u64 + 1,
            clamp: false,
        };
        let outcome = simulate(&sc, &pattern);
        let done = completion_of(&outcome, 0);
        prop_assert_eq!(done.actual_start, Some(f));
        prop_assert_eq!(done.frames, len as u64);
        let Payload::Recorded(buffer) = &done.payload else { panic!("no recording") };
        let expected: Vec<f32> = (0..len as u64)
            .flat_map(|i| map.iter().map(move |&c| input_sample(f + i, c)))
            .collect();
        prop_assert_eq!(buffer, &expected);
    }

    /// d. A cancel at frame F cuts exactly there: the last contribution is at F - 1.
    #[test]
    fn cancel_cuts_at_its_frame(start in 0u64..3000, cut_after in 1u64..1500, extra in 1usize..600, pattern in blocks()) {
        let cut = start + cut_after;
        let len = cut_after as usize + extra;
        let sc = Scenario {
            output_channels: 1,
            input_channels: 0,
            steps: Step::each_alone(vec![
                play(vec![1.0; len], 0, start),
                Op::Cancel { target: 0, at: At::Frame(cut), late: Late::Drop, ending: Ending::Cut },
            ]),
            xruns: vec![],
            total_frames: start + len as u64 + 10,
            clamp: false,
        };
        let outcome = simulate(&sc, &pattern);
        for (i, &s) in outcome.output.iter().enumerate() {
            let expected = if (start..cut).contains(&(i as u64)) { 1.0 } else { 0.0 };
            prop_assert_eq!(s, expected, "frame {}", i);
        }
        let done = completion_of(&outcome, 0);
        prop_assert_eq!(done.end, EndReason::Cancelled { at: cut });
        prop_assert_eq!(done.frames, cut_after);
        prop_assert_eq!(completion_of(&outcome, 1).end, EndReason::Cut);
    }

    /// e. After injected xruns, actions land on the right device frame, recordings hold the
    /// right input frames, and the stats count exactly the frames injected.
    #[test]
    fn xruns_keep_the_device_timeline(
        xruns in prop::collection::vec((0u64..2000, 1u64..500, any::<bool>()), 1..4),
        pattern in blocks(),
    ) {
        let f = 8_000;
        let mut xruns: Vec<Xrun> = xruns
            .into_iter()
            .map(|(at, frames, out)| Xrun { at, frames, direction: if out { Direction::Output } else { Direction::Input } })
            .collect();
        xruns.sort_by_key(|x| x.at);
        let sc = Scenario {
            output_channels: 2,
            input_channels: 1,
            steps: Step::each_alone(vec![
                play(vec![1.0], 1, f),
                // A ramp across every xrun: sample i is the value i, so each output frame
                // shows which buffer frame played there.
                play((0..f + 100).map(|i| i as f32).collect(), 0, 0),
                Op::Record { frames: 40, map: vec![0], at: At::Frame(f), late: Late::Drop, after: None, sink: None },
                Op::Stats { direction: Direction::Output, at: At::Frame(f + 50) },
                Op::Stats { direction: Direction::Input, at: At::Frame(f + 50) },
            ]),
            xruns: xruns.clone(),
            total_frames: f + 4200,
            clamp: false,
        };
        let outcome = simulate(&sc, &pattern);
        // The output capture holds zeros for lost frames, so its index is the device frame.
        let lost = |frame: u64| outcome.runs[0].iter().any(|r| r.lost && (r.start..r.end()).contains(&frame));
        for (frame, s) in outcome.output.chunks(2).enumerate() {
            let frame = frame as u64;
            let ramp = if frame < f + 100 && !lost(frame) { frame as f32 } else { 0.0 };
            prop_assert_eq!(s[0], ramp, "ramp at frame {}", frame);
            prop_assert_eq!(s[1], if frame == f { 1.0 } else { 0.0 }, "impulse channel at frame {}", frame);
        }
        let rec = completion_of(&outcome, 2);
        prop_assert_eq!(rec.actual_start, Some(f));
        let expected: Vec<f32> = (0..40).map(|i| input_sample(f + i, 0)).collect();
        prop_assert_eq!(&rec.payload, &Payload::Recorded(expected));
        for (op, direction) in [(3, Direction::Output), (4, Direction::Input)] {
            let injected: Vec<&Xrun> = xruns.iter().filter(|x| x.direction == direction).collect();
            let Payload::Stats(stats) = &completion_of(&outcome, op).payload else { panic!("no stats") };
            prop_assert_eq!(stats.xruns, injected.len() as u64);
            prop_assert_eq!(stats.frames_lost, injected.iter().map(|x| x.frames).sum::<u64>());
        }
    }
}
