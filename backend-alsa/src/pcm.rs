//! The few PCM operations the transfer loops use, behind a trait: implemented by
//! alsa-lib's [`PCM`] (with its [`IO`] for the mmap transfers), and in the unit tests by a
//! scripted device whose clock the test moves frame by frame (`src/fake.rs`), so that what
//! the loops do around an xrun, a suspend or a position jump is checked to the frame.

use std::time::Duration;

use alsa::pcm::{AudioTstampType, Frames, IoFormat, State, StatusBuilder, IO, PCM};

/// `EPIPE`: an underrun or overrun.
pub(crate) const EPIPE: i32 = 32;
/// `ESTRPIPE`: the device was suspended.
pub(crate) const ESTRPIPE: i32 = 86;
/// `EAGAIN`: a resume not finished yet.
pub(crate) const EAGAIN: i32 = 11;

/// What a status read says (`snd_pcm_status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Status {
    /// The PCM's state.
    pub(crate) state: State,
    /// Frames between the application pointer and the converter: queued for playback,
    /// captured and not read for capture.
    pub(crate) delay: i64,
    /// `htstamp`: when the position above was taken, in `CLOCK_MONOTONIC` nanoseconds;
    /// `None` when the device gives no timestamp (a zero `htstamp`).
    pub(crate) at: Option<i128>,
}

/// The PCM operations of the transfer loops.
pub(crate) trait Pcm {
    /// `snd_pcm_avail_update`.
    fn avail_update(&self) -> alsa::Result<i64>;
    /// `snd_pcm_start`.
    fn start(&self) -> alsa::Result<()>;
    /// `snd_pcm_prepare`.
    fn prepare(&self) -> alsa::Result<()>;
    /// `snd_pcm_resume`.
    fn resume(&self) -> alsa::Result<()>;
    /// `snd_pcm_drop`.
    fn stop(&self) -> alsa::Result<()>;
    /// `snd_pcm_wait`: `Ok(true)` when the device is ready, `Ok(false)` on timeout.
    fn wait(&self, timeout_ms: u32) -> alsa::Result<bool>;
    /// `snd_pcm_state`.
    fn state(&self) -> State;
    /// `snd_pcm_delay`.
    fn delay(&self) -> alsa::Result<i64>;
    /// `snd_pcm_status`.
    fn status(&self) -> alsa::Result<Status>;
    /// `CLOCK_MONOTONIC` now, in nanoseconds: the clock the device's timestamps are in.
    fn now(&self) -> i128;
    /// Sleeps (a resume's back-off, the stall test hook): the device goes on meanwhile.
    fn sleep(&self, duration: Duration);
}

/// An mmap transfer of samples of type `S` (`snd_pcm_mmap_begin` / `commit`): `f` gets
/// the mapped area (at most `frames` frames) and returns the frames it moved.
pub(crate) trait Mmap<S> {
    fn mmap(&self, frames: usize, f: impl FnOnce(&mut [S]) -> usize) -> alsa::Result<usize>;
}

impl<S: IoFormat> Mmap<S> for IO<'_, S> {
    fn mmap(&self, frames: usize, f: impl FnOnce(&mut [S]) -> usize) -> alsa::Result<usize> {
        IO::mmap(self, frames, f)
    }
}

impl Pcm for PCM {
    fn avail_update(&self) -> alsa::Result<i64> {
        PCM::avail_update(self).map(wide)
    }

    fn start(&self) -> alsa::Result<()> {
        PCM::start(self)
    }

    fn prepare(&self) -> alsa::Result<()> {
        PCM::prepare(self)
    }

    fn resume(&self) -> alsa::Result<()> {
        PCM::resume(self)
    }

    fn stop(&self) -> alsa::Result<()> {
        PCM::drop(self)
    }

    fn wait(&self, timeout_ms: u32) -> alsa::Result<bool> {
        PCM::wait(self, Some(timeout_ms))
    }

    fn state(&self) -> State {
        PCM::state(self)
    }

    fn delay(&self) -> alsa::Result<i64> {
        PCM::delay(self).map(wide)
    }

    fn status(&self) -> alsa::Result<Status> {
        let status = StatusBuilder::new()
            .audio_htstamp_config(AudioTstampType::Default, true)
            .build(self)?;
        let ts = status.get_htstamp();
        let at = (ts.tv_sec != 0 || ts.tv_nsec != 0)
            .then(|| i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec));
        Ok(Status {
            state: status.get_state(),
            delay: wide(status.get_delay()),
            at,
        })
    }

    fn now(&self) -> i128 {
        monotonic_nanos()
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// alsa-lib's frame count (a C `long`: 32 bits on 32-bit targets) as the loops count.
#[allow(clippy::useless_conversion)] // a conversion on 32-bit targets only
pub(crate) fn wide(frames: Frames) -> i64 {
    i64::from(frames)
}

/// A frame count for alsa-lib, saturated where a C `long` is 32 bits.
#[allow(clippy::useless_conversion)] // a conversion on 32-bit targets only
pub(crate) fn narrow(frames: i64) -> Frames {
    Frames::try_from(frames).unwrap_or(if frames < 0 { Frames::MIN } else { Frames::MAX })
}

/// `CLOCK_MONOTONIC` now, in nanoseconds: the clock ALSA's timestamps are asked in, and the
/// one `std::time::Instant` reads on Linux.
#[allow(unsafe_code)] // FFI: libc's clock_gettime
pub(crate) fn monotonic_nanos() -> i128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call, and
    // CLOCK_MONOTONIC is always available on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &raw mut ts) };
    i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec)
}

/// The whole frames in `nanos` at `rate`, rounded to the nearest (half up), none for a
/// negative span.
pub(crate) fn frames_in(nanos: i128, rate: u32) -> u64 {
    if nanos <= 0 {
        return 0;
    }
    let frames = (nanos * i128::from(rate) + 500_000_000) / 1_000_000_000;
    u64::try_from(frames).unwrap_or(u64::MAX)
}

/// The errno of `e`, positive.
pub(crate) fn errno(e: &alsa::Error) -> i32 {
    e.errno().abs()
}

#[cfg(test)]
mod tests {
    use super::frames_in;

    /// A span of `n` frames, each converted to nanoseconds and rounded, converts back to
    /// exactly `n` frames at every common rate, whatever the rounding of its ends.
    #[test]
    fn frames_in_a_span_round_trips_to_the_frame() {
        for rate in [8_000u32, 44_100, 48_000, 96_000, 192_000] {
            let ns =
                |f: u64| (i128::from(f) * 1_000_000_000 + i128::from(rate) / 2) / i128::from(rate);
            for a in [0u64, 1, 7, 1023, 48_000, 1_000_003] {
                for n in [0u64, 1, 2, 63, 64, 1024, 3072, 14_400, 47_999, 480_000] {
                    assert_eq!(
                        frames_in(ns(a + n) - ns(a), rate),
                        n,
                        "rate {rate}, {a}+{n}"
                    );
                }
            }
        }
        assert_eq!(frames_in(-5, 48_000), 0);
    }
}
