//! Replays the committed seed corpus and every reproducer in `regressions/` through the
//! targets' checks, without libFuzzer: `cargo test` in `fuzz/` (on the stable toolchain,
//! no sanitizer) shows that they all still pass.

use std::path::Path;

/// Every file in `dir` (none if it does not exist), sorted by name.
fn inputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).expect("readable input"))
        })
        .collect();
    files.sort();
    files
}

/// Runs `check` on the target's seeds and fixed regressions; returns how many ran.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for dir in [
        root.join("corpus").join(target),
        root.join("regressions").join(target).join("fixed"),
    ] {
        for (name, data) in inputs(&dir) {
            eprintln!("{target}: {}", dir.join(&name).display());
            check(&data);
            n += 1;
        }
    }
    n
}

#[test]
fn engine_seeds() {
    assert!(replay("engine", rtmix_fuzz::engine::check) > 0);
}

#[test]
fn session_seeds() {
    assert!(replay("session", rtmix_fuzz::session::check) > 0);
}

#[test]
fn audio_file_seeds() {
    assert!(replay("audio_file", rtmix_fuzz::audio_file::check) > 0);
}

#[test]
fn convert_seeds() {
    assert!(replay("convert", rtmix_fuzz::convert::check) > 0);
}
