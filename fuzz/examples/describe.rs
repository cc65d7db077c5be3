//! Prints what an input of the `engine` target decodes to, and runs its checks: for
//! triage of a crash or a seed.
//!
//! `cargo run --example describe -- FILE...`

fn main() {
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path).expect("readable input");
        match rtmix_fuzz::engine::decode(&data) {
            None => println!("{path}: too short"),
            Some(case) => {
                let ops = case.scenario.ops().count();
                println!(
                    "{path}: {:?}, {} out / {} in channels, {} frames, {} steps, {ops} ops, {} xruns, {:?}",
                    case.mode,
                    case.scenario.output_channels,
                    case.scenario.input_channels,
                    case.scenario.total_frames,
                    case.scenario.steps.len(),
                    case.scenario.xruns.len(),
                    case.blocks
                );
                if std::env::var_os("VERBOSE").is_some() {
                    println!("{case:#?}");
                }
                let outcome =
                    rtmix_host_tests::sim::simulate_and_drain(&case.scenario, &case.blocks);
                let mut refused = std::collections::BTreeMap::new();
                for s in &outcome.submissions {
                    if let rtmix_host_tests::sim::Submission::Refused(e) = s {
                        *refused
                            .entry(format!("{e:?}").chars().take(24).collect::<String>())
                            .or_insert(0) += 1;
                    }
                }
                println!(
                    "  {} accepted, {} completions, refused: {refused:?}",
                    outcome.accepted().count(),
                    outcome.completions.len()
                );
                rtmix_fuzz::engine::check_case(&case);
                println!("  checks passed");
            }
        }
    }
}
