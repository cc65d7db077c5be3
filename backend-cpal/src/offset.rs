//! The offset between a duplex stream's output and input frame clocks, and the drift
//! between them, measured from the anchors each callback publishes.

use std::sync::atomic::{fence, AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rtmix_core::{Anchor, DeviceClock};

use crate::{Offset, OffsetKind};

/// Where one callback's buffer was at the converter, in cpal's own time: the stream
/// instant in nanoseconds, unconverted (two directions of one JACK server share cpal's
/// epoch and clock, not the lines each callback maps its instants to `Instant`s with).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// The engine frame at the converter at `at`.
    pub(crate) frame: u64,
    /// The engine's next frame after the buffer.
    pub(crate) next_frame: u64,
    /// cpal's converter instant (playback or capture), in ns of its epoch.
    pub(crate) at: i64,
    /// Frames between the callback and the converter.
    pub(crate) latency_frames: u64,
}

/// A direction's latest [`Stamp`], written by its callback and read by the other
/// direction's: a sequence lock over atomics (the writer never waits; a reader that meets
/// a write in progress tries again a few times, then does without this cycle).
#[derive(Debug, Default)]
pub(crate) struct StampCell {
    seq: AtomicU64,
    frame: AtomicU64,
    next_frame: AtomicU64,
    at: AtomicI64,
    latency_frames: AtomicU64,
}

impl StampCell {
    /// Publishes `s` (one writer: the direction's own callback).
    pub(crate) fn store(&self, s: Stamp) {
        let seq = self.seq.load(Ordering::Relaxed);
        self.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        self.frame.store(s.frame, Ordering::Relaxed);
        self.next_frame.store(s.next_frame, Ordering::Relaxed);
        self.at.store(s.at, Ordering::Relaxed);
        self.latency_frames
            .store(s.latency_frames, Ordering::Relaxed);
        self.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// The latest stamp, if there is one and it could be read whole.
    pub(crate) fn load(&self) -> Option<Stamp> {
        for _ in 0..4 {
            let before = self.seq.load(Ordering::Acquire);
            if before == 0 {
                return None;
            }
            if before % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let s = Stamp {
                frame: self.frame.load(Ordering::Relaxed),
                next_frame: self.next_frame.load(Ordering::Relaxed),
                at: self.at.load(Ordering::Relaxed),
                latency_frames: self.latency_frames.load(Ordering::Relaxed),
            };
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == before {
                return Some(s);
            }
        }
        None
    }
}

/// The offset of a duplex whose two streams one clock drives, as its callbacks measure it:
/// each callback, once it has published its stamp, compares it with the other
/// direction's latest, and when both come from one cycle stores the offset they give.
/// Atomics only: the callbacks neither wait nor allocate.
#[derive(Debug, Default)]
pub(crate) struct CycleOffset {
    measured: AtomicBool,
    latest: AtomicI64,
}

impl CycleOffset {
    /// Records the offset between `output` and `input`, the directions' latest stamps,
    /// if they come from one cycle.
    pub(crate) fn observe(&self, output: &Stamp, input: &Stamp, rate: u32) {
        let rate = f64::from(rate);
        if same_cycle(output, input, rate) {
            let frames = stamp_offset(output, input, rate).round() as i64;
            self.latest.store(frames, Ordering::Release);
            self.measured.store(true, Ordering::Release);
        }
    }

