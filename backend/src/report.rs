//! What a stream did: the same [`RunReport`] on every backend.

use crate::{Error, Offset};

/// What a stream did, per direction.
///
/// ```
/// use rtmix_backend::RunReport;
/// let r = RunReport { frames: 4800, frames_lost_estimate: 512, ..RunReport::default() };
/// assert_eq!(r.errors, vec![]);
/// # let _ = r;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Frames transferred (rendered or captured) through the engine.
    pub frames: u64,
    /// Underruns, overruns and suspends recovered from (rtmix-alsa, position jumps
    /// included), or reported by the host (rtmix-cpal's error callback).
    pub xruns: u64,
    /// Frames reported to the engine as lost to them, so that its clock stays on the
    /// device timeline. How each backend measures it, and how close it is, is in its
    /// docs (docs/alsa.md, docs/cpal.md).
    pub frames_lost_estimate: u64,
    /// Times the device's position fell more than a buffer behind its own timestamps
    /// without an error (rtmix-alsa; counted in `xruns` too). 0 on rtmix-cpal.
    pub jumps: u64,
    /// Samples clamped on the way to an integer device format.
    pub clipped: u64,
    /// Playback on rtmix-alsa: the fewest frames the device held at any of its starts,
    /// read from the device right after it started. `None` elsewhere, and for a device
    /// that never started.
    pub start_fill: Option<u64>,
    /// The engine's frame clock when the stream ended: the frames transferred plus those
    /// reported lost.
    pub engine_clock: u64,
    /// Errors the host reported that did not end the stream (rtmix-cpal).
    pub errors: Vec<Error>,
}

/// What a duplex stream did, per direction, and the offset between its clocks at the end.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DuplexReport {
    /// The playback side.
    pub output: RunReport,
    /// The capture side.
    pub input: RunReport,
    /// The offset between the clocks as last measured, if both directions ran.
    pub offset: Option<Offset>,
}
