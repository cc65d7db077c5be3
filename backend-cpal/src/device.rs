//! Choosing a host, a device and a configuration it takes.

use cpal::traits::DeviceTrait;

use crate::config::{to_cpal, FORMATS};
use crate::enumerate::{find_device, find_host, Way};
use crate::{Config, CpalError, Granted, SampleFormat};

/// A device chosen for playback, with the configuration it accepted. The stream is built
/// when [`CpalStream::play`](crate::CpalStream::play) hands it an engine.
#[derive(Debug)]
pub struct OutputDevice {
    pub(crate) opened: Opened,
}

/// A device chosen for capture, with the configuration it accepted.
#[derive(Debug)]
pub struct InputDevice {
    pub(crate) opened: Opened,
}

/// What both directions keep.
#[derive(Debug)]
pub(crate) struct Opened {
    pub(crate) host: cpal::HostId,
    pub(crate) device: cpal::Device,
    pub(crate) config: cpal::StreamConfig,
    pub(crate) granted: Granted,
}

impl OutputDevice {
    /// Finds `config.host` and `config.device` and checks that the device takes the rate,
    /// the channel count and a sample format (`F32` first, then the widest integer, unless
    /// `config.format` insists). A missing host or device, or a configuration it does not
    /// list, is a typed error.
    pub fn open(config: &Config) -> Result<Self, CpalError> {
        Ok(Self {
            opened: Opened::new(config, Way::Output)?,
        })
    }

    /// What the device accepted (the period is what was asked until a stream runs:
    /// [`CpalStream::granted`](crate::CpalStream::granted) has the one in use).
    pub fn granted(&self) -> &Granted {
        &self.opened.granted
    }
}

impl InputDevice {
    /// Finds and checks a capture device, as [`OutputDevice::open`] does.
    pub fn open(config: &Config) -> Result<Self, CpalError> {
        Ok(Self {
            opened: Opened::new(config, Way::Input)?,
        })
    }

    /// What the device accepted.
    pub fn granted(&self) -> &Granted {
        &self.opened.granted
    }
}

/// An output device and an input device to run as one duplex stream: cpal has no duplex
/// stream, so they are two cpal streams, each running its half of the engine in its own
/// callback. The offset between their frame clocks is measured from cpal's timestamps and
/// reported ([`DuplexStream::offset`](crate::DuplexStream::offset)).
#[derive(Debug)]
pub struct DuplexDevice {
    pub(crate) output: OutputDevice,
    pub(crate) input: InputDevice,
}

impl DuplexDevice {
    /// Opens `output` for playback and `input` for capture. Both must run at the same rate.
    pub fn open(output: &Config, input: &Config) -> Result<Self, CpalError> {
        if output.rate != input.rate {
            return Err(CpalError::Unsupported {
                what: "rate",
                message: format!(
                    "a duplex runs both directions at one rate ({} and {} asked)",
                    output.rate, input.rate
                ),
            });
        }
        Ok(Self {
            output: OutputDevice::open(output)?,
            input: InputDevice::open(input)?,
        })
    }

    /// What the devices accepted: `(output, input)`.
    pub fn granted(&self) -> (&Granted, &Granted) {
        (self.output.granted(), self.input.granted())
    }

    /// Whether both directions run on one clock whose timestamps both callbacks share, so
    /// that the offset between them is exact: true for the JACK host (one server cycle
    /// drives every client). Elsewhere each stream's timestamps are paired with the
    /// host's monotonic clock on their own, and the offset is an estimate.
    pub fn shared_clock(&self) -> bool {
        shared_clock(self.output.opened.host, self.input.opened.host)
    }
}

/// Whether two streams of these hosts share one clock and one timestamp epoch.
pub(crate) fn shared_clock(output: cpal::HostId, input: cpal::HostId) -> bool {
    output == input && output.name() == "JACK"
}

impl Opened {
    fn new(config: &Config, way: Way) -> Result<Self, CpalError> {
        if config.channels == 0 {
            return Err(CpalError::Unsupported {
                what: "channel count",
                message: "at least one channel is needed".into(),
            });
        }
        let host = find_host(config.host.as_deref())?;
        let device = find_device(&host, &config.device, way)?;
        let ranges: Vec<cpal::SupportedStreamConfigRange> = match way {
            Way::Output => device.supported_output_configs().map(Iterator::collect),
            Way::Input => device.supported_input_configs().map(Iterator::collect),
        }
        .map_err(|e| crate::error::build(&e))?;
        let candidates: &[SampleFormat] = match config.format {
            Some(f) => &[f][..],
            None => &FORMATS,
        };
        let fits = |r: &cpal::SupportedStreamConfigRange| {
            r.channels() == config.channels
                && (r.min_sample_rate()..=r.max_sample_rate()).contains(&config.rate)
        };
        if !ranges.iter().any(fits) {
            let what = if ranges.iter().any(|r| r.channels() == config.channels) {
                "rate"
            } else {
                "channel count"
            };
            return Err(CpalError::Unsupported {
                what,
                message: format!(
                    "{} channels at {} Hz not among {}",
                    config.channels,
                    config.rate,
                    describe(&ranges)
                ),
            });
        }
        let format = candidates
            .iter()
            .copied()
            .find(|f| {
                ranges
                    .iter()
                    .any(|r| fits(r) && to_cpal(*f) == Some(r.sample_format()))
            })
            .ok_or_else(|| CpalError::Unsupported {
                what: "sample format",
                message: format!("none of {candidates:?} among {}", describe(&ranges)),
            })?;
        let name = crate::enumerate::device_name(&device);
        let granted = Granted {
            host: host.id().name().to_owned(),
            time_source: crate::time_source::time_source(host.id().name(), &name),
            device: name,
            format,
            rate: config.rate,
            channels: config.channels,
            period: config.period,
            // cpal says neither the buffer nor what runs behind the host.
            buffer: None,
            hardware_format: None,
        };
        Ok(Self {
            host: host.id(),
            device,
            config: cpal::StreamConfig {
                channels: config.channels,
                sample_rate: config.rate,
                buffer_size: config
                    .period
                    .map_or(cpal::BufferSize::Default, cpal::BufferSize::Fixed),
            },
            granted,
        })
    }
}

/// A short list of what a device offers, for error messages.
fn describe(ranges: &[cpal::SupportedStreamConfigRange]) -> String {
    if ranges.is_empty() {
        return "nothing (the device offers no configuration this way)".into();
    }
    let mut parts: Vec<String> = ranges
        .iter()
        .map(|r| {
            format!(
                "{}ch {}-{} Hz {}",
                r.channels(),
                r.min_sample_rate(),
                r.max_sample_rate(),
                r.sample_format()
            )
        })
        .collect();
    parts.dedup();
    if parts.len() > 12 {
        let n = parts.len() - 12;
        parts.truncate(12);
        parts.push(format!("{n} more"));
    }
    parts.join(", ")
}
