//! Where the engine's frames meet the wall clock: a lock-free anchor that a backend's audio
//! thread publishes each period and the control side reads to turn frames into instants
//! and back.
//!
//! An anchor says "engine frame F is at the converter (the DAC for output, the ADC for
//! input) at instant T". Between anchors, time is extrapolated at the nominal rate, so a
//! reading is as good as the device's timestamp and drifts only by the device clock's
//! error until the next period's anchor corrects it.
//!
//! The anchor is published with a sequence lock made of atomics only: the writer (the audio
//! thread) never waits, and a reader that catches a write half-done simply reads again.

use core::sync::atomic::{fence, AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const NANOS: i128 = 1_000_000_000;

/// Where an anchor's instant came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TimeSource {
    /// The device's own timestamp, taken with the position it describes (ALSA's
    /// `htstamp`, cpal's callback and playback instants).
    Device,
    /// The host's clock read by the audio thread next to the position: off by the time
    /// between the two, a scheduling delay at most.
    Host,
}

/// One published correspondence between an engine frame and a monotonic instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Anchor {
    /// The engine frame at the converter at `at`.
    pub frame: u64,
    /// When it was there.
    pub at: Instant,
    /// The engine's next frame to render or capture when the anchor was taken: the
    /// earliest frame a new action can still start on time, before any latency margin.
    pub next_frame: u64,
    /// Frames between the engine and the converter: for output, the frames committed but
    /// not yet played (commit to DAC); for input, the frames captured but not yet handed to
    /// the engine.
    pub latency_frames: u64,
    /// Where `at` came from.
    pub source: TimeSource,
}

/// Maps a stream's engine frames to monotonic instants and back.
///
/// The audio thread calls [`publish`](Self::publish) after each period; the control side
/// calls [`now`](Self::now), [`instant_of`](Self::instant_of) and
/// [`frame_at`](Self::frame_at). Until the first anchor, the readings are `None`.
///
/// ```
/// use std::time::{Duration, Instant};
/// use rtmix_core::{Anchor, DeviceClock, TimeSource};
///
/// let clock = DeviceClock::new(48_000);
/// assert_eq!(clock.anchor(), None);
/// let t = Instant::now();
/// clock.publish(Anchor { frame: 1_000, at: t, next_frame: 3_048, latency_frames: 2_048,
///                        source: TimeSource::Device });
/// // Half a second after frame 1000 was at the DAC, frame 25000 is.
/// assert_eq!(clock.frame_at(t + Duration::from_millis(500)), Some(25_000));
/// assert_eq!(clock.instant_of(25_000), Some(t + Duration::from_millis(500)));
/// assert_eq!(clock.latency(), Some(Duration::from_nanos(2_048 * 1_000_000_000 / 48_000)));
/// // A frame a third of a nanosecond past a whole one maps to the next nanosecond.
/// let late = clock.instant_of(1_001).unwrap();
/// assert_eq!(late - t, Duration::from_nanos(20_834)); // 1e9 / 48000 = 20833.33...
/// assert_eq!(clock.frame_at(late), Some(1_001));
/// assert_eq!(clock.frame_at(late - Duration::from_nanos(1)), Some(1_000));
/// ```
#[derive(Debug)]
pub struct DeviceClock {
    rate: u32,
    epoch: Instant,
    /// Even when the fields below are consistent, odd while the writer changes them.
    seq: AtomicU64,
    frame: AtomicU64,
    /// `at`, in nanoseconds from `epoch` (negative before it).
    nanos: AtomicI64,
    next_frame: AtomicU64,
    latency: AtomicU64,
    device_source: AtomicBool,
}

impl DeviceClock {
    /// A clock for a stream at `rate` frames per second, with no anchor yet.
    ///
    /// # Panics
    /// If `rate` is zero.
    pub fn new(rate: u32) -> Self {
        assert!(rate > 0, "a device clock needs a rate");
        Self {
            rate,
            epoch: Instant::now(),
            seq: AtomicU64::new(0),
            frame: AtomicU64::new(0),
            nanos: AtomicI64::new(0),
            next_frame: AtomicU64::new(0),
            latency: AtomicU64::new(0),
            device_source: AtomicBool::new(false),
        }
    }

