//! The offset between a duplex stream's output and input frame clocks, and the drift
//! between them, measured from the anchors each callback publishes.

use std::time::{Duration, Instant};

use rtmix_core::{Anchor, DeviceClock};

/// How far the offset can be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetKind {
    /// Both directions run on one clock and their timestamps share one epoch (the JACK
    /// host: one server cycle drives both clients), so the offset is fixed and known to
    /// the frame (rounded from cpal's timestamps, which JACK gives in microseconds).
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
    /// The same, unrounded.
    pub precise: f64,
    /// Exact or an estimate.
    pub kind: OffsetKind,
    /// How fast the offset changes, in parts per million of the output rate (the input
    /// device's clock running fast shows as positive), measured between reference anchors
    /// (each direction's first, taken again when the host's reported latency steps) and
    /// the latest ones; `None` until they are a second apart.
    pub drift_ppm: Option<f64>,
    /// The time between the reference and latest output anchors the drift was measured
    /// over.
    pub span: Duration,
}

/// The offset from the latest anchors of both clocks, and the drift since their first
/// anchors; `None` until both directions have published.
pub(crate) fn measure(
    output: &DeviceClock,
    input: &DeviceClock,
    first_output: &DeviceClock,
    first_input: &DeviceClock,
    kind: OffsetKind,
) -> Option<Offset> {
    let rate = f64::from(output.rate());
    let (o, i) = (output.anchor()?, input.anchor()?);
    let (o0, i0) = (first_output.anchor()?, first_input.anchor()?);
    let now = offset_of(&o, &i, rate);
    let span = o.at.saturating_duration_since(o0.at);
    let drift_ppm = (span >= Duration::from_secs(1)).then(|| {
        let then = offset_of(&o0, &i0, rate);
        (now - then) / (span.as_secs_f64() * rate) * 1e6
    });
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
            OffsetKind::Exact,
        )
        .unwrap();
        assert_eq!(o.frames, 1024 + 48);
        let drift = o.drift_ppm.unwrap();
        assert!((drift - 500.0).abs() < 0.01, "{drift}");
    }
}
