//! ALSA timestamps to rtmix's [`DeviceClock`]: after each transfer the loop asks the PCM for
//! its status (`snd_pcm_status`: a stack buffer and one call, no allocation) and publishes
//! where the engine's frames are at the converter.
//!
//! The status gives `htstamp`, the `CLOCK_MONOTONIC` time at which it was taken, and
//! `delay`, the frames between the application pointer and the converter at that time.
//! The engine's clock is the application pointer in engine frames (lost frames included),
//! so the frame at the DAC is `engine - delay` for playback and the frame at the ADC is
//! `engine + delay` for capture. A device or plugin that gives no `htstamp` gets the host's
//! clock read next to the status, and the anchor says so ([`TimeSource::Host`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use alsa::pcm::State;
use alsa::Direction;
use rtmix_core::{Anchor, DeviceClock, TimeSource};

use crate::pcm::{monotonic_nanos, Pcm};

/// Where a device was at one status read: the frame at its converter on the engine's
/// timeline, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Reading {
    /// The engine frame at the converter (DAC or ADC): `engine - delay` for playback,
    /// `engine + delay` for capture.
    pub(crate) frame: u64,
    /// When, in `CLOCK_MONOTONIC` nanoseconds: the device's `htstamp`, or the host's
    /// clock read next to the status when the device gives none.
    pub(crate) at: i128,
    /// The engine's clock (its next frame) the reading was taken against.
    pub(crate) next_frame: u64,
    /// The status's `delay`.
    pub(crate) delay: u64,
    /// Whose clock `at` is.
    pub(crate) source: TimeSource,
}

impl Reading {
    /// The reading moved `frames` later on the engine's timeline (the engine was told they
    /// were lost).
    pub(crate) fn shifted(self, frames: u64) -> Self {
        Self {
            frame: self.frame + frames,
            next_frame: self.next_frame + frames,
            ..self
        }
    }
}

/// Publishes a PCM's position into a [`DeviceClock`].
#[derive(Debug)]
pub(crate) struct Timestamper {
    clock: Arc<DeviceClock>,
    /// `CLOCK_MONOTONIC` at the clock's epoch, in nanoseconds.
    monotonic_at_epoch: i128,
    direction: Direction,
}

impl Timestamper {
    /// A timestamper for a stream at `rate`, with a new clock.
    pub(crate) fn new(rate: u32, direction: Direction) -> Self {
        let clock = Arc::new(DeviceClock::new(rate));
        // Read right after the epoch: the two differ by the time between the calls.
        let monotonic_at_epoch = monotonic_nanos();
        Self {
            clock,
            monotonic_at_epoch,
            direction,
        }
    }

    /// The clock the control side reads.
    pub(crate) fn clock(&self) -> &Arc<DeviceClock> {
        &self.clock
    }

    /// Where `pcm` is, given the engine's clock (its next frame) after a transfer. `None`
    /// while the PCM is not running, or if its status fails (the next transfer reports
    /// that error).
    pub(crate) fn read(&self, pcm: &impl Pcm, engine_clock: u64) -> Option<Reading> {
        let status = pcm.status().ok()?;
        if status.state != State::Running {
            return None;
        }
        let delay = u64::try_from(status.delay).unwrap_or(0);
        let frame = match self.direction {
            Direction::Playback => engine_clock.checked_sub(delay),
            Direction::Capture => engine_clock.checked_add(delay),
        }?;
        let (at, source) = match status.at {
            Some(at) => (at, TimeSource::Device),
            None => (pcm.now(), TimeSource::Host),
        };
        Some(Reading {
            frame,
            at,
            next_frame: engine_clock,
            delay,
            source,
        })
    }

    /// Publishes `reading` into the clock.
    pub(crate) fn publish(&self, reading: &Reading) {
        self.clock.publish(Anchor {
            frame: reading.frame,
            at: self.instant(reading.at - self.monotonic_at_epoch),
            next_frame: reading.next_frame,
            latency_frames: reading.delay,
            source: reading.source,
        });
    }

    /// The instant `nanos` after the clock's epoch.
    fn instant(&self, nanos: i128) -> Instant {
        let epoch = self.clock.epoch();
        let magnitude = Duration::from_nanos(u64::try_from(nanos.unsigned_abs()).unwrap_or(0));
        let at = if nanos >= 0 {
            epoch.checked_add(magnitude)
        } else {
            epoch.checked_sub(magnitude)
        };
        at.unwrap_or(epoch)
    }
}
