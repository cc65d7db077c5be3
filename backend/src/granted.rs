//! What a device really runs: one [`Granted`] for every backend.

use std::time::Duration;

use rtmix_core::TimeSource;

use crate::SampleFormat;

/// What the host and device granted: it may differ from what was asked
/// ([`Config`](crate::Config)).
///
/// ```
/// use rtmix_backend::{Granted, SampleFormat};
/// use rtmix_core::TimeSource;
/// let g = Granted {
///     host: "ALSA".into(),
///     device: "plughw:0".into(),
///     format: SampleFormat::F32,
///     rate: 48_000,
///     channels: 2,
///     period: Some(256),
///     buffer: Some(768),
///     time_source: TimeSource::Device,
///     hardware_format: Some("S16_LE".into()),
/// };
/// assert_eq!(g.latency(), Some(std::time::Duration::from_millis(16)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Granted {
    /// The host's name (`"ALSA"` for rtmix-alsa; cpal's host name for rtmix-cpal).
    pub host: String,
    /// The device's name.
    pub device: String,
    /// The sample format the stream exchanges with the device (or with the plugin in
    /// front of it).
    pub format: SampleFormat,
    /// Frames per second.
    pub rate: u32,
    /// Interleaved channels.
    pub channels: u16,
    /// Frames per period (per callback on cpal: what the running stream reports, else
    /// what was asked); `None` if neither says. Callbacks of other sizes are still
    /// handled exactly.
    pub period: Option<u32>,
    /// Frames in the device buffer, when the backend knows it (rtmix-alsa always;
    /// rtmix-cpal never: cpal does not say).
    pub buffer: Option<u32>,
    /// What the stream's timestamps are, as every anchor of its clock says: the device's
    /// own clock, or the host's clock read next to the device's position (a sound-server
    /// plugin, or a device that refused timestamps).
    pub time_source: TimeSource,
    /// The format the hardware itself runs, as the backend's host names it, when
    /// `format` goes through a converting plugin (ALSA's `plug`, say) and the backend can
    /// see behind it: rtmix-alsa reads it from the innermost PCM of alsa-lib's setup.
    /// `None` when there is no plugin in between or it cannot be known (rtmix-cpal).
    pub hardware_format: Option<String>,
}

impl Granted {
    /// The latency of a full buffer: how far ahead of the device an output renders at
    /// most; `None` when the buffer is not known. The latency of a running stream,
    /// measured from commit to the converter, is in its clock
    /// ([`DeviceClock::latency`](rtmix_core::DeviceClock::latency)).
    pub fn latency(&self) -> Option<Duration> {
        let buffer = self.buffer?;
        Some(Duration::from_nanos(
            u64::from(buffer) * 1_000_000_000 / u64::from(self.rate.max(1)),
        ))
    }
}
