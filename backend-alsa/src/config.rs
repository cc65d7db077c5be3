//! What a caller asks of a device, and what the device grants.

/// A device and the configuration asked of it.
///
/// ```
/// use rtmix_alsa::Config;
/// let c = Config::new("hw:0,0", 48_000, 2).period(256).periods(3);
/// assert_eq!((c.period, c.periods), (256, 3));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The ALSA PCM name: `hw:0,0`, `plughw:1`, `default`, or any PCM of the configuration.
    pub device: String,
    /// Frames per second.
    pub rate: u32,
    /// Interleaved channels.
    pub channels: u16,
    /// Frames per period: the block the engine renders at a time.
    pub period: u32,
    /// Periods in the device buffer.
    pub periods: u32,
    /// The sample format to insist on; `None` takes the best the device offers, in the
    /// order of [`SampleFormat::PREFERENCE`].
    pub format: Option<SampleFormat>,
}

impl Config {
    /// `device` at `rate` with `channels`, 512-frame periods, 2 of them.
    pub fn new(device: &str, rate: u32, channels: u16) -> Self {
        Self {
            device: device.to_owned(),
            rate,
            channels,
            period: 512,
            periods: 2,
            format: None,
        }
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
        self.period = frames;
        self
    }

    /// Sets the number of periods in the buffer.
    #[must_use]
    pub fn periods(mut self, periods: u32) -> Self {
        self.periods = periods;
        self
    }
}

/// The sample formats the transfer loop speaks to the device. All but `F32` go through a
/// scratch block, converted with rtmix-core's `convert` (rounding half away from zero,
/// clamping, NaN to 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SampleFormat {
    /// `FLOAT_LE`: the engine renders straight into the mmap area.
    F32,
    /// `S32_LE`.
    S32,
    /// `S24_LE`: 24 bits in the low three bytes of four.
    S24,
    /// `S24_3LE`: 24 bits in three bytes.
    S24Packed,
    /// `S16_LE`.
    S16,
}

impl SampleFormat {
    /// The order in which a device's formats are tried: float, then the widest integer.
    pub const PREFERENCE: [SampleFormat; 5] = [
        SampleFormat::F32,
        SampleFormat::S32,
        SampleFormat::S24,
        SampleFormat::S24Packed,
        SampleFormat::S16,
    ];
}

/// What the device granted: it may differ from what was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Granted {
    /// The sample format.
    pub format: SampleFormat,
    /// Frames per second.
    pub rate: u32,
    /// Interleaved channels.
    pub channels: u16,
    /// Frames per period.
    pub period: u32,
    /// Frames in the device buffer.
    pub buffer: u32,
    /// The device took ALSA's monotonic timestamps (`tstamp_mode` enabled,
    /// `tstamp_type` monotonic): its clock anchors carry the device's own time. When
    /// false, they carry the host's clock read next to the device position.
    pub timestamps: bool,
}

impl Granted {
    /// The latency of a full buffer, in frames: how far ahead of the device an output
    /// renders at most.
    pub fn buffer_latency(&self) -> u32 {
        self.buffer
    }

    /// [`buffer_latency`](Self::buffer_latency) as a duration. The latency of a running
    /// stream, measured from commit to the converter, is in its clock
    /// ([`DeviceClock::latency`](rtmix_core::DeviceClock::latency)).
    pub fn latency(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(
            u64::from(self.buffer) * 1_000_000_000 / u64::from(self.rate.max(1)),
        )
    }
}
