//! # rtmix-host-tests
//!
//! The proof that rtmix is exact, run offline on the host:
//!
//! * [`sim`]: a deterministic simulated device that drives a real engine through a
//!   [`Scenario`](scenario::Scenario) with any block pattern ([`blocks`]), feeds it a known
//!   input signal, captures its output and injects xruns;
//! * [`model`]: the reference model, an obviously correct mixer over the whole timeline
//!   (plain `Vec`s, no queues, no blocks) that computes the expected output, recordings
//!   and completions of the same scenario;
//! * [`alloc_guard`]: a global allocator that fails a test on any allocation or free made
//!   while it is armed;
//! * [`stream`]: host streams sized like a firmware's storage;
//! * [`jack_server`]: a private JACK server, for the backends' and the CLI's fault and
//!   soak tests;
//! * [`reconnect`]: the device-loss test both backends run, written once over
//!   rtmix-backend's traits;
//! * property suites in `tests/`, benchmarks in `benches/`.
#![deny(missing_docs)]

pub mod alloc_guard;
pub mod blocks;
pub mod jack_server;
pub mod model;
pub mod reconnect;
pub mod scenario;
pub mod sim;
pub mod strategies;
pub mod stream;
pub mod voices;
pub mod wav;

/// The README's example, compiled and run as a doctest so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// The examples of docs/features.md, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/features.md")]
pub struct FeaturesDoctests;

/// The examples of docs/timing.md, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/timing.md")]
pub struct TimingDoctests;
