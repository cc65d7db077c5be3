//! # rtmix-alsa
//!
//! rtmix on raw ALSA: the engine renders straight into the device's mmap area, in a thread
//! of its own at realtime priority where the system allows it.
//!
//! ## Design
//!
//! A stream has two sides, like every rtmix backend. The control side is rtmix-core's
//! [`Controller`](rtmix_core::Controller): nothing here changes how actions are submitted
//! or completed. The audio side is an engine half that this crate drives from the device:
//!
//! 1. [`OutputDevice::open`] / [`InputDevice::open`] open a PCM by its ALSA name (`hw:`,
//!    `plughw:`, `default` or any PCM of the ALSA configuration) and negotiate mmap
//!    interleaved access, the channel count, the rate, the period and the number of
//!    periods. What the device granted comes back in [`Granted`]; a refusal is a typed
//!    [`AlsaError`]. This side may allocate (alsa-lib parses its configuration).
//! 2. [`OutputDevice::run`] / [`InputDevice::run`] are the transfer loop. Each turn asks
//!    alsa-lib how many frames the device can take (`snd_pcm_avail_update`), maps them
//!    (`snd_pcm_mmap_begin`), lets the engine render into them (or read from them), and
//!    commits them (`snd_pcm_mmap_commit`); between turns it sleeps in `snd_pcm_wait`
//!    (poll) until a period is free. With `FLOAT_LE` the engine renders into the mmap area
//!    itself; with `S32_LE`, `S24_LE`, `S24_3LE` or `S16_LE` (tried in that order unless
//!    [`Config::format`] insists) it renders into a scratch block allocated when the device
//!    is opened, converted at the edge with rtmix-core's conversions. The loop never
//!    allocates: `tests/no_alloc.rs` runs each loop (playback, capture, duplex) on its own
//!    thread under a counting allocator, on alsa-lib's `null` PCM, while the control side
//!    sends thousands of commands and takes their completions; `tests/file_pcm.rs` does so
//!    in every sample format and `tests/jack.rs` on a paced device through an xrun.
//! 3. [`AlsaStream`] spawns the loop on its own thread (named `rtmix-alsa`), which first
//!    asks for what [`RunControl::realtime`] says ([`RealtimeConfig`]: `SCHED_FIFO` at 70
//!    by default; locked memory only when asked) and reports what it got ([`Realtime`],
//!    a refusal typed as a [`Refusal`] naming the limit) instead of failing when the
//!    system says no; `tests/realtime.rs` checks the kernel's view of it. In steady state
//!    the thread only polls the device, reads the `jack` plugin's wake-up byte and wakes
//!    a waiting controller: `tests/syscalls.rs` audits it under strace.
//!
//! An underrun or overrun (`EPIPE`) or a suspend (`ESTRPIPE`) is counted, the PCM is
//! recovered and restarted (a suspended one is first waited for with a back-off, never
//! longer than the device timeout), and the frames the device went without are reported
//! to the engine (`report_lost`) so its clock stays on the device timeline; playback and
//! capture alike. How many frames that was is measured from the device's own record: its
//! last status (timestamp and `delay`) extended to the device's timestamp of the
//! recovery, minus the engine's clock, so that the buffer a playback device played out
//! after the loop stopped feeding it is not counted, and the frames a capture device held
//! unread (which the recovery throws away) are. A position that falls more than a buffer
//! behind the device's timestamps without an error is counted the same way
//! ([`RunReport::jumps`]). The loops reach the PCM through a small trait, so that a
//! scripted device in the unit tests (`src/fake.rs`) checks all this to the frame; on
//! the `jack` plugin the count is within a period of what the device skipped
//! (`tests/jack.rs`, by a loopback recording), and docs/alsa.md says why not closer.
//!
//! ## Time
//!
//! Each device asks for ALSA's monotonic timestamps (`tstamp_mode`, `tstamp_type`) and,
//! after every transfer, reads the PCM's status (`htstamp`, `delay`; the audio timestamp
//! is requested too). From them it publishes an [`Anchor`](rtmix_core::Anchor) into the
//! stream's [`DeviceClock`](rtmix_core::DeviceClock): "engine frame F is at the converter
//! at instant T". The control side reads it through [`AlsaStream::clock`]: `now()`,
//! frame-to-instant conversion both ways, the commit-to-DAC latency, and the earliest
//! frame a new action can still make. A duplex stream also reports the offset between its
//! input and output clocks ([`Offset`]), marked [`OffsetKind::Exact`] only when the
//! PCMs are linked, on one card (one clock) and both clocks carry device timestamps, and
//! [`OffsetKind::Estimate`] otherwise. A linked pair recovers from an xrun as one.
//!
//! ## When the device goes away
//!
//! An error that recovery cannot fix (`ENODEV`, `EBADFD`, ...) ends the loop with
//! [`AlsaError::Io`]; a device that simply stops moving (a sound server that died, which
//! the `jack` plugin does not report) ends it after [`RunControl::device_timeout`] with
//! [`AlsaError::NotResponding`]. Either way [`AlsaStream`] then stops the engine, so every
//! pending action completes with `StreamStopped`, a recording handing back what it
//! captured; [`AlsaError::is_device_gone`] tells these errors apart.
//!
//! The engine is held by a guard that does the same whatever else ends the thread: a
//! panic on it ([`AlsaError::Panicked`], the guard dropped while unwinding), or a thread
//! that cannot be started ([`AlsaError::Spawn`]; the engine goes to the thread only once
//! it exists, so the caller still has it to end). `tests/thread_fails.rs` proves both.
//!
//! ## Reconnecting
//!
//! [`AlsaStream::play_handing_back`] and [`AlsaStream::record_handing_back`] hand the
//! engine back when the loop ends, whatever ended it (a stop, a device gone), instead of
//! ending what it holds: [`Handback::detached`] then has it, every action still in it, and
//! [`Detached::resume`] moves its clock over the frames the device timeline moved while it
//! was away (the wall time from the instant its next frame was due on the old device, at
//! the granted rate) before it is attached to the reopened device, or another one.
//! `tests/reconnect.rs` kills a private JACK server under a playback and a capture, starts
//! it again and re-attaches both engines: every action completes once, the recording keeps
//! what it captured, and the clocks moved over the gap.
//!
//! ## Not yet
//!
//! The kernel-direct mmap path (`hw:` devices only) is not written: it cannot be tested on
//! machines without a sound card.

