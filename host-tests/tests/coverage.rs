//! The random suites must reach the cases they claim to cover: over a fixed sample of
//! generated scenarios, every end reason, lateness policy, xrun overlap and refusal kind
//! occurs. If a generator change stopped producing one, this fails.

use std::collections::BTreeSet;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use rtmix_core::{ActionKind, At, EndReason, Ending, Error, Repeat};
use rtmix_host_tests::scenario::{GainOf, Op, Scenario};
use rtmix_host_tests::sim::{simulate_and_drain, Outcome, Submission};
use rtmix_host_tests::strategies::{blocks, scenario, wild_scenario};

fn runner() -> TestRunner {
    TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    )
}

#[test]
fn generators_reach_every_interesting_case() {
    let mut runner = runner();
    let mut reasons = BTreeSet::new();
    let mut errors = BTreeSet::new();
    let (mut skipped, mut late_now, mut lost_in_action, mut groups) = (0, 0, 0, 0);
    // Features: [seam crossed, fade played, gain ramped, master ramped, faded cancel,
    // ended at a seam, followed, clipped, non-finite].
    let mut features = [0usize; 14];
    for i in 0..600 {
        let sc = if i % 2 == 0 {
            scenario(24).new_tree(&mut runner).unwrap().current()
        } else {
            wild_scenario(60).new_tree(&mut runner).unwrap().current()
        };
        let pattern = blocks().new_tree(&mut runner).unwrap().current();
        let outcome = simulate_and_drain(&sc, &pattern);
        groups += sc.steps.iter().filter(|s| s.ops.len() > 1).count();
        for s in &outcome.submissions {
            if let Submission::Refused(e) = s {
                errors.insert(match e {
                    Error::ChannelOutOfRange { .. } => "channel".into(),
                    Error::NonFiniteSample { .. } => "nonfinite".into(),
                    Error::LengthNotWholeFrames { .. } => "ragged".into(),
                    Error::FrameOverflow => "overflow".into(),
                    Error::NoSuchDirection => "direction".into(),
                    Error::Capacity { .. } => "capacity".into(),
                    other => format!("{other:?}"),
                });
            }
        }
        count_features(&sc, &outcome, &mut features);
        for c in &outcome.completions {
            reasons.insert(match c.end {
                EndReason::Cancelled { .. } => "cancelled".to_string(),
                other => format!("{other:?}"),
            });
            skipped += usize::from(c.skipped > 0 && c.frames > 0);
            late_now += usize::from(c.late_by > 0 && c.skipped == 0 && c.actual_start.is_some());
            lost_in_action += usize::from(c.stats.frames_lost > 0);
        }
    }
    for r in [
        "Finished",
        "cancelled",
        "DroppedLate",
        "Cut",
        "TargetNotActive",
    ] {
        assert!(reasons.contains(r), "no completion ended {r}: {reasons:?}");
    }
    for e in [
        "channel",
        "nonfinite",
        "ragged",
        "overflow",
        "direction",
        "capacity",
    ] {
        assert!(errors.contains(e), "no refusal for {e}: {errors:?}");
    }
    assert!(skipped > 10, "late skips: {skipped}");
    assert!(late_now > 10, "late starts: {late_now}");
    assert!(
        lost_in_action > 10,
        "actions overlapping xruns: {lost_in_action}"
    );
    assert!(groups > 50, "groups: {groups}");
    assert!(
        features.iter().all(|&n| n >= 5),
        "[seam, fade, gain, master, faded cancel, seam end, follow, clipped, non-finite, \
         spaced repetitions, missing, underflow, dropped, overflow]: {features:?}"
    );
}