    /// The frame rate.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// The instant the clock was made: a backend that receives raw monotonic timestamps
    /// reads its clock next to it once, to convert them into instants.
    pub fn epoch(&self) -> Instant {
        self.epoch
    }

    /// Publishes an anchor (the audio side). Never waits, never allocates.
    pub fn publish(&self, anchor: Anchor) {
        let seq = self.seq.load(Ordering::Relaxed);
        self.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        self.frame.store(anchor.frame, Ordering::Relaxed);
        self.nanos
            .store(self.nanos_since_epoch(anchor.at), Ordering::Relaxed);
        self.next_frame.store(anchor.next_frame, Ordering::Relaxed);
        self.latency.store(anchor.latency_frames, Ordering::Relaxed);
        self.device_source
            .store(anchor.source == TimeSource::Device, Ordering::Relaxed);
        self.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// The latest anchor, or `None` before the first.
    pub fn anchor(&self) -> Option<Anchor> {
        let mut spins = 0u32;
        loop {
            let before = self.seq.load(Ordering::Acquire);
            if before == 0 {
                return None;
            }
            if before.is_multiple_of(2) {
                let frame = self.frame.load(Ordering::Relaxed);
                let nanos = self.nanos.load(Ordering::Relaxed);
                let next_frame = self.next_frame.load(Ordering::Relaxed);
                let latency_frames = self.latency.load(Ordering::Relaxed);
                let device = self.device_source.load(Ordering::Relaxed);
                fence(Ordering::Acquire);
                if self.seq.load(Ordering::Relaxed) == before {
                    return Some(Anchor {
                        frame,
                        // Stored from an `Instant`, so it converts back.
                        at: self
                            .instant_from_nanos(i128::from(nanos))
                            .unwrap_or(self.epoch),
                        next_frame,
                        latency_frames,
                        source: if device {
                            TimeSource::Device
                        } else {
                            TimeSource::Host
                        },
                    });
                }
            }
            // The writer is between its stores: a few instructions, unless it was
            // descheduled there.
            spins += 1;
            if spins.is_multiple_of(64) {
                std::thread::yield_now();
            } else {
                core::hint::spin_loop();
            }
        }
    }

    /// The engine frame at the converter now (extrapolated from the latest anchor at the
    /// nominal rate), or `None` before the first anchor.
    pub fn now(&self) -> Option<u64> {
        self.frame_at(Instant::now())
    }

    /// The engine frame at the converter at `at`, rounded down; `None` before the first
    /// anchor or for an instant before frame 0.
    pub fn frame_at(&self, at: Instant) -> Option<u64> {
        let anchor = self.anchor()?;
        let dt =
            i128::from(self.nanos_since_epoch(at)) - i128::from(self.nanos_since_epoch(anchor.at));
        let frames = (dt * i128::from(self.rate)).div_euclid(NANOS);
        u64::try_from(i128::from(anchor.frame) + frames).ok()
    }

    /// When engine frame `frame` is (or was) at the converter: the first whole nanosecond
    /// of it, so that `frame_at(instant_of(f)) == Some(f)`. `None` before the first anchor
    /// or beyond what an `Instant` holds.
    pub fn instant_of(&self, frame: u64) -> Option<Instant> {
        let anchor = self.anchor()?;
        let df = i128::from(frame) - i128::from(anchor.frame);
        let rate = i128::from(self.rate);
        // Rounded up (towards later), in whole nanoseconds.
        let dt = -(-df * NANOS).div_euclid(rate);
        self.instant_from_nanos(i128::from(self.nanos_since_epoch(anchor.at)) + dt)
    }

    /// The latency of the latest anchor as a duration, or `None` before the first.
    pub fn latency(&self) -> Option<Duration> {
        let frames = self.anchor()?.latency_frames;
        Some(Duration::from_nanos(
            u64::try_from(u128::from(frames) * 1_000_000_000 / u128::from(self.rate))
                .unwrap_or(u64::MAX),
        ))
    }

    /// The earliest frame a new action can start at without arriving late, given
    /// `margin` frames for the command to reach the engine (a period is a safe margin).
    pub fn earliest(&self, margin: u64) -> Option<u64> {
        Some(self.anchor()?.next_frame.saturating_add(margin))
    }

    /// Nanoseconds from the epoch to `at` (negative before it), saturating.
    fn nanos_since_epoch(&self, at: Instant) -> i64 {
        if at >= self.epoch {
            i64::try_from((at - self.epoch).as_nanos()).unwrap_or(i64::MAX)
        } else {
            i64::try_from((self.epoch - at).as_nanos()).map_or(i64::MIN, |n| -n)
        }
    }

    fn instant_from_nanos(&self, nanos: i128) -> Option<Instant> {
        let magnitude = Duration::from_nanos(u64::try_from(nanos.unsigned_abs()).ok()?);
        if nanos >= 0 {
            self.epoch.checked_add(magnitude)
        } else {
            self.epoch.checked_sub(magnitude)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unchecked_time_subtraction)]
    use super::*;

    fn anchored(rate: u32, frame: u64, at: Instant) -> DeviceClock {
        let clock = DeviceClock::new(rate);
        clock.publish(Anchor {
            frame,
            at,
            next_frame: frame + 256,
            latency_frames: 256,
            source: TimeSource::Host,
        });
        clock
    }

    #[test]
    fn frames_and_instants_round_trip_exactly_at_common_rates() {
        let t = Instant::now() + Duration::from_secs(1);
        for rate in [
            8_000, 11_025, 22_050, 44_100, 48_000, 88_200, 96_000, 192_000, 384_000,
        ] {
            let clock = anchored(rate, 1_000_000, t);
            assert_eq!(clock.rate(), rate);
            // Either side of the anchor, a day away included (under Miri, which checks the
            // same arithmetic at an interpreter's pace, a twentieth of the frames).
            let day = u64::from(rate) * 86_400;
            let (near, far) = if cfg!(miri) { (50, 25) } else { (1_000, 500) };
            for frame in (1_000_000 - near..1_000_000 + near).chain(day..day + far) {
                let at = clock.instant_of(frame).unwrap();
                assert_eq!(clock.frame_at(at), Some(frame), "rate {rate} frame {frame}");
                let before = at - Duration::from_nanos(1);
                assert_eq!(
                    clock.frame_at(before),
                    Some(frame - 1),
                    "rate {rate} frame {frame}"
                );
            }
        }
    }

    #[test]
    fn before_frame_zero_and_before_the_first_anchor_there_is_no_frame() {
        let clock = DeviceClock::new(48_000);
        assert_eq!(
            (clock.now(), clock.instant_of(5), clock.latency()),
            (None, None, None)
        );
        let t = clock.epoch() + Duration::from_millis(10);
        clock.publish(Anchor {
            frame: 48,
            at: t,
            next_frame: 1_000,
            latency_frames: 952,
            source: TimeSource::Device,
        });
        assert_eq!(clock.frame_at(t - Duration::from_millis(1)), Some(0));
        assert_eq!(clock.frame_at(t - Duration::from_nanos(1_000_001)), None);
        assert_eq!(clock.instant_of(0), Some(t - Duration::from_millis(1)));
        assert_eq!(clock.earliest(64), Some(1_064));
        assert_eq!(clock.anchor().unwrap().source, TimeSource::Device);
    }

    #[test]
    fn a_reader_never_sees_a_torn_anchor() {
        use std::sync::atomic::AtomicBool;
        let clock = std::sync::Arc::new(DeviceClock::new(48_000));
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let writer = {
            let (clock, stop) = (clock.clone(), stop.clone());
            std::thread::spawn(move || {
                let t0 = clock.epoch();
                let mut k = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    k += 1;
                    // Every field derives from k, so a mix of two anchors shows.
                    clock.publish(Anchor {
                        frame: k,
                        at: t0 + Duration::from_nanos(k * 7),
                        next_frame: k * 3,
                        latency_frames: k * 2,
                        source: if k.is_multiple_of(2) {
                            TimeSource::Device
                        } else {
                            TimeSource::Host
                        },
                    });
                    // A pause between anchors, as a device gives: a writer that publishes
                    // back to back on a loaded machine can starve the reader's retries.
                    for _ in 0..64 {
                        core::hint::spin_loop();
                    }
                }
                k
            })
        };
        // Under Miri, which checks these atomics for races at an interpreter's pace, 100.
        let want = if cfg!(miri) { 100 } else { 2_000 };
        let mut distinct = 0;
        let mut last = 0;
        // Until the reads have overlapped many writes (bounded in time, should either
        // thread starve).
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while distinct < want && std::time::Instant::now() < deadline {
            if let Some(a) = clock.anchor() {
                let k = a.frame;
                assert_eq!(a.at - clock.epoch(), Duration::from_nanos(k * 7));
                assert_eq!((a.next_frame, a.latency_frames), (k * 3, k * 2));
                assert_eq!(a.source == TimeSource::Device, k.is_multiple_of(2));
                assert!(k >= last, "anchors go forward");
                distinct += usize::from(k != last);
                last = k;
            }
        }
        stop.store(true, Ordering::Relaxed);
        let written = writer.join().unwrap();
        // The reads overlapped the writes, or the test proved nothing.
        assert!(distinct >= want, "{distinct} of {written}");
    }
    /// The latency of the latest anchor in nanoseconds, `frames * 1e9 / rate` rounded
    /// down, and `None` before any anchor (`device_clock.rs:205` `None` and the operator
    /// mutants of `:207` survived: only a doctest checked it).
    #[test]
    fn the_latency_is_the_anchor_s_frames_at_the_rate() {
        let t = Instant::now();
        for (rate, frames, nanos) in [
            (48_000, 2_048, 42_666_666),
            (48_000, 48_000, 1_000_000_000),
            (44_100, 1, 22_675),
            (8_000, 3, 375_000),
            (1, 7, 7_000_000_000),
            (48_000, 0, 0),
        ] {
            let clock = DeviceClock::new(rate);
            assert_eq!(clock.latency(), None);
            clock.publish(Anchor {
                frame: 0,
                at: t,
                next_frame: frames,
                latency_frames: frames,
                source: TimeSource::Device,
            });
            assert_eq!(
                clock.latency(),
                Some(Duration::from_nanos(nanos)),
                "{frames} frames at {rate} Hz"
            );
        }
        // Past what a `Duration` of u64 nanoseconds holds: the longest one.
        let clock = DeviceClock::new(1);
        clock.publish(Anchor {
            frame: 0,
            at: t,
            next_frame: 0,
            latency_frames: u64::MAX,
            source: TimeSource::Host,
        });
        assert_eq!(clock.latency(), Some(Duration::from_nanos(u64::MAX)));
    }

