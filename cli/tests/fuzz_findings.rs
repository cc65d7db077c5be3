//! The files the fuzzer found that broke the CLI's audio loading (`fuzz/regressions/
//! audio_file`, docs/reliability.md): each must now be a typed error, quickly, never a
//! panic or a hang. A reproducer's first byte picks the file's extension (as in the fuzz
//! target); the rest is the file.

use std::time::{Duration, Instant};

use rtmix_cli::audio_file::load;
use rtmix_cli::error::AudioProblem;

fn reproducer(name: &str) -> std::path::PathBuf {
    let data = std::fs::read(format!(
        "{}/../fuzz/regressions/audio_file/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("the reproducer is committed");
    let ext = ["wav", "flac", "mp3", "ogg", "aiff", "aif", "bin", ""][usize::from(data[0]) % 8];
    let path =
        std::env::temp_dir().join(format!("rtmix-finding-{}-{name}.{ext}", std::process::id()));
    std::fs::write(&path, &data[1..]).unwrap();
    path
}

fn refused(name: &str) -> AudioProblem {
    let path = reproducer(name);
    let started = Instant::now();
    let result = load(&path);
    let _ = std::fs::remove_file(&path);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{name}: took {:?}",
        started.elapsed()
    );
    match result {
        Ok(audio) => panic!(
            "{name}: accepted as {} Hz, {} channels",
            audio.rate, audio.channels
        ),
        Err(problem) => {
            eprintln!("{name}: {problem}");
            problem
        }
    }
}

#[test]
fn a_0_hz_aiff_is_a_decode_error_not_a_panic() {
    assert!(matches!(
        refused("aiff-0-hz-timebase-panic"),
        AudioProblem::Decode(_)
    ));
}

#[test]
fn a_wav_claiming_3_4_ghz_is_refused_before_any_resampling() {
    let problem = refused("rate-3400576068-hz-resample-hang");
    assert!(
        matches!(&problem, AudioProblem::Unsupported(m) if m.contains("3400576068 Hz")),
        "{problem}"
    );
}

#[test]
fn a_1_hz_aiff_is_refused_before_resampling() {
    let problem = refused("aiff-1-hz-resample-2.9-gb");
    assert!(
        matches!(&problem, AudioProblem::Unsupported(m) if m.contains("sample rate")),
        "{problem}"
    );
}

#[test]
fn an_extensible_wav_with_36_channels_and_too_few_mask_bits_is_an_error() {
    refused("wav-extensible-36-channels-shift-overflow");
}

#[test]
fn a_flac_announcing_a_4_gib_comment_is_an_error() {
    // symphonia 0.5.5 still asks for the 4 GiB (upstream); with overcommit the pages are
    // never touched and the load fails cleanly. Under an address-space limit it would abort.
    refused("symphonia-flac-comment-4gib");
}
