//! Property a: random scenarios under random block partitions give exactly the reference
//! model's output samples, recordings and completions.

use std::collections::BTreeMap;

use proptest::prelude::*;
use rtmix_host_tests::model::expect;
use rtmix_host_tests::sim::simulate;
use rtmix_host_tests::strategies::{blocks, scenario};

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

proptest! {
    #[test]
    fn engine_equals_reference_model(sc in scenario(24), pattern in blocks()) {
        let outcome = simulate(&sc, &pattern);
        let expected = expect(&sc, &outcome.runs, &outcome.submissions);
        prop_assert_eq!(outcome.mangled_returns, 0);
        prop_assert_eq!(bits(&outcome.output), bits(&expected.output), "output differs");
        let mut got = BTreeMap::new();
        for c in outcome.completions {
            let id = c.id;
            prop_assert!(got.insert(id, c).is_none(), "duplicate completion for {:?}", id);
        }
        for (id, want) in &expected.completions {
            prop_assert_eq!(got.get(id), Some(want), "completion of {:?}", id);
        }
        prop_assert_eq!(got.len(), expected.completions.len(), "unexpected completions");
    }
}
