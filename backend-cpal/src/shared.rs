//! What the callbacks and the control side share: counters and flags, atomics only.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::CpalError;

/// How the control side steers a running stream. Mirrors rtmix-alsa's `RunControl`.
///
/// ```
/// use rtmix_cpal::RunControl;
/// let c = RunControl { stop_after: Some(48_000), ..RunControl::default() };
/// assert!(!c.stop.load(std::sync::atomic::Ordering::Relaxed));
/// assert_eq!(c.device_timeout, std::time::Duration::from_secs(2));
/// ```
#[derive(Clone, Debug)]
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
    /// How long a running stream may go without a data callback (on either side of a
    /// duplex) before it is taken for gone and ended with
    /// [`CpalError::NotResponding`](crate::CpalError::NotResponding): a device or sound
    /// server that died without the host reporting it (cpal's ALSA host on the `jack`
    /// plugin waits forever when the JACK server is killed). At least two buffers' time
    /// (two periods, as granted) is waited whatever this says. Default: 2 s.
    pub device_timeout: Duration,
}

impl Default for RunControl {
    fn default() -> Self {
        Self {
            stop: Arc::default(),
            stop_after: None,
            stall: None,
            audit: None,
            device_timeout: Duration::from_secs(2),
        }
    }
}

impl RunControl {
    /// How long a stream with `period` frames per callback at `rate` may go without a
    /// callback: [`device_timeout`](Self::device_timeout), but at least two periods.
    pub(crate) fn timeout(&self, period: Option<u32>, rate: u32) -> Duration {
        let two_periods = period.map_or(Duration::ZERO, |p| {
            Duration::from_nanos(2 * u64::from(p) * 1_000_000_000 / u64::from(rate.max(1)))
        });
        self.device_timeout.max(two_periods)
    }
}

/// What a stream did, per direction. Mirrors rtmix-alsa's `RunReport`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Frames transferred (rendered or captured) through the engine.
    pub frames: u64,
    /// Xruns the host reported (cpal's error callback, `ErrorKind::Xrun`, on whichever
    /// thread the host calls it).
    pub xruns: u64,
    /// Frames reported to the engine as lost: the gaps in cpal's converter timestamps
    /// (a callback more than half a buffer later than the previous one's frames took it)
    /// that an xrun report matched, before or after the gap; each report matches one gap
    /// at most (an estimate, as good as the host's timestamps).
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
    pub(crate) lost: AtomicU64,
    pub(crate) clipped: AtomicU64,
    pub(crate) engine_clock: AtomicU64,
    /// `stop_after` was reached.
    pub(crate) finished: AtomicBool,
    /// Xruns the error callback reported (the data callback matches them with gaps).
    pub(crate) xrun_reports: AtomicU64,
    /// A fatal error was reported (the `FATAL_*` code of its kind): the supervisor ends
    /// the stream.
    pub(crate) fatal: AtomicU8,
    /// Data callbacks run so far (the supervisor's watchdog sees them move).
    pub(crate) callbacks: AtomicU64,
}

/// [`Side::fatal`]: no fatal error.
pub(crate) const FATAL_NONE: u8 = 0;
/// [`Side::fatal`]: the device is not available any more.
pub(crate) const FATAL_GONE: u8 = 1;
/// [`Side::fatal`]: the stream was invalidated.
pub(crate) const FATAL_INVALIDATED: u8 = 2;

impl Side {
    /// The fatal error the error callback flagged, if any, for when its message could not
    /// be kept (the error ring was full).
    pub(crate) fn fatal_error(&self) -> Option<CpalError> {
        let kind = match self.fatal.load(Ordering::Acquire) {
            FATAL_NONE => return None,
            FATAL_GONE => cpal::ErrorKind::DeviceNotAvailable,
            _ => cpal::ErrorKind::StreamInvalidated,
        };
        Some(CpalError::Stream {
            kind,
            message: "the host reported it; its message was dropped (the error ring was full)"
                .into(),
        })
    }

    pub(crate) fn report(&self, errors: Vec<CpalError>) -> RunReport {
        RunReport {
            frames: self.frames.load(Ordering::Acquire),
            xruns: self.xrun_reports.load(Ordering::Acquire),
            frames_lost_estimate: self.lost.load(Ordering::Acquire),
            clipped: self.clipped.load(Ordering::Acquire),
            engine_clock: self.engine_clock.load(Ordering::Acquire),
            errors,
        }
    }
}
