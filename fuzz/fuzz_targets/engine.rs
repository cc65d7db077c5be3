//! An arbitrary command stream and block partition through the real engine, checked against host-tests' reference model and the invariants (see `rtmix_fuzz::engine`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rtmix_fuzz::engine::check(data));