/// Counts, in `features`, completions that show each feature at work: [seam crossed, fade
/// played, gain ramped, master ramped, faded cancel, ended at a seam, followed, clipped,
/// non-finite, spaced repetitions, stream frames missing, underflow stops, stream frames
/// dropped, overflow stops].
fn count_features(sc: &Scenario, outcome: &Outcome, features: &mut [usize; 14]) {
    let ops: Vec<&Op> = sc.ops().collect();
    let by_id: std::collections::BTreeMap<_, _> = outcome
        .submissions
        .iter()
        .zip(&ops)
        .filter_map(|(s, op)| match s {
            Submission::Accepted { id, .. } => Some((*id, *op)),
            _ => None,
        })
        .collect();
    for c in &outcome.completions {
        let played = c.frames > 0;
        match by_id.get(&c.id) {
            Some(Op::Play {
                shape,
                samples,
                map,
                ..
            }) if played => {
                let len = shape
                    .region
                    .map_or((samples.len() / map.len()) as u64, |(a, b)| b - a);
                let loops = matches!(shape.repeat, Repeat::Forever | Repeat::Times(2..));
                features[0] += usize::from(loops && c.frames > len);
                features[1] += usize::from(shape.fade_in > 0 || shape.fade_out > 0);
                features[6] += usize::from(matches!(c.requested, At::After(_)));
                features[9] += usize::from(shape.interval.is_some() && c.frames > len);
            }
            Some(Op::Gain { target, .. }) if c.end == EndReason::Finished => {
                features[usize::from(matches!(target, GainOf::Master(_))) + 2] += 1;
            }
            Some(Op::Cancel { ending, .. }) if c.end == EndReason::Cut => match ending {
                Ending::FadeOut(1..) => features[4] += 1,
                Ending::AfterRepetition => features[5] += 1,
                _ => {}
            },
            _ => {}
        }
        features[10] += usize::from(c.stats.missing > 0);
        features[11] += usize::from(c.end == EndReason::Underflow);
        features[12] += usize::from(c.stats.dropped > 0);
        features[13] += usize::from(c.end == EndReason::Overflow);
        if let (ActionKind::Stats, Some(s)) = (c.kind, c.stream_stats()) {
            features[7] += usize::from(s.clipped > 0);
            features[8] += usize::from(s.non_finite > 0);
        }
    }
}

/// The generators reach the exact boundaries: the last channel of each direction in
/// accepted plays, records and master gains; the first channel past it refused exactly;
/// empty buffers; regions that end at the buffer's end; frames at the start of the clock
/// asked for after it has passed.
#[test]
fn generators_reach_every_boundary() {
    let mut runner = runner();
    // [last output channel played, last input channel recorded, last master gain,
    //  first invalid channel refused, empty buffer accepted, region to the buffer's end,
    //  frame 0..3 asked for late]
    let mut seen = [0usize; 7];
    for i in 0..600 {
        let wild = i % 2 == 1;
        let sc = if wild {
            wild_scenario(60).new_tree(&mut runner).unwrap().current()
        } else {
            scenario(24).new_tree(&mut runner).unwrap().current()
        };
        let pattern = blocks().new_tree(&mut runner).unwrap().current();
        let outcome = simulate_and_drain(&sc, &pattern);
        let (outs, ins) = (sc.output_channels, sc.input_channels);
        for (op, sub) in sc.ops().zip(&outcome.submissions) {
            if let Submission::Refused(Error::ChannelOutOfRange { channel, channels }) = sub {
                seen[3] += usize::from(channel == channels);
            }
            let Submission::Accepted { .. } = sub else {
                continue;
            };
            match op {
                Op::Play {
                    samples,
                    map,
                    shape,
                    ..
                } => {
                    seen[0] += usize::from(outs > 1 && map.contains(&(outs - 1)));
                    seen[4] += usize::from(samples.is_empty());
                    let frames = (samples.len() / map.len()) as u64;
                    seen[5] +=
                        usize::from(matches!(shape.region, Some((a, b)) if a > 0 && b == frames));
                }
                Op::Record { map, .. } => {
                    seen[1] += usize::from(ins > 1 && map.contains(&(ins - 1)));
                }
                Op::Gain {
                    target: GainOf::Master(c),
                    ..
                } => seen[2] += usize::from(outs > 1 && *c == outs - 1),
                _ => {}
            }
        }
        for (step, op) in sc
            .steps
            .iter()
            .flat_map(|s| s.ops.iter().map(move |op| (s, op)))
        {
            let at = match op {
                Op::Play { at, .. }
                | Op::Record { at, .. }
                | Op::Cancel { at, .. }
                | Op::Gain { at, .. }
                | Op::Stats { at, .. } => *at,
            };
            seen[6] += usize::from(matches!(at, At::Frame(f) if f < 3 && step.submit_at > f));
        }
    }
    assert!(
        seen.iter().all(|&n| n >= 50),
        "[last output, last input, last master, first invalid refused, empty buffer, \
         region to the end, early frame late]: {seen:?}"
    );
}
