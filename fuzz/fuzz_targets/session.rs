//! Arbitrary bytes as a session file: parse, plan and render must not panic and must fail only with typed errors (see `rtmix_fuzz::session`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rtmix_fuzz::session::check(data));
