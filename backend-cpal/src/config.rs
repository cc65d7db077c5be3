//! What a caller asks of a device, and what the device grants.

/// A host, a device and the configuration asked of it.
///
/// ```
/// use rtmix_cpal::Config;
/// let c = Config::new("default", 48_000, 2).host("ALSA").period(256);
/// assert_eq!((c.host.as_deref(), c.period), (Some("ALSA"), Some(256)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The cpal host by name (`"ALSA"`, `"JACK"`, `"CoreAudio"`, `"WASAPI"`, …, matched
    /// without regard to case); `None` is cpal's default host.
    pub host: Option<String>,
    /// The device: its name as [`devices`](crate::devices) lists it, or its cpal id
    /// (`"alsa:hw:CARD=0,DEV=0"`), or `"default"` for the host's default device.
    pub device: String,
    /// Frames per second.
    pub rate: u32,
    /// Interleaved channels.
    pub channels: u16,
    /// Frames per callback (cpal's `BufferSize::Fixed`); `None` leaves it to the host.
    pub period: Option<u32>,
    /// The sample format to insist on; `None` takes the best the device offers, in the
    /// order of [`SampleFormat::PREFERENCE`].
    pub format: Option<SampleFormat>,
}

impl Config {
    /// `device` of the default host at `rate` with `channels`, the host's period.
    pub fn new(device: &str, rate: u32, channels: u16) -> Self {
        Self {
            host: None,
            device: device.to_owned(),
            rate,
            channels,
            period: None,
            format: None,
        }
    }

    /// Chooses the cpal host by name.
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

    /// Asks for a fixed number of frames per callback.
    #[must_use]
    pub fn period(mut self, frames: u32) -> Self {
        self.period = Some(frames);
        self
    }
}

/// The sample formats rtmix-cpal speaks to a device. All but `F32` go through a scratch
/// block, converted with rtmix-core's `convert` (rounding half away from zero, clamping,
/// NaN to 0; unsigned formats are offset binary).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SampleFormat {
    /// `f32`: the engine renders straight into cpal's buffer.
    F32,
    /// `f64`.
    F64,
    /// `i32`.
    I32,
    /// 24 bits in the low three bytes of an `i32` (cpal's `I24`).
    I24,
    /// `i16`.
    I16,
    /// `u16`, offset binary.
    U16,
    /// `u32`, offset binary.
    U32,
    /// `i8`.
    I8,
    /// `u8`, offset binary.
    U8,
}

impl SampleFormat {
    /// The order in which a device's formats are tried: `f32`, then the widest integer,
    /// then the rest.
    pub const PREFERENCE: [SampleFormat; 9] = [
        SampleFormat::F32,
        SampleFormat::I32,
        SampleFormat::I24,
        SampleFormat::I16,
        SampleFormat::F64,
        SampleFormat::U32,
        SampleFormat::U16,
        SampleFormat::I8,
        SampleFormat::U8,
    ];

    /// cpal's name for it.
    ///
    /// ```
    /// use rtmix_cpal::SampleFormat;
    /// assert_eq!(SampleFormat::I24.to_cpal(), cpal::SampleFormat::I24);
    /// ```
    pub fn to_cpal(self) -> cpal::SampleFormat {
        match self {
            SampleFormat::F32 => cpal::SampleFormat::F32,
            SampleFormat::F64 => cpal::SampleFormat::F64,
            SampleFormat::I32 => cpal::SampleFormat::I32,
            SampleFormat::I24 => cpal::SampleFormat::I24,
            SampleFormat::I16 => cpal::SampleFormat::I16,
            SampleFormat::U16 => cpal::SampleFormat::U16,
            SampleFormat::U32 => cpal::SampleFormat::U32,
            SampleFormat::I8 => cpal::SampleFormat::I8,
            SampleFormat::U8 => cpal::SampleFormat::U8,
        }
    }

    /// Ours for a cpal format, or `None` for those rtmix does not convert (64-bit
    /// integers, DSD).
    ///
    /// ```
    /// use rtmix_cpal::SampleFormat;
    /// assert_eq!(SampleFormat::from_cpal(cpal::SampleFormat::U16), Some(SampleFormat::U16));
    /// assert_eq!(SampleFormat::from_cpal(cpal::SampleFormat::I64), None);
    /// ```
    pub fn from_cpal(format: cpal::SampleFormat) -> Option<Self> {
        SampleFormat::PREFERENCE
            .into_iter()
            .find(|f| f.to_cpal() == format)
    }
}

/// What the host and device granted: it may differ from what was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Granted {
    /// The host's name.
    pub host: String,
    /// The device's name.
    pub device: String,
    /// The sample format.
    pub format: SampleFormat,
    /// Frames per second.
    pub rate: u32,
    /// Interleaved channels.
    pub channels: u16,
    /// Frames per callback: what the running stream reports (cpal's
    /// `StreamTrait::buffer_size`), else what was asked; `None` if neither says. Callbacks
    /// of other sizes are still handled exactly.
    pub period: Option<u32>,
    /// What cpal's timestamps are on this host and device, as every anchor of the stream
    /// says: [`TimeSource::Host`](rtmix_core::TimeSource::Host) on the JACK host and on
    /// ALSA PCMs of sound-server plugins (`jack`, `pulse`, `pipewire`) or of `null`,
    /// [`TimeSource::Device`](rtmix_core::TimeSource::Device) elsewhere (docs/cpal.md,
    /// "Time").
    pub time_source: rtmix_core::TimeSource,
}
