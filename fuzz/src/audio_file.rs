//! The `audio_file` target: arbitrary bytes written as a file and read by
//! `rtmix_cli::audio_file::load` (WAV through hound, everything else through symphonia),
//! then resampled to 48 kHz as `rtmix render` does with every file it loads.
//!
//! The first byte picks the file's extension (symphonia's probe takes it as a hint), the
//! rest is the file. The load must not panic (but for the [`KNOWN_PANICS`] of findings
//! made here and not fixed yet); it gives either a typed
//! [`AudioProblem`] (never "no such file": the file is there) or valid audio: at least
//! one channel, a sample rate above 0, a whole number of frames, only finite samples.
//! Resampling valid audio must not panic either, and gives exactly
//! [`resampled_len`] frames of finite samples. It is only tried from rates of 1 kHz up to
//! the highest a session may ask for (768 kHz, see finding 2 in docs/reliability.md), and when
//! its output stays below a million samples, so that a file claiming 1 Hz does not make
//! each run allocate gigabytes.

use rtmix_cli::audio_file::{load, resample, resampled_len};
use rtmix_cli::error::AudioProblem;
use rtmix_cli::session::MAX_RATE;

use crate::scratch_dir;

/// The extensions the first byte picks from.
pub const EXTENSIONS: [&str; 8] = ["wav", "flac", "mp3", "ogg", "aiff", "aif", "bin", ""];

/// The rate `rtmix render` sessions usually ask for.
const SESSION_RATE: u32 = 48_000;

/// The lowest rate the target resamples from (finding 2).
const MIN_RESAMPLED_RATE: u32 = 1_000;

/// The most samples a resampled file may have for the target to resample it.
const MAX_RESAMPLED: u64 = 1 << 20;

/// Decodes and checks one input: the whole of the `audio_file` target.
pub fn check(data: &[u8]) {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let ext = EXTENSIONS[usize::from(first) % EXTENSIONS.len()];
    let path = scratch_dir().join(if ext.is_empty() {
        "input".to_owned()
    } else {
        format!("input.{ext}")
    });
    std::fs::write(&path, body).expect("cannot write the fuzz input file");
    let Some(loaded) = load_past_known_panics(&path) else {
        return;
    };
    match loaded {
        Err(problem) => {
            assert!(
                !matches!(problem, AudioProblem::NotFound),
                "a file that exists was reported missing"
            );
            // The message is what users see: it must render.
            let _ = problem.to_string();
        }
        Ok(audio) => {
            let channels = usize::from(audio.channels);
            assert!(channels > 0, "audio with 0 channels: {}", audio.format);
            assert!(
                audio.rate > 0,
                "audio with a sample rate of 0 Hz: {} ({} channels, {} samples)",
                audio.format,
                audio.channels,
                audio.samples.len()
            );
            assert!(!audio.samples.is_empty(), "empty audio accepted");
            assert_eq!(
                audio.samples.len() % channels,
                0,
                "{} samples is not a whole number of {channels}-channel frames ({})",
                audio.samples.len(),
                audio.format
            );
            assert!(
                audio.samples.iter().all(|s| s.is_finite()),
                "a non-finite sample accepted"
            );
            // Finding 2 (docs/reliability.md): from a rate far above any real one (the
            // header says 3.4 GHz) rubato plans an FFT of hundreds of millions of points
            // and the resample does not end; from 1 Hz, one of 24 million (2.9 GB, 5 s).
            // Only rates from 1 kHz to the highest a session may have are resampled.
            let wanted = resampled_len(audio.frames(), audio.rate, SESSION_RATE);
            if (MIN_RESAMPLED_RATE..=MAX_RATE).contains(&audio.rate)
                && wanted.saturating_mul(channels as u64) <= MAX_RESAMPLED
            {
                check_resample(audio, wanted);
            }
        }
    }
}

/// The panics of findings 3 and 4 (docs/reliability.md), by message or location:
/// symphonia 0.5.5's AIFF reader panics on a sample rate of 0 Hz (`TimeBase::new(1, 0)`),
/// and its WAV reader overflows a shift (with overflow checks on, as in debug builds) on
/// a `WAVE_FORMAT_EXTENSIBLE` header of more than 32 channels with too few mask bits.
pub const KNOWN_PANICS: [&str; 2] = [
    "TimeBase cannot have 0 numerator or denominator",
    "symphonia-format-riff-0.5.5/src/common.rs",
];

/// `load(path)`, or `None` when it panicked with one of the [`KNOWN_PANICS`], so that
/// fuzzing goes on past a finding that can only be fixed outside this repository (its
/// reproducer and a failing test are committed). Any other panic goes on unwinding, into
/// libFuzzer's crash report.
fn load_past_known_panics(
    path: &std::path::Path,
) -> Option<Result<rtmix_cli::audio_file::Audio, AudioProblem>> {
    // libFuzzer's panic hook aborts at once: hold it while symphonia may panic, and note
    // where the panic was (with its message) for the report.
    static WHERE: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        if let Ok(mut w) = WHERE.lock() {
            *w = info.to_string();
        }
    }));
    let result = std::panic::catch_unwind(|| load(path));
    std::panic::set_hook(hook);
    if let Ok(loaded) = result {
        return Some(loaded);
    }
    let report = WHERE.lock().map(|w| w.clone()).unwrap_or_default();
    assert!(
        KNOWN_PANICS.iter().any(|k| report.contains(k)),
        "audio_file::load panicked: {report}"
    );
    None
}

/// Resampling to the session rate gives exactly `wanted` frames, all finite.
fn check_resample(audio: rtmix_cli::audio_file::Audio, wanted: u64) {
    let (from, channels) = (audio.rate, audio.channels);
    match resample(audio, SESSION_RATE) {
        Ok(out) => {
            assert_eq!(out.rate, SESSION_RATE);
            assert_eq!(out.channels, channels);
            assert_eq!(
                out.frames(),
                wanted,
                "resampled from {from} Hz: frame count"
            );
            assert!(
                out.samples.iter().all(|s| s.is_finite()),
                "resampling from {from} Hz made a non-finite sample"
            );
        }
        Err(problem) => {
            assert!(
                matches!(problem, AudioProblem::Resample { .. }),
                "resample failed with {problem:?}"
            );
        }
    }
}
