//! Arbitrary bytes as an audio file: loading (hound, symphonia) and resampling must not panic (see `rtmix_fuzz::audio_file`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rtmix_fuzz::audio_file::check(data));
