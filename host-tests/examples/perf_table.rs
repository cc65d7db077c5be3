//! Prints docs/performance.md's tables from the last `cargo bench --bench engine` run
//! (criterion's estimates under target/criterion), with every engine figure as a ratio to
//! the sum kernel measured in the same run.
//!
//! `cargo run --release -p rtmix-host-tests --example perf_table`

use std::fs;
use std::path::{Path, PathBuf};

fn median_ns(dir: &Path) -> Option<f64> {
    let text = fs::read_to_string(dir.join("new/estimates.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap().join("target/criterion")
}

fn pair_table(group: &str, param: &str, values: &[usize], elements: impl Fn(usize) -> f64) {
    println!("| {param} | engine ns/block | kernel ns/block | engine ns per voice-frame | kernel ns per voice-frame | ratio |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for &v in values {
        let e = median_ns(&root().join(group).join("engine").join(v.to_string()));
        let k = median_ns(&root().join(group).join("sum_kernel").join(v.to_string()));
        if let (Some(e), Some(k)) = (e, k) {
            let n = elements(v);
            println!(
                "| {v} | {e:.1} | {k:.1} | {:.3} | {:.3} | {:.2}x |",
                e / n,
                k / n,
                e / k
            );
        }
    }
    println!();
}

/// The `features` group: each feature's engine time beside the sum kernel's at the same
/// voice count (the names are `Feature::name` in `rtmix_host_tests::voices`).
fn features_table() {
    const FEATURES: [&str; 8] = [
        "plain",
        "gain_ramp",
        "fade_in",
        "gain",
        "master_ramp",
        "loop",
        "spaced",
        "ring",
    ];
    println!("| feature | voices | engine ns/block | kernel ns/block | ratio |");
    println!("|---|---:|---:|---:|---:|");
    let group = root().join("features");
    for voices in [64, 8] {
        let Some(k) = median_ns(&group.join("sum_kernel").join(voices.to_string())) else {
            continue;
        };
        for feature in FEATURES {
            if let Some(e) = median_ns(&group.join(feature).join(voices.to_string())) {
                println!("| {feature} | {voices} | {e:.1} | {k:.1} | {:.2}x |", e / k);
            }
        }
    }
    println!();
}

fn main() {
    println!("### Engine against the plain sum kernel, stereo, 64-frame blocks\n");
    pair_table("voices_block64", "voices", &[1, 8, 64, 256, 1023], |v| {
        (v * 64) as f64
    });
    println!("### Engine against the plain sum kernel, stereo, 8 voices\n");
    pair_table(
        "block_8voices",
        "block (frames)",
        &[1, 4, 64, 512, 4096],
        |b| (8 * b) as f64,
    );
    println!("### Features against the plain sum kernel, stereo, 64-frame blocks\n");
    features_table();
    println!("### A block with no active action\n");
    println!("| block (frames) | nothing scheduled ns | 1000 scheduled for later ns |");
    println!("|---:|---:|---:|");
    for block in [1, 64] {
        let dir = root().join("idle_block").join(format!("block{block}"));
        let none = median_ns(&dir.join("0_scheduled"));
        let many = median_ns(&dir.join("1000_scheduled"));
        if let (Some(a), Some(b)) = (none, many) {
            println!("| {block} | {a:.1} | {b:.1} |");
        }
    }
}
