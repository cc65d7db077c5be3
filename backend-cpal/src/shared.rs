//! What the callbacks and the control side share: counters and flags, atomics only.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};

use crate::{CpalError, RunReport};

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
            kind: crate::error::kind(kind),
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
            ..RunReport::default()
        }
    }
}
