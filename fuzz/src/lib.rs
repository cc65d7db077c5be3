//! # rtmix-fuzz
//!
//! The checks behind rtmix's coverage-guided fuzz targets (`cargo fuzz`, libFuzzer). Each
//! target in `fuzz_targets/` is one line that hands libFuzzer's bytes to a function here,
//! so the same checks also run under plain `cargo test` (which replays the committed seed
//! corpus and every reproducer in `regressions/`, see `tests/replay.rs`).
//!
//! * [`engine`]: bytes -> a scenario of plays, recordings, cancels, gain changes, stats
//!   requests and groups, and a block partition; the real engine runs it on
//!   `rtmix-host-tests`' simulated device and is checked against its reference model and
//!   the invariants (no panic, every accepted action completes exactly once, the clock
//!   counts exactly the frames processed, the output is finite);
//! * [`session`]: bytes -> a session TOML for `rtmix_cli::session::parse`, and the plan and
//!   render of what parses, with tiny in-memory audio files;
//! * [`audio_file`]: bytes -> a file loaded by `rtmix_cli::audio_file::load` (hound,
//!   symphonia) and resampled as `rtmix render` does;
//! * [`convert`]: bytes -> samples through every `rtmix_core::convert` format, against an
//!   independent quantiser.
//!
//! Every check panics on a finding: libFuzzer reports a panic as a crash and saves the
//! input that caused it.

pub mod audio_file;
pub mod convert;
pub mod engine;
pub mod session;

use std::path::PathBuf;
use std::sync::OnceLock;

/// A folder private to this process for the files the targets write (removed by nobody:
/// it lives in the system's temporary folder and holds a few small files).
pub(crate) fn scratch_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("rtmix-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("cannot create the fuzz scratch folder");
        dir
    })
}
