//! Hosts and devices, like PyAudio-CFFI's `apis()` and `devices()`: what is there, what each
//! device takes, and the defaults. Also the lookups that [`Config`](crate::Config) uses.

use cpal::traits::{DeviceTrait, HostTrait};

use crate::{CpalError, SampleFormat};

/// A cpal host compiled into this build and available on this system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostInfo {
    /// Its name, as [`Config::host`](crate::Config::host) takes it (`"ALSA"`, `"JACK"`, …).
    pub name: String,
    /// Whether it is cpal's default host.
    pub default: bool,
}

/// One range of configurations a device takes in one direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigRange {
    /// Interleaved channels.
    pub channels: u16,
    /// The lowest rate, in frames per second.
    pub min_rate: u32,
    /// The highest rate.
    pub max_rate: u32,
    /// The sample format as cpal names it.
    pub format: cpal::SampleFormat,
    /// The same in rtmix's terms, or `None` when rtmix cannot convert it (64-bit integers,
    /// DSD).
    pub rtmix_format: Option<SampleFormat>,
    /// The frames per callback the device takes (`min`, `max`), when the host says.
    pub period: Option<(u32, u32)>,
}

/// A device and what it takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The host's name.
    pub host: String,
    /// The name [`Config::new`](crate::Config::new) takes: cpal's device id within its host
    /// (the PCM name on ALSA, `input` or `output` on JACK).
    pub name: String,
    /// cpal's full device id (`alsa:hw:CARD=0,DEV=0`), when the host gives one.
    pub id: Option<String>,
    /// A human-readable description, when the host gives one.
    pub description: Option<String>,
    /// What it takes as an output (empty when it is not one, or could not be opened).
    pub output: Vec<ConfigRange>,
    /// What it takes as an input.
    pub input: Vec<ConfigRange>,
    /// The host's default output configuration `(channels, rate, format)`, if any.
    pub default_output: Option<(u16, u32, cpal::SampleFormat)>,
    /// The host's default input configuration.
    pub default_input: Option<(u16, u32, cpal::SampleFormat)>,
    /// Whether it is the host's default output device.
    pub is_default_output: bool,
    /// Whether it is the host's default input device.
    pub is_default_input: bool,
}

/// The hosts compiled in and available, cpal's default first.
///
/// ```
/// let hosts = rtmix_cpal::hosts();
/// assert!(hosts.iter().filter(|h| h.default).count() <= 1);
/// ```
pub fn hosts() -> Vec<HostInfo> {
    let default = cpal::default_host().id();
    let mut hosts: Vec<HostInfo> = cpal::available_hosts()
        .into_iter()
        .map(|id| HostInfo {
            name: id.name().to_owned(),
            default: id == default,
        })
        .collect();
    hosts.sort_by_key(|h| !h.default);
    hosts
}

/// Every device of `host` (cpal's default host when `None`), with what it takes. Opening
/// each device to ask may take a moment, and a device that cannot be opened now lists no
/// configurations.
///
/// ```no_run
/// for d in rtmix_cpal::devices(Some("ALSA")).unwrap() {
///     println!("{} out {:?} in {:?}", d.name, d.output.len(), d.input.len());
/// }
/// ```
pub fn devices(host: Option<&str>) -> Result<Vec<DeviceInfo>, CpalError> {
    let host = find_host(host)?;
    let host_name = host.id().name().to_owned();
    let default_out = host.default_output_device().map(|d| device_name(&d));
    let default_in = host.default_input_device().map(|d| device_name(&d));
    let mut devices: Vec<cpal::Device> = host
        .devices()
        .map_err(|e| crate::error::build(&e))?
        .collect();
    // The defaults, when the host does not list them (ALSA's `default` has no hint).
    for d in [host.default_output_device(), host.default_input_device()]
        .into_iter()
        .flatten()
    {
        if !devices.iter().any(|l| device_name(l) == device_name(&d)) {
            devices.insert(0, d);
        }
    }
    Ok(devices
        .into_iter()
        .map(|d| {
            let name = device_name(&d);
            let ranges = |r: Result<Vec<cpal::SupportedStreamConfigRange>, cpal::Error>| {
                r.map(|v| v.iter().map(range).collect()).unwrap_or_default()
            };
            let default = |c: Result<cpal::SupportedStreamConfig, cpal::Error>| {
                c.ok()
                    .map(|c| (c.channels(), c.sample_rate(), c.sample_format()))
            };
            DeviceInfo {
                host: host_name.clone(),
                id: d.id().ok().map(|id| id.to_string()),
                description: d.description().ok().map(|desc| desc.name().to_owned()),
                output: ranges(d.supported_output_configs().map(Iterator::collect)),
                input: ranges(d.supported_input_configs().map(Iterator::collect)),
                default_output: default(d.default_output_config()),
                default_input: default(d.default_input_config()),
                is_default_output: default_out.as_ref() == Some(&name),
                is_default_input: default_in.as_ref() == Some(&name),
                name,
            }
        })
        .collect())
}

fn range(r: &cpal::SupportedStreamConfigRange) -> ConfigRange {
    ConfigRange {
        channels: r.channels(),
        min_rate: r.min_sample_rate(),
        max_rate: r.max_sample_rate(),
        format: r.sample_format(),
        rtmix_format: crate::config::from_cpal(r.sample_format()),
        period: match *r.buffer_size() {
            cpal::SupportedBufferSize::Range { min, max } => Some((min, max)),
            cpal::SupportedBufferSize::Unknown => None,
        },
    }
}

/// The name rtmix-cpal gives a device: its id within the host, else its description.
pub(crate) fn device_name(d: &cpal::Device) -> String {
    match d.id() {
        Ok(id) => id.id().to_owned(),
        Err(_) => d
            .description()
            .map_or_else(|_| String::new(), |x| x.name().to_owned()),
    }
}

/// The host called `name` (any case), or cpal's default.
pub(crate) fn find_host(name: Option<&str>) -> Result<cpal::Host, CpalError> {
    let Some(name) = name else {
        return Ok(cpal::default_host());
    };
    let ids = cpal::available_hosts();
    let id = ids
        .iter()
        .copied()
        .find(|id| id.name().eq_ignore_ascii_case(name) || id.to_string() == name)
        .ok_or_else(|| CpalError::NoSuchHost {
            host: name.to_owned(),
            available: ids.iter().map(|id| id.name().to_owned()).collect(),
        })?;
    cpal::host_from_id(id).map_err(|e| crate::error::build(&e))
}

/// Which way a device is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Way {
    Output,
    Input,
}

/// The device of `host` called `name` (its id within the host, its full id, or its
/// description), or the default one for `"default"` when the host does not list a device of
/// that name.
pub(crate) fn find_device(
    host: &cpal::Host,
    name: &str,
    way: Way,
) -> Result<cpal::Device, CpalError> {
    let listed: Vec<cpal::Device> = host
        .devices()
        .map_err(|e| crate::error::build(&e))?
        .collect();
    let matches = |d: &cpal::Device| {
        d.id()
            .is_ok_and(|id| id.id() == name || id.to_string() == name)
            || d.description().is_ok_and(|x| x.name() == name)
    };
    if let Some(d) = listed.iter().find(|d| matches(d)) {
        return Ok(d.clone());
    }
    let default = match way {
        Way::Output => host.default_output_device(),
        Way::Input => host.default_input_device(),
    };
    match default {
        Some(d) if name == "default" => Ok(d),
        _ => Err(CpalError::NoSuchDevice {
            host: host.id().name().to_owned(),
            device: name.to_owned(),
            available: listed.iter().map(device_name).collect(),
        }),
    }
}