    /// The latest offset of one cycle, once there is one.
    fn get(&self) -> Option<i64> {
        self.measured
            .load(Ordering::Acquire)
            .then(|| self.latest.load(Ordering::Acquire))
    }
}

/// Whether two stamps of streams one clock drives come from one cycle: their callbacks
/// (the stamps' instants less the latencies to the converters) are less than half a
/// block apart, where stamps of different cycles are a block or more apart.
fn same_cycle(output: &Stamp, input: &Stamp, rate: f64) -> bool {
    let latency = output.latency_frames as f64 + input.latency_frames as f64;
    // The output callback's instant less the input callback's, in frames.
    let apart = (output.at - input.at) as f64 * 1e-9 * rate - latency;
    let block = output
        .next_frame
        .saturating_sub(output.frame)
        .max(input.next_frame.saturating_sub(input.frame));
    block > 0 && apart.abs() < block as f64 / 2.0
}

/// `input frame - output frame` at any one instant, by two stamps of one epoch.
fn stamp_offset(output: &Stamp, input: &Stamp, rate: f64) -> f64 {
    let frames = input.frame as f64 - output.frame as f64;
    frames + (output.at - input.at) as f64 * 1e-9 * rate
}

/// The offset from the latest anchors of both clocks, and the drift since their first
/// anchors; `None` until both directions have published (an `Exact` one: until one cycle
/// has run both, `cycle`).
pub(crate) fn measure(
    output: &DeviceClock,
    input: &DeviceClock,
    first_output: &DeviceClock,
    first_input: &DeviceClock,
    kind: OffsetKind,
    cycle: &CycleOffset,
) -> Option<Offset> {
    let rate = f64::from(output.rate());
    let (o, i) = (output.anchor()?, input.anchor()?);
    let (o0, i0) = (first_output.anchor()?, first_input.anchor()?);
    let span = o.at.saturating_duration_since(o0.at);
    let seen = span >= Duration::from_secs(1);
    let (now, drift_ppm) = match kind {
        OffsetKind::Exact => (cycle.get()? as f64, seen.then_some(0.0)),
        OffsetKind::Estimate => {
            let now = offset_of(&o, &i, rate);
            let then = offset_of(&o0, &i0, rate);
            let drift = seen.then(|| (now - then) / (span.as_secs_f64() * rate) * 1e6);
            (now, drift)
        }
    };
    Some(Offset {
        frames: now.round() as i64,
        precise: now,
        kind,
        drift_ppm,
        span,
    })
}

/// `input frame - output frame` at any one instant, by the two anchors.
fn offset_of(output: &Anchor, input: &Anchor, rate: f64) -> f64 {
    let frames = input.frame as f64 - output.frame as f64;
    frames + seconds_between(input.at, output.at) * rate
}

/// `later - earlier` in seconds, negative when `later` is earlier.
fn seconds_between(earlier: Instant, later: Instant) -> f64 {
    if later >= earlier {
        (later - earlier).as_secs_f64()
    } else {
        -(earlier - later).as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtmix_core::TimeSource;

    fn anchor(frame: u64, at: Instant) -> Anchor {
        Anchor {
            frame,
            at,
            next_frame: frame,
            latency_frames: 0,
            source: TimeSource::Device,
        }
    }

    #[test]
    fn the_offset_and_drift_follow_the_anchors() {
        let t = Instant::now();
        let clocks: Vec<DeviceClock> = (0..4).map(|_| DeviceClock::new(48_000)).collect();
        // Output frame 0 at the DAC at t + 1024 frames; input frame 0 at the ADC at t.
        let p = Duration::from_nanos(1024 * 1_000_000_000 / 48_000);
        clocks[2].publish(anchor(0, t + p));
        clocks[3].publish(anchor(0, t));
        // Two seconds on, the input has gained 48 frames: 500 ppm.
        clocks[0].publish(anchor(96_000, t + p + Duration::from_secs(2)));
        clocks[1].publish(anchor(96_048, t + Duration::from_secs(2)));
        let o = measure(
            &clocks[0],
            &clocks[1],
            &clocks[2],
            &clocks[3],
            OffsetKind::Estimate,
            &CycleOffset::default(),
        )
        .unwrap();
        assert_eq!(o.frames, 1024 + 48);
        let drift = o.drift_ppm.unwrap();
        assert!((drift - 500.0).abs() < 0.01, "{drift}");
    }

    /// Two streams of one JACK server: 1024-frame cycles, the output's converter 2048
    /// frames after its cycle's start, the input's 1024 before; the input clock started
    /// 3000 frames after the output's; each client's callback comes some microseconds into
    /// the cycle. Cycle starts jitter by microseconds. Only stamps of one cycle are
    /// taken, and they give the same whole number every cycle.
    #[test]
    fn an_exact_offset_comes_from_stamps_of_one_cycle() {
        let t0: i64 = 1_000_000_000;
        let frames = |n: i64| n * 1_000_000_000 / 48_000;
        let cycle = |k: i64, jitter_us: i64| t0 + frames(k * 1024) + jitter_us * 1000;
        // The callbacks come 3 and 40 frames into the cycle: the latencies cpal reports
        // run from the callback to the converter.
        let output = |k: i64, jitter| Stamp {
            frame: (k * 1024) as u64,
            at: cycle(k, jitter) + frames(2048),
            next_frame: (k * 1024 + 1024) as u64,
            latency_frames: 2048 - 3,
        };
        let input = |k: i64, jitter| Stamp {
            frame: ((k - 3) * 1024 - 72) as u64,
            at: cycle(k, jitter) - frames(1024),
            next_frame: ((k - 3) * 1024 - 72 + 1024) as u64,
            latency_frames: 1024 + 40,
        };
        let want = -3 * 1024 - 72 + 3072;
        let tracker = CycleOffset::default();
        assert_eq!(tracker.get(), None);
        // Stamps of different cycles (jittered by 7 us) are not taken.
        tracker.observe(&output(11, 7), &input(10, 0), 48_000);
        assert_eq!(tracker.get(), None);
        // (where the time-based figure would be off by the jitter: 7 us, a third of a frame)
        let off = stamp_offset(&output(11, 7), &input(10, 0), 48_000.0) - want as f64;
        assert!((off - 0.336).abs() < 1e-3, "{off}");
        for k in 10..20 {
            let jitter = (k * 37) % 50;
            tracker.observe(&output(k, jitter), &input(k, jitter), 48_000);
            assert_eq!(tracker.get(), Some(want), "cycle {k}");
            tracker.observe(&output(k + 1, 0), &input(k, jitter), 48_000);
            assert_eq!(tracker.get(), Some(want), "cycle {k}");
        }
    }

    #[test]
    fn a_stamp_is_read_whole_or_not_at_all() {
        let cell = StampCell::default();
        assert_eq!(cell.load(), None);
        let s = |k: u64| Stamp {
            frame: k,
            next_frame: k + 1024,
            at: k.cast_signed() * 7,
            latency_frames: k % 3,
        };
        cell.store(s(5));
        assert_eq!(cell.load(), Some(s(5)));
        // A writer and a reader on two threads: every stamp read is one that was written.
        let cell = std::sync::Arc::new(StampCell::default());
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let writer = {
            let (cell, stop) = (cell.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut k = 1;
                while !stop.load(Ordering::Relaxed) {
                    cell.store(s(k));
                    k += 1;
                }
                k
            })
        };
        let mut read = 0;
        while read < 20_000 {
            if let Some(got) = cell.load() {
                assert_eq!(got, s(got.frame));
                read += 1;
            }
        }
        stop.store(true, Ordering::Relaxed);
        let written = writer.join().unwrap();
        assert_eq!(cell.load(), Some(s(written - 1)));
    }
}
