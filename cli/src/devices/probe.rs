//! Asking each device what it takes, the way its backend will open it: rtmix-alsa with mmap
//! access and a sample format it converts, cpal through the configurations its host reports.

use super::{Device, Latency, Listing, Missing, STANDARD_RATES};

#[cfg(target_os = "linux")]
/// The rate a device is asked for to find its default (the nearest it has).
const PREFERRED_RATE: u32 = 48_000;
#[cfg(target_os = "linux")]
/// The program's default period, as it asks rtmix-alsa for it (alsa-lib's frame count is
/// a C `long`: 32 bits on 32-bit targets).
const PERIOD: alsa::pcm::Frames = 1024;

/// What one direction of an ALSA PCM takes, as rtmix-alsa would open it.
#[cfg(target_os = "linux")]
#[derive(Debug)]
struct AlsaSide {
    channels: u32,
    rates: Vec<u32>,
    range: Option<(u32, u32)>,
    default_rate: Option<u32>,
    latency: Option<Latency>,
}

/// One direction of PCM `name`, or `None` when rtmix-alsa cannot run it (it does not open,
/// has no mmap access or no sample format rtmix converts).
#[cfg(target_os = "linux")]
fn alsa_side(name: &str, direction: alsa::Direction) -> Option<AlsaSide> {
    use alsa::pcm::{Access, Format, HwParams, PCM};
    use alsa::ValueOr;
    let pcm = PCM::new(name, direction, true).ok()?;
    let hw = HwParams::any(&pcm).ok()?;
    hw.set_access(Access::MMapInterleaved).ok()?;
    [
        Format::FloatLE,
        Format::S32LE,
        Format::S24LE,
        Format::S243LE,
        Format::S16LE,
    ]
    .into_iter()
    .find(|&f| hw.set_format(f).is_ok())?;
    let channels = hw.get_channels_max().ok()?;
    let rates = STANDARD_RATES
        .into_iter()
        .filter(|&r| hw.test_rate(r).is_ok())
        .collect();
    let range = hw.get_rate_min().ok().zip(hw.get_rate_max().ok());
    // The rest narrows the configuration as rtmix-alsa does by default: the rate nearest
    // 48 kHz, then 3 periods of 1024 frames as near as the device has them.
    let default_rate = hw.set_rate_near(PREFERRED_RATE, ValueOr::Nearest).ok();
    let latency = default_rate.and_then(|_| {
        let period = hw.set_period_size_near(PERIOD, ValueOr::Nearest).ok()?;
        let periods = hw
            .set_periods_near(crate::backend::ALSA_PERIODS, ValueOr::Nearest)
            .ok()?;
        let frames = hw.get_buffer_size().ok()?;
        Some(Latency {
            frames: u32::try_from(frames).ok()?,
            period: u32::try_from(period).ok()?,
            periods,
        })
    });
    Some(AlsaSide {
        channels,
        rates,
        range,
        default_rate,
        latency,
    })
}

/// The PCMs of the ALSA configuration that rtmix-alsa can open without arguments.
#[cfg(target_os = "linux")]
pub(super) fn alsa(listing: &mut Listing) {
    let pcms = match super::alsa_tree::alsa_pcms() {
        Ok(p) => p,
        Err(why) => {
            listing.missing.push(Missing {
                backend: "alsa",
                host: None,
                why,
            });
            return;
        }
    };
    let before = listing.devices.len();
    for p in pcms.iter().filter(|p| p.opens_bare()) {
        let out = alsa_side(&p.name, alsa::Direction::Playback);
        let inp = alsa_side(&p.name, alsa::Direction::Capture);
        let Some(first) = out.as_ref().or(inp.as_ref()) else {
            continue;
        };
        // alsa-lib's default PCM is the default of both directions.
        let default = p.name == "default";
        listing.devices.push(Device {
            index: 0,
            backend: "alsa",
            host: None,
            name: p.name.clone(),
            description: p.description.clone(),
            input_channels: inp.as_ref().map_or(0, |s| s.channels),
            output_channels: out.as_ref().map_or(0, |s| s.channels),
            rates: first.rates.clone(),
            rate_range: first.range,
            default_rate: first.default_rate,
            latency: first.latency,
            default_output: default && out.is_some(),
            default_input: default && inp.is_some(),
        });
    }
    if listing.devices.len() == before {
        listing.missing.push(Missing {
            backend: "alsa",
            host: None,
            why: "no PCM of the ALSA configuration opens without arguments".into(),
        });
    }
}

/// The devices of every cpal host that take a configuration rtmix converts.
pub(super) fn cpal(listing: &mut Listing) {
    for host in rtmix_cpal::hosts() {
        let devices = match rtmix_cpal::devices(Some(&host.name)) {
            Ok(d) => d,
            Err(e) => {
                listing.missing.push(Missing {
                    backend: "cpal",
                    host: Some(host.name.clone()),
                    why: format!("cannot list its devices: {e}"),
                });
                continue;
            }
        };
        let before = listing.devices.len();
        for d in devices {
            let usable = |r: &&rtmix_cpal::ConfigRange| r.rtmix_format.is_some();
            let mut out: Vec<_> = d.output.iter().filter(usable).collect();
            let mut inp: Vec<_> = d.input.iter().filter(usable).collect();
            // cpal's JACK devices report the same configurations both ways, but each opens
            // one way only, the one its name says (cpal refuses the other).
            if host.name == "JACK" {
                match d.name.as_str() {
                    "input" => out.clear(),
                    "output" => inp.clear(),
                    _ => {}
                }
            }
            if out.is_empty() && inp.is_empty() {
                continue;
            }
            let ranges = if out.is_empty() { &inp } else { &out };
            let rates = STANDARD_RATES
                .into_iter()
                .filter(|&r| {
                    ranges
                        .iter()
                        .any(|c| (c.min_rate..=c.max_rate).contains(&r))
                })
                .collect();
            let range = ranges
                .iter()
                .map(|c| c.min_rate)
                .min()
                .zip(ranges.iter().map(|c| c.max_rate).max());
            // A host that fixes the callback size (JACK) tells the latency: one callback.
            let fixed = ranges
                .iter()
                .map(|c| c.period)
                .reduce(|a, b| if a == b { a } else { None })
                .flatten()
                .filter(|(lo, hi)| lo == hi)
                .map(|(p, _)| Latency {
                    frames: p,
                    period: p,
                    periods: 1,
                });
            let max = |v: &[&rtmix_cpal::ConfigRange]| {
                v.iter().map(|c| u32::from(c.channels)).max().unwrap_or(0)
            };
            listing.devices.push(Device {
                index: 0,
                backend: "cpal",
                host: Some(host.name.clone()),
                name: d.name.clone(),
                description: d.description.clone().filter(|x| *x != d.name),
                input_channels: max(&inp),
                output_channels: max(&out),
                rates,
                rate_range: range,
                default_rate: d
                    .default_output
                    .or(d.default_input)
                    .map(|(_, rate, _)| rate),
                latency: fixed,
                default_output: d.is_default_output,
                default_input: d.is_default_input,
            });
        }
        if listing.devices.len() == before {
            let why = if host.name == "JACK" {
                "no devices: no JACK server is running (or none this user can reach)"
            } else {
                "no device takes a configuration rtmix converts"
            };
            listing.missing.push(Missing {
                backend: "cpal",
                host: Some(host.name.clone()),
                why: why.into(),
            });
        }
    }
}
