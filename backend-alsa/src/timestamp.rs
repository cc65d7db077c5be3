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

use alsa::pcm::{AudioTstampType, State, StatusBuilder, PCM};
use alsa::Direction;
use rtmix_core::{Anchor, DeviceClock, TimeSource};

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

    /// Publishes where `pcm` is, given the engine's clock (its next frame) after a
    /// transfer. Does nothing while the PCM is not running, or if its status fails (the
    /// next transfer reports that error).
    pub(crate) fn publish(&self, pcm: &PCM, engine_clock: u64) {
        let Ok(status) = StatusBuilder::new()
            .audio_htstamp_config(AudioTstampType::Default, true)
            .build(pcm)
        else {
            return;
        };
        if status.get_state() != State::Running {
            return;
        }
        let delay = u64::try_from(status.get_delay()).unwrap_or(0);
        let frame = match self.direction {
            Direction::Playback => engine_clock.checked_sub(delay),
            Direction::Capture => engine_clock.checked_add(delay),
        };
        let Some(frame) = frame else { return };
        let ts = status.get_htstamp();
        let (at, source) = if ts.tv_sec == 0 && ts.tv_nsec == 0 {
            (Instant::now(), TimeSource::Host)
        } else {
            let nanos = i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec);
            (
                self.instant(nanos - self.monotonic_at_epoch),
                TimeSource::Device,
            )
        };
        self.clock.publish(Anchor {
            frame,
            at,
            next_frame: engine_clock,
            latency_frames: delay,
            source,
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

/// `CLOCK_MONOTONIC` now, in nanoseconds: the clock ALSA's timestamps are asked in, and the
/// one `std::time::Instant` reads on Linux.
#[allow(unsafe_code)] // FFI: libc's clock_gettime
fn monotonic_nanos() -> i128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call, and
    // CLOCK_MONOTONIC is always available on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &raw mut ts) };
    i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec)
}
