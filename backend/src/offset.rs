//! Where a duplex stream's input frame clock stands against its output frame clock, and
//! how far that can be trusted: the same [`OffsetKind`]s on every backend.

use std::time::Duration;

/// How far an [`Offset`] can be trusted. Like cpal's `supports_duplex`, `Exact` is a
/// contract: a backend reports it only when both directions run on one clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OffsetKind {
    /// Both directions run on one clock, and the offset is the device's own account:
    /// rtmix-alsa's PCMs linked on one card with device timestamps on both; rtmix-cpal's
    /// JACK host, where one server cycle drives both directions and their timestamps
    /// share one epoch. It does not drift.
    Exact,
    /// Two clocks (two cards, two cpal streams each with its own timestamp epoch), a
    /// clock with only host time, or PCMs started back to back: an estimate from
    /// positions read at slightly different times; the devices may drift apart.
    /// Measure the round trip (a loopback cross-correlation) where it matters.
    Estimate,
}

/// Where the input frame clock stands against the output frame clock.
///
/// A sound at the output converter (DAC) at output frame `f` is at the input converter
/// (ADC), at the same instant, at input frame `f + frames`. Through a loopback with a
/// latency of `L` frames of its own, output frame `f` is recorded at input frame
/// `f + frames + L`.
///
/// ```
/// use rtmix_backend::{Offset, OffsetKind};
/// let o = Offset::exact(-2048);
/// assert_eq!((o.frames, o.precise, o.kind), (-2048, -2048.0, OffsetKind::Exact));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Offset {
    /// The offset, rounded to the nearest frame.
    pub frames: i64,
    /// The same, unrounded (equal to `frames` when `Exact`, or when the backend measures
    /// whole frames only).
    pub precise: f64,
    /// Exact or an estimate.
    pub kind: OffsetKind,
    /// How fast the offset changes, in parts per million of the output rate (the input
    /// device's clock running fast shows as positive); `None` until the backend has
    /// measured it (rtmix-cpal: once its anchors are a second apart; rtmix-alsa does not
    /// measure it). `Exact` offsets do not drift.
    pub drift_ppm: Option<f64>,
    /// The time the drift was measured over (zero when it was not).
    pub span: Duration,
}

impl Offset {
    /// An exact whole-frame offset, without drift.
    pub fn exact(frames: i64) -> Self {
        Self {
            frames,
            precise: frames as f64,
            kind: OffsetKind::Exact,
            drift_ppm: None,
            span: Duration::ZERO,
        }
    }

    /// A whole-frame estimate whose drift was not measured.
    pub fn estimate(frames: i64) -> Self {
        Self {
            kind: OffsetKind::Estimate,
            ..Self::exact(frames)
        }
    }
}
