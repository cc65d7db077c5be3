//! What the callbacks and the control side share: counters and flags, atomics only.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::CpalError;

/// How the control side steers a running stream. Mirrors rtmix-alsa's `RunControl`.
///
/// ```
/// use rtmix_cpal::RunControl;
/// let c = RunControl { stop_after: Some(48_000), ..RunControl::default() };
/// assert!(!c.stop.load(std::sync::atomic::Ordering::Relaxed));
/// ```
#[derive(Clone, Debug, Default)]
pub struct RunControl {
    /// Set to end the stream (as [`CpalStream::stop`](crate::CpalStream::stop) does).
    pub stop: Arc<AtomicBool>,
    /// End the stream by itself once this many frames have been rendered (output, and
    /// duplex) or captured (input); later callbacks get silence until it is torn down.
    pub stop_after: Option<u64>,
    /// A test hook: once this many frames have been transferred, the callback sleeps this
    /// long, as a descheduled audio thread would. Never set it in production.
    pub stall: Option<(u64, Duration)>,
    /// A test hook: every callback body runs inside this function (a test wraps it in an
    /// allocation counter, say). Never set it in production.
    pub audit: Option<fn(&mut dyn FnMut())>,
}

/// What a stream did, per direction. Mirrors rtmix-alsa's `RunReport`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Frames transferred (rendered or captured) through the engine.
    pub frames: u64,
    /// Xruns the host reported (cpal's error callback, `ErrorKind::Xrun`).
    pub xruns: u64,
    /// Frames reported to the engine as lost to them: the gap between the converter
    /// timestamp the callback after the xrun had and the one it would have had without a
    /// loss (an estimate, as good as the host's timestamps).
    pub frames_lost_estimate: u64,
    /// Samples clamped on the way to an integer device format.
    pub clipped: u64,
    /// The engine's frame clock when the stream ended: the frames transferred plus those
    /// reported lost, so it stays on the device timeline.
    pub engine_clock: u64,
    /// Errors the host reported that did not end the stream.
    pub errors: Vec<CpalError>,
}

/// One direction's counters, written by its callback.
#[derive(Debug, Default)]
pub(crate) struct Side {
    pub(crate) frames: AtomicU64,
    pub(crate) xruns: AtomicU64,
    pub(crate) lost: AtomicU64,
    pub(crate) clipped: AtomicU64,
    pub(crate) engine_clock: AtomicU64,
    /// `stop_after` was reached.
    pub(crate) finished: AtomicBool,
    /// Xruns the error callback reported (the data callback catches up with them).
    pub(crate) xrun_reports: AtomicU64,
    /// A fatal error was reported: the supervisor ends the stream.
    pub(crate) fatal: AtomicBool,
}

impl Side {
    pub(crate) fn report(&self, errors: Vec<CpalError>) -> RunReport {
        RunReport {
            frames: self.frames.load(Ordering::Acquire),
            xruns: self.xruns.load(Ordering::Acquire),
            frames_lost_estimate: self.lost.load(Ordering::Acquire),
            clipped: self.clipped.load(Ordering::Acquire),
            engine_clock: self.engine_clock.load(Ordering::Acquire),
            errors,
        }
    }
}

/// The body of cpal's error callback: an xrun is counted for the data callback to measure,
/// anything else goes to the control side through `errors` (a fixed ring: nothing is
/// allocated or freed here unless the ring is full, when the error is dropped). A device
/// that disappeared or an invalidated stream marks the side fatal.
pub(crate) fn on_error(side: &Side, errors: &mut rtrb::Producer<cpal::Error>, e: cpal::Error) {
    match e.kind() {
        cpal::ErrorKind::Xrun => {
            side.xrun_reports.fetch_add(1, Ordering::AcqRel);
        }
        kind => {
            if matches!(
                kind,
                cpal::ErrorKind::DeviceNotAvailable | cpal::ErrorKind::StreamInvalidated
            ) {
                side.fatal.store(true, Ordering::Release);
            }
            let _ = errors.push(e);
        }
    }
}
