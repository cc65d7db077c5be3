//! The offset between a duplex stream's output and input frame clocks, and the drift
//! between them, measured from the anchors each callback publishes.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use rtmix_core::{Anchor, DeviceClock};

/// How far the offset can be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetKind {
    /// Both directions run on one clock and their timestamps share one epoch (the JACK
    /// host: one server cycle drives both clients), so the offset is fixed and known to
    /// the frame: a whole number, measured by the callbacks themselves from the two
    /// directions' anchors of one cycle, whose instants differ by exactly the latencies
    /// the host declares (anchors of different cycles would add the jitter of the cycles'
    /// start times). There is no drift on one clock: `drift_ppm` is 0 once a second has
    /// passed, and a change of the offset (a latency step, frames lost on one side) shows
    /// in `frames`.
    Exact,
    /// Each direction's timestamps were paired with the host's monotonic clock on their
    /// own (ALSA, and every host whose streams each count from their own epoch): the
    /// offset is off by the difference of the two pairings, and two devices may drift.
    Estimate,
}

/// Where the input frame clock stands against the output frame clock.
///
/// A sound at the output converter (DAC) at output frame `f` is at the input converter
/// (ADC), at the same instant, at input frame `f + frames`. Through a loopback with a
/// latency of `L` frames of its own, output frame `f` is recorded at input frame
/// `f + frames + L`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Offset {
    /// The offset, rounded to the nearest frame.
    pub frames: i64,
    /// The same, unrounded (equal to `frames` when `Exact`).
    pub precise: f64,
    /// Exact or an estimate.
    pub kind: OffsetKind,
    /// How fast the offset changes, in parts per million of the output rate (the input
    /// device's clock running fast shows as positive), measured between reference anchors
    /// (each direction's first, taken again when the host's reported latency steps) and
    /// the latest ones; `None` until they are a second apart. `Exact` offsets have none:
    /// 0 (one clock drives both directions).
    pub drift_ppm: Option<f64>,
    /// The time between the reference and latest output anchors the drift was measured
    /// over.
    pub span: Duration,
}

/// The offset of a duplex whose two streams one clock drives, as its callbacks measure it:
/// each callback, once it has published its anchor, compares it with the other
/// direction's latest, and when both come from one cycle stores the offset they give.
/// Atomics only: the callbacks neither wait nor allocate.
#[derive(Debug, Default)]
pub(crate) struct CycleOffset {
    measured: AtomicBool,
    latest: AtomicI64,
}

impl CycleOffset {
    /// Records the offset between `output` and `input`, the directions' latest anchors,
    /// if they come from one cycle.
    pub(crate) fn observe(&self, output: &Anchor, input: &Anchor, rate: u32) {
        let rate = f64::from(rate);
        if same_cycle(output, input, rate) {
            let frames = offset_of(output, input, rate).round() as i64;
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

/// Whether two anchors of streams one clock drives come from one cycle: their callbacks
/// (the anchors' instants less the latencies to the converters) are less than half a
/// block apart, where anchors of different cycles are a block or more apart.
fn same_cycle(output: &Anchor, input: &Anchor, rate: f64) -> bool {
    let latency = output.latency_frames as f64 + input.latency_frames as f64;
    // The output callback's instant less the input callback's, in frames.
    let apart = seconds_between(input.at, output.at) * rate - latency;
    let block = output
        .next_frame
        .saturating_sub(output.frame)
        .max(input.next_frame.saturating_sub(input.frame));
    block > 0 && apart.abs() < block as f64 / 2.0
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
    /// the cycle. Cycle starts jitter by microseconds. Only anchors of one cycle are
    /// taken, and they give the same whole number every cycle.
    #[test]
    fn an_exact_offset_comes_from_anchors_of_one_cycle() {
        let t0 = Instant::now() + Duration::from_secs(1);
        let cycle = |k: u64, jitter_us: u64| {
            t0 + Duration::from_nanos(k * 1024 * 1_000_000_000 / 48_000)
                + Duration::from_micros(jitter_us)
        };
        let frames = |n: u64| Duration::from_nanos(n * 1_000_000_000 / 48_000);
        // The callbacks come 3 and 40 frames into the cycle: the latencies cpal reports
        // run from the callback to the converter.
        let output = |k: u64, jitter| Anchor {
            frame: k * 1024,
            at: cycle(k, jitter) + frames(2048),
            next_frame: k * 1024 + 1024,
            latency_frames: 2048 - 3,
            source: TimeSource::Device,
        };
        let input = |k: u64, jitter| Anchor {
            frame: (k - 3) * 1024 - 72,
            at: cycle(k, jitter).checked_sub(frames(1024)).unwrap(),
            next_frame: (k - 3) * 1024 - 72 + 1024,
            latency_frames: 1024 + 40,
            source: TimeSource::Device,
        };
        let want = -3 * 1024 - 72 + 3072;
        let tracker = CycleOffset::default();
        assert_eq!(tracker.get(), None);
        // Anchors of different cycles (jittered by 7 us) are not taken.
        tracker.observe(&output(11, 7), &input(10, 0), 48_000);
        assert_eq!(tracker.get(), None);
        // (where the time-based figure would be off by the jitter: 7 us, a third of a frame)
        let off = offset_of(&output(11, 7), &input(10, 0), 48_000.0) - want as f64;
        assert!((off - 0.336).abs() < 1e-3, "{off}");
        for k in 10..20 {
            let jitter = (k * 37) % 50;
            tracker.observe(&output(k, jitter), &input(k, jitter), 48_000);
            assert_eq!(tracker.get(), Some(want), "cycle {k}");
            tracker.observe(&output(k + 1, 0), &input(k, jitter), 48_000);
            assert_eq!(tracker.get(), Some(want), "cycle {k}");
        }
    }
}
