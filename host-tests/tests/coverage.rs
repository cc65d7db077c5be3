//! The random suites must reach the cases they claim to cover: over a fixed sample of
//! generated scenarios, every end reason, lateness policy, xrun overlap and refusal kind
//! occurs. If a generator change stopped producing one, this fails.

use std::collections::BTreeSet;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use rtmix_core::{EndReason, Error};
use rtmix_host_tests::sim::{simulate_and_drain, Submission};
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
}
