//! Findings of the fuzz targets in code this crate does not own, one test each over its
//! reproducer in `regressions/<target>/` (docs/reliability.md describes them). Every test
//! runs in `cargo test --release` (as `.ci/test` runs it; the release profile of this crate
//! keeps overflow checks on, as the fuzzer builds it). Findings 2 (its 3.4 GHz case), 3 and
//! 4 are fixed in the CLI (commit e8dd601): their tests assert the fix. Finding 1 is open
//! upstream: its test asserts today's behaviour (a 4 GiB request that fails cleanly under
//! memory overcommit), and fails when symphonia changes it, for reliability.md to follow.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use rtmix_cli::error::AudioProblem;

/// The system allocator, noting the largest single request.
struct Largest;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// `GlobalAlloc` is an unsafe trait: a measuring allocator must implement it.
#[allow(unsafe_code)]
// SAFETY: every call is passed to the system allocator unchanged.
unsafe impl GlobalAlloc for Largest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Largest = Largest;

/// Finding 1 (open upstream): a 139-byte FLAC file whose Vorbis comment block announces a
/// 4 GiB comment makes `rtmix_cli::audio_file::load` (symphonia 0.5.5's comment reader)
/// ask for `u32::MAX` bytes at once. With memory overcommit (Linux's default) the zeroed
/// pages are never touched and the load fails cleanly (`NotAudio`: symphonia's probe gives
/// up on it); under an
/// address-space limit (`ulimit -v 2000000`) the program aborts: "memory allocation of
/// 4294967295 bytes failed". This test asserts both halves of the first sentence; when it
/// fails because the request got smaller, the finding is fixed upstream.
#[test]
fn a_tiny_flac_asks_for_4_gib_at_once_and_fails_cleanly() {
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/regressions/audio_file/symphonia-flac-comment-4gib"
    ))
    .expect("the reproducer");
    assert_eq!(data.len() - 1, 139, "the reproducer's file is 139 bytes");
    // The target's first byte picks the extension (1: .flac); the rest is the file.
    let path = std::env::temp_dir().join(format!("rtmix-finding-1-{}.flac", std::process::id()));
    std::fs::write(&path, &data[1..]).expect("a scratch file");
    LARGEST.store(0, Ordering::Relaxed);
    let result = rtmix_cli::audio_file::load(&path);
    let largest = LARGEST.load(Ordering::Relaxed);
    std::fs::remove_file(&path).ok();
    assert!(
        matches!(result, Err(AudioProblem::NotAudio)),
        "139 bytes of garbage: {:?}",
        result.map(|a| (a.rate, a.channels))
    );
    assert!(
        largest >= u32::MAX as usize,
        "the largest single request was {largest} bytes: symphonia no longer asks for the \
         4 GiB the comment announces (finding 1 fixed upstream? update docs/reliability.md)"
    );
}

/// Finding 2: a WAV header may claim any sample rate; `rtmix render` resamples every file
/// to the session's rate, and from 3 400 576 068 Hz rubato's `FftFixedIn::new` planned an
/// FFT of about 850 million points: the render did not end (over 2 minutes and 780 MB
/// resident when stopped). Fixed: the CLI refuses file rates outside 1 kHz to 768 kHz
/// before resampling.
#[test]
fn an_absurd_sample_rate_is_refused_before_resampling() {
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/regressions/audio_file/rate-3400576068-hz-resample-hang"
    ))
    .expect("the reproducer");
    // First byte 0: the file is named .wav.
    let path = std::env::temp_dir().join(format!("rtmix-finding-2-{}.wav", std::process::id()));
    std::fs::write(&path, &data[1..]).expect("a scratch file");
    let loaded = rtmix_cli::audio_file::load(&path);
    std::fs::remove_file(&path).ok();
    match loaded {
        Err(AudioProblem::Unsupported(m)) => assert!(m.contains("3400576068 Hz"), "{m}"),
        Err(other) => panic!("refused, but not for its rate: {other}"),
        Ok(audio) => panic!("accepted at {} Hz", audio.rate),
    }
}

/// Finding 3: an AIFF-C file whose `COMM` chunk gives a sample rate of 0 makes symphonia
/// 0.5.5's AIFF reader panic (`TimeBase cannot have 0 numerator or denominator`), so
/// `rtmix render` panicked instead of reporting a bad file. Fixed: the CLI catches a
/// decoder's panic as a decode error.
#[test]
fn a_0_hz_aiff_is_refused_without_a_panic() {
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/regressions/audio_file/aiff-0-hz-timebase-panic"
    ))
    .expect("the reproducer");
    // First byte 0: the file is named .wav (it is not RIFF, so symphonia probes it).
    let path = std::env::temp_dir().join(format!("rtmix-finding-3-{}.wav", std::process::id()));
    std::fs::write(&path, &data[1..]).expect("a scratch file");
    let result = std::panic::catch_unwind(|| rtmix_cli::audio_file::load(&path));
    std::fs::remove_file(&path).ok();
    let loaded = result.expect("audio_file::load panicked");
    assert!(
        matches!(loaded, Err(AudioProblem::Decode(_))),
        "a 0 Hz file: {:?}",
        loaded.map(|a| a.rate)
    );
}

/// Finding 4: a `WAVE_FORMAT_EXTENSIBLE` header of 36 channels whose channel mask is 0
/// makes symphonia-format-riff 0.5.5's `fix_channel_mask` shift a 32-bit value by 36:
/// with overflow checks on (debug builds, `cargo run` and `cargo test` without
/// `--release`) `rtmix render` panicked ("attempt to shift left with overflow"); a release
/// build wraps the shift and goes on with a wrong mask. Fixed: the CLI catches the panic
/// as a decode error. The test needs overflow checks to reach the panic, and fails
/// without them (this crate's release profile keeps them on).
#[test]
fn a_36_channel_extensible_wav_is_an_error_not_a_panic() {
    let wrapped = std::panic::catch_unwind(|| std::hint::black_box(u32::MAX) + 1);
    assert!(
        wrapped.is_err(),
        "built without overflow checks: this test cannot reach finding 4's panic"
    );
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/regressions/audio_file/wav-extensible-36-channels-shift-overflow"
    ))
    .expect("the reproducer");
    // First byte 0: the file is named .wav.
    let path = std::env::temp_dir().join(format!("rtmix-finding-4-{}.wav", std::process::id()));
    std::fs::write(&path, &data[1..]).expect("a scratch file");
    let result = std::panic::catch_unwind(|| rtmix_cli::audio_file::load(&path));
    std::fs::remove_file(&path).ok();
    let loaded = result.expect("audio_file::load panicked");
    match loaded {
        Err(AudioProblem::Decode(m)) => assert!(m.contains("shift left with overflow"), "{m}"),
        Err(other) => panic!("refused, but not as the decoder's panic: {other}"),
        Ok(audio) => panic!("accepted with {} channels", audio.channels),
    }
}
