//! Arbitrary samples through every sample-format conversion, against an independent quantiser (see `rtmix_fuzz::convert`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rtmix_fuzz::convert::check(data));