    /// `now` is the frame at the converter at the instant it is asked: between the
    /// frames at instants read just before and just after (`device_clock.rs:178`, `None`,
    /// survived).
    #[test]
    fn now_is_the_frame_at_the_present_instant() {
        let clock = DeviceClock::new(48_000);
        assert_eq!(clock.now(), None);
        let t = Instant::now();
        clock.publish(Anchor {
            frame: 1_000,
            at: t,
            next_frame: 2_024,
            latency_frames: 1_024,
            source: TimeSource::Device,
        });
        let before = clock.frame_at(Instant::now()).unwrap();
        let now = clock.now().unwrap();
        let after = clock.frame_at(Instant::now()).unwrap();
        assert!(
            1_000 <= before && before <= now && now <= after,
            "{before} {now} {after}"
        );
    }

    /// An anchor taken before the clock was made (an instant before its epoch, as a
    /// device timestamp of the period before can be) reads back as the same instant, and
    /// frames count from it (`device_clock.rs:223`, the `-` deleted, put it after the
    /// epoch).
    #[test]
    fn an_anchor_before_the_epoch_reads_back_where_it_was() {
        let clock = DeviceClock::new(48_000);
        let Some(at) = clock.epoch().checked_sub(Duration::from_millis(10)) else {
            return; // the monotonic clock started less than 10 ms ago
        };
        clock.publish(Anchor {
            frame: 5_000,
            at,
            next_frame: 6_000,
            latency_frames: 1_000,
            source: TimeSource::Device,
        });
        assert_eq!(clock.anchor().unwrap().at, at);
        // 10 ms after the anchor, 480 frames later.
        assert_eq!(clock.frame_at(clock.epoch()), Some(5_480));
        assert_eq!(clock.instant_of(5_480), Some(clock.epoch()));
        assert_eq!(clock.instant_of(5_000), Some(at));
    }
}
