//! Property f: arbitrary command sequences from a careless caller (invalid ones included,
//! full capacity and full queues included) never panic and never lose a completion.

use std::collections::BTreeSet;

use proptest::prelude::*;
use rtmix_host_tests::sim::simulate_and_drain;
use rtmix_host_tests::strategies::{blocks, wild_scenario};

proptest! {
    #[test]
    fn every_accepted_action_completes_exactly_once(sc in wild_scenario(60), pattern in blocks()) {
        let outcome = simulate_and_drain(&sc, &pattern);
        prop_assert_eq!(outcome.mangled_returns, 0, "a refused buffer did not come back intact");
        let mut expected: BTreeSet<_> = outcome.accepted().collect();
        expected.extend(outcome.drain_cancels.iter().copied());
        let mut seen = BTreeSet::new();
        for c in &outcome.completions {
            prop_assert!(seen.insert(c.id), "duplicate completion {:?}", c.id);
            prop_assert!(expected.contains(&c.id), "completion for an unknown action {:?}", c.id);
        }
        let missing: Vec<_> = expected.difference(&seen).collect();
        prop_assert!(missing.is_empty(), "lost completions: {:?}", missing);
    }
}
