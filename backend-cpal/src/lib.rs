//! # rtmix-cpal
//!
//! rtmix on cpal: exact scheduling and recording on every host cpal reaches (ALSA, JACK
//! with the `jack` feature, `CoreAudio`, `WASAPI`, …), with the same control API as
//! rtmix-alsa, so that switching backends changes the line that opens the device.
//!
//! ## Design
//!
//! A stream has two sides, like every rtmix backend. The control side is rtmix-core's
//! [`Controller`](rtmix_core::Controller): nothing here changes how actions are submitted
//! or completed. The audio side is an engine half that runs inside a cpal callback. A host
//! program opens the two sides with [`rtmix_core::open`], whose storage is allocated once
//! and freed when the controller and the stream are both gone; any engine that can be
//! moved to cpal's audio thread will do (`Send` and `'static`: one on a `'static`
//! [`Fixed`](rtmix_core::Fixed) storage too).
//!
//! 1. [`OutputDevice::open`] / [`InputDevice::open`] find the host and the device by name
//!    ([`Config`]) and check the rate, the channel count and a sample format against what
//!    the device lists (`f32` first, then the widest integer, unless [`Config::format`]
//!    insists). A missing host or device or a refused configuration is a typed
//!    [`CpalError`] that says what there is instead. [`hosts`] and [`devices`] enumerate.
//! 2. [`CpalStream::play`] / [`CpalStream::record`] build the cpal stream around an
//!    [`OutputCallback`] / [`InputCallback`]: the engine half, a scratch block for integer
//!    formats (converted with rtmix-core's `convert`), and a [`DeviceClock`] on which every
//!    callback publishes an anchor: the engine frame at the converter (the engine clock
//!    at the block's start) at cpal's playback (capture) instant, with the latency between
//!    cpal's callback and playback (capture) instants. The callbacks never allocate, free,
//!    lock or print: `tests/alsa_file.rs` and `tests/jack.rs` run them under a counting
//!    allocator inside running cpal streams (`RunControl::audit`).
//! 3. A control-side thread owns the cpal streams and ends them when asked, when
//!    [`RunControl::stop_after`] frames are done, when the host reports that the device
//!    disappeared or the stream is invalid ([`CpalError::Stream`]), or when no data
//!    callback has come for [`RunControl::device_timeout`] (at least two periods): a device
//!    or server that died without the host saying so, as cpal's ALSA host does when the
//!    JACK server behind the `jack` plugin is killed ([`CpalError::NotResponding`]).
//!    Ending a stream drops its callback, and the callback's engine ends everything it
//!    holds with `EndReason::StreamStopped`: nothing waits forever on a dead device
//!    (`tests/jack_dies.rs` kills a private JACK server under both hosts).
//!
//! cpal's `StreamInstant`s count from an epoch and on a clock of the host's choosing;
//! every callback pairs its instant with `Instant::now()` (through the vDSO on Linux: no
//! system call), and each direction fits a line from cpal's time to the monotonic clock
//! to the least delayed pairings, so that a host clock NTP slews against cpal's does not
//! carry the anchors away (within a frame at 48 kHz over six hours at ±500 ppm against
//! scripted clocks: `src/clock_map.rs`). Every anchor says whether cpal's timestamps are
//! the device's or the host's clock ([`Granted::time_source`]: the JACK host and ALSA
//! PCMs of sound-server plugins are the host's). See [`DeviceClock`] for how frames and
//! instants convert.
//!
//! Xruns reach rtmix through cpal's error callback, on whichever thread the host calls it,
//! and are counted. The frames lost are the gaps in cpal's converter instants (a callback
//! more than half a buffer later than the last one's frames took it), each matched with
//! an xrun report that came before or after it (`src/losses.rs`), and reported to the
//! engine (`report_lost`), so the engine clock stays on the device timeline. Other host
//! errors are kept for the control side ([`RunReport::errors`], [`CpalStream::error`])
//! through a fixed ring. The error callback neither allocates nor frees (it runs under
//! `RunControl::audit` like the data callbacks), except that an error arriving while 32
//! are still untaken is dropped, which frees the message cpal allocated for it.
//!
//! ## Duplex
//!
//! cpal has no duplex stream. [`CpalStream::duplex`] runs the output half of an engine in
//! an output stream and its input half in an input stream; rtmix-core's halves are
//! independent, each on its own frame clock, so no ring between the callbacks is needed
//! and no latency is added. What a duplex needs to know is where one clock stands against
//! the other: [`DuplexStream::offset`] measures it from the two clocks' anchors, says
//! whether it is [`OffsetKind::Exact`] (both streams on one clock with a shared timestamp
//! epoch: JACK; a whole number of frames, taken by the callbacks from anchors of one
//! cycle) or an [`OffsetKind::Estimate`] (ALSA, where each stream has its own epoch), and
//! reports the drift between the two once the anchors are a second apart.
//!
//! ## Handing the engine back
//!
//! [`CpalStream::play_handing_back`] and [`CpalStream::record_handing_back`] give, with the
//! stream, a [`Handback`]: when the stream ends, whatever ended it, the callback hands its
//! engine there untouched instead of ending what it holds, to attach to a device again
//! ([`Detached::resume`]), as rtmix-alsa's streams do. `backend/tests/one_line.rs` proves
//! it with one generic program on both backends.
//!
//! ## Not yet
//!
//! A JACK stream's ports are connected by cpal to the system ports; connecting them
//! elsewhere (the tests use `jack_connect`) is up to the caller. Callback timestamps are
//! only as good as the host's: cpal's ALSA host reads them from the PCM status, which some
//! plugins leave empty or fill with the host's clock (labelled [`TimeSource::Host`] where
//! alsa-lib's configuration shows such a plugin). A loss the host does not report as an
//! xrun is not counted.

#![deny(missing_docs)]

mod backend;
mod callback;
mod clock_map;
mod config;
mod device;
mod enumerate;
mod error;
mod error_callback;
mod losses;
mod offset;
mod shared;
mod stream;
mod supervise;
mod time_source;

pub use backend::Cpal;
pub use callback::{Callback, CallbackEngine, InBlock, InputCallback, OutBlock, OutputCallback};
pub use config::{from_cpal, to_cpal, FORMATS};
pub use device::{DuplexDevice, InputDevice, OutputDevice};
pub use enumerate::{devices, hosts, ConfigRange, DeviceInfo, HostInfo};
pub use error::CpalError;
pub use rtmix_core::{DeviceClock, TimeSource};
pub use stream::{CpalStream, DuplexStream};

/// The interface rtmix-cpal shares with rtmix-alsa, re-exported: the same types and
/// traits in both crates, so that changing `rtmix_cpal` for `rtmix_alsa` (or [`Cpal`]
/// for `rtmix_alsa::Alsa`) is the whole change.
pub use rtmix_backend;
pub use rtmix_backend::{
    Attachable, Backend, Config, Detached, DetachedDuplex, Device, DevicePair, Duplex,
    DuplexHandback, DuplexReport, ErrorKind, Granted, Handback, Offset, OffsetKind, Policy,
    RealtimeConfig, RunControl, RunReport, SampleFormat, Stream,
};

/// The cpal this crate is built on, for callers who need its types.
pub use cpal;

/// The examples of docs/cpal.md, compiled (and, where they need no device, run) as
/// doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/cpal.md")]
pub struct DocsDoctests;