#![deny(missing_docs)]

mod backend;
mod config;
mod device;
mod duplex;
mod edge;
mod error;
#[cfg(test)]
mod fake;
mod pcm;
mod realtime;
mod stream;
mod timestamp;
mod track;

pub use backend::Alsa;
pub use config::{DEFAULT_PERIOD, DEFAULT_PERIODS, FORMATS};
pub use device::{InputDevice, OutputDevice};
pub use duplex::{duplex_offset, DuplexDevice};
pub use error::AlsaError;
pub use realtime::{Memory, Realtime, Refusal, Scheduling};
pub use stream::AlsaStream;

/// The interface rtmix-alsa shares with rtmix-cpal, re-exported: the same types and
/// traits in both crates, so that changing `rtmix_alsa` for `rtmix_cpal` (or [`Alsa`]
/// for `rtmix_cpal::Cpal`) is the whole change.
pub use rtmix_backend;
pub use rtmix_backend::{
    Attachable, Backend, Config, Detached, DetachedDuplex, Device, DevicePair, Duplex,
    DuplexHandback, DuplexReport, ErrorKind, Granted, Handback, Offset, OffsetKind, Policy,
    RealtimeConfig, RunControl, RunReport, SampleFormat, Stream,
};

/// The examples of docs/alsa.md, compiled (and, where they need no device, run) as
/// doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/alsa.md")]
pub struct DocsDoctests;
