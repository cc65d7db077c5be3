//! Property g: the valid-scenario generator makes only requests the controller accepts, so
//! the reference model, which models what was accepted, cannot silently pass over a valid
//! request the engine refused. The only refusals allowed are backpressure (every action
//! slot taken, the command queue full, or the stats fetches a direction admits at once
//! outstanding) and a follower whose predecessor's completion
//! had already been taken (a valid caller would then use its `ended_at`), and a scenario
//! too small to fill the queues has every request accepted.

use proptest::prelude::*;
use rtmix_core::Error;
use rtmix_host_tests::scenario::{GainOf, Op, Scenario};
use rtmix_host_tests::sim::{simulate, Outcome, Submission};
use rtmix_host_tests::strategies::{blocks, scenario};

/// The op a request names by index (a cancel's or gain's target, a play's or record's
/// predecessor).
fn named(op: &Op) -> Option<usize> {
    match op {
        Op::Play { shape, .. } => shape.after,
        Op::Record { after, .. } => *after,
        Op::Cancel { target, .. }
        | Op::Gain {
            target: GainOf::Play(target),
            ..
        } => Some(*target),
        Op::Gain { .. } | Op::Stats { .. } => None,
    }
}

/// Checks every submission of `sc`: accepted; refused only for backpressure (if
/// `full_allowed`) or because it follows an action whose completion was taken before it
/// was submitted; or skipped because an op it names was not accepted (the op itself or
/// another member of its group).
fn check(sc: &Scenario, outcome: &Outcome, full_allowed: bool) -> Result<(), String> {
    let submissions = &outcome.submissions;
    let taken_before = |i: usize, named: usize| {
        let Some(Submission::Accepted { id, .. }) = submissions.get(named) else {
            return false;
        };
        outcome.completions[..outcome.completions_before[i]]
            .iter()
            .any(|c| c.id == *id)
    };
    let accepted = |i: usize| matches!(submissions.get(i), Some(Submission::Accepted { .. }));
    let mut index = 0;
    for step in &sc.steps {
        let members = index..index + step.ops.len();
        index = members.end;
        for (i, op) in members.clone().zip(&step.ops) {
            // Steps after the scenario's end are never submitted.
            let Some(&submission) = submissions.get(i) else {
                return Ok(());
            };
            match submission {
                // Two stats fetches of a direction may be outstanding at once.
                Submission::Accepted { .. } | Submission::Refused(Error::StatsBusy { .. }) => {}
                Submission::Refused(Error::Capacity { .. } | Error::QueueFull) if full_allowed => {}
                Submission::Refused(Error::NotOutstanding)
                    if step
                        .ops
                        .iter()
                        .filter_map(named)
                        .any(|n| taken_before(i, n)) => {}
                Submission::Refused(e) => return Err(format!("op {i} refused: {e:?}: {op:?}")),
                Submission::Skipped => {
                    let cause = members
                        .clone()
                        .zip(&step.ops)
                        .filter_map(|(_, m)| named(m))
                        .find(|&n| !accepted(n));
                    if cause.is_none() {
                        return Err(format!("op {i} skipped, yet all it names was accepted"));
                    }
                }
            }
        }
    }
    Ok(())
}

proptest! {
    /// Any valid scenario: every refusal is backpressure.
    #[test]
    fn valid_requests_are_refused_only_when_full(sc in scenario(24), pattern in blocks()) {
        let outcome = simulate(&sc, &pattern);
        if let Err(e) = check(&sc, &outcome, true) {
            prop_assert!(false, "{}", e);
        }
    }

    /// At most 4 steps of up to 3 ops: 12 requests never fill the 16 slots or the
    /// 15-command queue, so none is refused for backpressure.
    #[test]
    fn small_valid_scenarios_are_accepted_whole(sc in scenario(4), pattern in blocks()) {
        let outcome = simulate(&sc, &pattern);
        if let Err(e) = check(&sc, &outcome, false) {
            prop_assert!(false, "{}", e);
        }
    }
}
