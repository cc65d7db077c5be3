//! What a caller asks of a device: one [`Config`] for every backend.
//!
//! Each field means the same on every backend; where a backend cannot honour one (cpal
//! cannot choose the number of periods), its docs say so and [`Granted`](crate::Granted)
//! reports what the device really runs.

use crate::SampleFormat;

/// A device and the configuration asked of it.
///
/// ```
/// use rtmix_backend::{Config, SampleFormat};
/// let c = Config::new("hw:0,0", 48_000, 2).period(256).periods(3).format(SampleFormat::I32);
/// assert_eq!((c.period, c.periods, c.format), (Some(256), Some(3), Some(SampleFormat::I32)));
/// assert_eq!(c.host, None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The host, for a backend that has several (rtmix-cpal: `"ALSA"`, `"JACK"`,
    /// `"CoreAudio"`, `"WASAPI"`, …, matched without regard to case); `None` is the
    /// backend's default host. rtmix-alsa has one host, `"ALSA"`, and refuses any other
    /// name with [`Error::NoSuchHost`](crate::Error::NoSuchHost).
    pub host: Option<String>,
    /// The device, named the backend's way: an ALSA PCM name for rtmix-alsa (`hw:0,0`,
    /// `plughw:1`, `default`, any PCM of the configuration); a device name as the host
    /// lists it, a cpal id, or `"default"` for rtmix-cpal.
    pub device: String,
    /// Frames per second.
    pub rate: u32,
    /// Interleaved channels. It must be the channel count of the engine half the stream
    /// runs: a mismatch is [`Error::ChannelMismatch`](crate::Error::ChannelMismatch).
    pub channels: u16,
    /// Frames per period (per callback on cpal); `None` takes the backend's default
    /// (512 on rtmix-alsa, the host's on rtmix-cpal).
    pub period: Option<u32>,
    /// Periods in the device buffer; `None` takes the backend's default (2 on
    /// rtmix-alsa). cpal cannot choose it: rtmix-cpal ignores it, and its
    /// [`Granted::buffer`](crate::Granted::buffer) says `None`.
    pub periods: Option<u32>,
    /// The sample format to insist on; `None` takes the best the device offers, in the
    /// backend's order of preference (float first, then the widest integer).
    pub format: Option<SampleFormat>,
}

impl Config {
    /// `device` of the default host at `rate` with `channels`; the backend's period,
    /// number of periods and sample format.
    pub fn new(device: &str, rate: u32, channels: u16) -> Self {
        Self {
            host: None,
            device: device.to_owned(),
            rate,
            channels,
            period: None,
            periods: None,
            format: None,
        }
    }

    /// Chooses the host by name.
    #[must_use]
    pub fn host(mut self, name: &str) -> Self {
        self.host = Some(name.to_owned());
        self
    }

    /// Insists on a sample format.
    #[must_use]
    pub fn format(mut self, format: SampleFormat) -> Self {
        self.format = Some(format);
        self
    }

    /// Sets the period in frames.
    #[must_use]
    pub fn period(mut self, frames: u32) -> Self {
        self.period = Some(frames);
        self
    }

    /// Sets the number of periods in the buffer.
    #[must_use]
    pub fn periods(mut self, periods: u32) -> Self {
        self.periods = Some(periods);
        self
    }
}
