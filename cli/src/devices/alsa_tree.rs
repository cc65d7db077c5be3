//! `rtmix devices --all`: every PCM of the ALSA configuration (what `--backend alsa
//! --device` takes), and cpal's hosts and devices (what `--backend cpal --host --device`
//! takes), each with the channels, rates, formats and period and buffer ranges it offers.
//!
//! The ALSA list is read from alsa-lib's own configuration tree (every `pcm.NAME`
//! definition, the private ones of `ALSA_CONFIG_PATH` included, hint or no hint); each PCM
//! that needs no argument is opened, without starting it, to ask what it takes.

use std::fmt::Write as _;

/// One PCM defined in the ALSA configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlsaPcm {
    /// Its name (`rtmix_jack`).
    pub name: String,
    /// Its `type` (`jack`, `file`, `hw`...), or `alias of X` for `pcm.NAME X`.
    pub kind: String,
    /// Its arguments, in order, and whether each has a default.
    pub args: Vec<(String, bool)>,
    /// Its hint's description, when it has one.
    pub description: Option<String>,
}

impl AlsaPcm {
    /// Whether it opens without arguments.
    pub fn opens_bare(&self) -> bool {
        self.args.iter().all(|(_, default)| *default)
    }

    /// How to name it with its arguments: `rtmix_file:FILE=...`.
    pub fn usage(&self) -> String {
        if self.args.is_empty() {
            return self.name.clone();
        }
        let args: Vec<String> = self
            .args
            .iter()
            .map(|(a, default)| {
                if *default {
                    format!("[{a}=...]")
                } else {
                    format!("{a}=...")
                }
            })
            .collect();
        format!("{}:{}", self.name, args.join(","))
    }
}

/// Strips alsa-lib's quotes from a saved id or value.
fn unquote(s: &str) -> String {
    let s = s.trim();
    s.strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .or_else(|| s.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
        .unwrap_or(s)
        .to_owned()
}

/// The PCMs defined in a configuration tree as `snd_config_save` writes it: top-level
/// lines `pcm.NAME {` (a definition, whose body is indented by tabs) or `pcm.NAME VALUE`
/// (an alias).
///
/// ```
/// use rtmix_cli::devices::alsa_tree::parse_pcms;
/// let text = "pcm.null {\n\ttype null\n}\npcm.rtmix_file {\n\t@args.0 FILE\n\t@args.FILE {\n\t\ttype string\n\t}\n\ttype file\n}\npcm.default 'cards.pcm.default'\n";
/// let pcms = parse_pcms(text);
/// assert_eq!(pcms.len(), 3);
/// assert_eq!((pcms[1].name.as_str(), pcms[1].kind.as_str()), ("rtmix_file", "file"));
/// assert_eq!(pcms[1].usage(), "rtmix_file:FILE=...");
/// assert_eq!(pcms[2].kind, "alias of cards.pcm.default");
/// ```
pub fn parse_pcms(text: &str) -> Vec<AlsaPcm> {
    let mut pcms = Vec::new();
    let mut current: Option<AlsaPcm> = None;
    // The argument whose compound is open at depth 2, if any.
    let mut open_arg: Option<String> = None;
    for line in text.lines() {
        let depth = line.chars().take_while(|&c| c == '\t').count();
        let body = line.trim();
        if depth == 0 {
            if let Some(p) = current.take() {
                pcms.push(p);
            }
            open_arg = None;
            let Some(rest) = body.strip_prefix("pcm.") else {
                continue;
            };
            let (name, value) = rest.split_once(' ').unwrap_or((rest, ""));
            let pcm = AlsaPcm {
                name: unquote(name),
                kind: String::new(),
                args: Vec::new(),
                description: None,
            };
            if value.trim() == "{" {
                current = Some(pcm);
            } else {
                pcms.push(AlsaPcm {
                    kind: format!("alias of {}", unquote(value)),
                    ..pcm
                });
            }
            continue;
        }
        let Some(pcm) = current.as_mut() else {
            continue;
        };
        let (key, value) = body.split_once(' ').unwrap_or((body, ""));
        if depth == 1 {
            open_arg = None;
            if key == "type" {
                pcm.kind = unquote(value);
            } else if let Some(arg) = key.strip_prefix("@args.") {
                if arg.bytes().all(|b| b.is_ascii_digit()) {
                    pcm.args.push((unquote(value), false));
                } else if let Some((name, sub)) = arg.split_once('.') {
                    // `@args.NAME.default X`, written on one line.
                    if sub == "default" {
                        set_default(pcm, name);
                    }
                } else if value.trim() == "{" {
                    open_arg = Some(arg.to_owned());
                }
            } else if key == "hint.description" {
                pcm.description = Some(unquote(value));
            }
        } else if depth == 2 {
            if let Some(arg) = &open_arg {
                if key == "default" {
                    set_default(pcm, &arg.clone());
                }
            } else if key == "description" {
                pcm.description = Some(unquote(value));
            }
        }
    }
    if let Some(p) = current.take() {
        pcms.push(p);
    }
    pcms
}

fn set_default(pcm: &mut AlsaPcm, arg: &str) {
    if let Some(a) = pcm.args.iter_mut().find(|(n, _)| n == arg) {
        a.1 = true;
    }
}

/// The PCMs of alsa-lib's configuration (`ALSA_CONFIG_PATH` honoured), in its order.
#[cfg(target_os = "linux")]
pub fn alsa_pcms() -> Result<Vec<AlsaPcm>, String> {
    alsa::config::update().map_err(|e| format!("cannot read the ALSA configuration: {e}"))?;
    let top = alsa::config::update_ref()
        .map_err(|e| format!("cannot read the ALSA configuration: {e}"))?;
    let mut out = alsa::Output::buffer_open()
        .map_err(|e| format!("cannot read the ALSA configuration: {e}"))?;
    top.save(&mut out)
        .map_err(|e| format!("cannot read the ALSA configuration: {e}"))?;
    let text = out.buffer_string(|b| String::from_utf8_lossy(b).into_owned());
    Ok(parse_pcms(&text))
}

/// The `type` of the ALSA PCM `device` (its name before any `:ARGS`), when the
/// configuration defines it.
#[cfg(target_os = "linux")]
pub fn alsa_pcm_type(device: &str) -> Option<String> {
    let base = device.split(':').next().unwrap_or(device);
    alsa_pcms()
        .ok()?
        .into_iter()
        .find(|p| p.name == base)
        .map(|p| p.kind)
}

/// What one direction of an ALSA PCM takes.
#[cfg(target_os = "linux")]
fn alsa_caps(name: &str, direction: alsa::Direction) -> Result<String, String> {
    use alsa::pcm::{Format, HwParams, PCM};
    let pcm = PCM::new(name, direction, true).map_err(|e| {
        let errno = e.errno().abs();
        format!("cannot open: {}", std::io::Error::from_raw_os_error(errno))
    })?;
    let hw = HwParams::any(&pcm).map_err(|e| format!("no parameters: {e}"))?;
    let range = |a: Result<u32, alsa::Error>, b: Result<u32, alsa::Error>| match (a, b) {
        (Ok(a), Ok(b)) if a == b => a.to_string(),
        (Ok(a), Ok(b)) => format!("{a}-{b}"),
        _ => "?".to_owned(),
    };
    let frames = |a: Result<i64, alsa::Error>, b: Result<i64, alsa::Error>| {
        range(
            a.map(|v| u32::try_from(v).unwrap_or(u32::MAX)),
            b.map(|v| u32::try_from(v).unwrap_or(u32::MAX)),
        )
    };
    let formats: Vec<&str> = [
        (Format::FloatLE, "FLOAT_LE"),
        (Format::S32LE, "S32_LE"),
        (Format::S24LE, "S24_LE"),
        (Format::S243LE, "S24_3LE"),
        (Format::S16LE, "S16_LE"),
    ]
    .into_iter()
    .filter(|(f, _)| hw.test_format(*f).is_ok())
    .map(|(_, n)| n)
    .collect();
    let rate = range(hw.get_rate_min(), hw.get_rate_max());
    Ok(format!(
        "{} ch, {rate} Hz, {}, period {} frames, buffer {} frames",
        range(hw.get_channels_min(), hw.get_channels_max()),
        if formats.is_empty() {
            "no format rtmix speaks".to_owned()
        } else {
            formats.join(" ")
        },
        frames(hw.get_period_size_min(), hw.get_period_size_max()),
        frames(hw.get_buffer_size_min(), hw.get_buffer_size_max()),
    ))
}

/// The ALSA section of the listing.
#[cfg(target_os = "linux")]
fn list_alsa(text: &mut String) {
    let _ = writeln!(
        text,
        "ALSA PCMs (--backend alsa --device NAME), from the ALSA configuration:"
    );
    let pcms = match alsa_pcms() {
        Ok(p) => p,
        Err(e) => {
            let _ = writeln!(text, "  {e}");
            return;
        }
    };
    for p in &pcms {
        let mut line = format!("  {:<24} {}", p.usage(), p.kind);
        if let Some(d) = &p.description {
            let _ = write!(line, " ({d})");
        }
        let _ = writeln!(text, "{line}");
        if !p.opens_bare() {
            let _ = writeln!(text, "      takes arguments: name it as {}", p.usage());
            continue;
        }
        // Argument PCMs with defaults are the hw-style templates; open those by name too.
        let name = p.name.as_str();
        for (way, dir) in [
            ("out", alsa::Direction::Playback),
            ("in ", alsa::Direction::Capture),
        ] {
            let caps = alsa_caps(name, dir).unwrap_or_else(|e| e);
            let _ = writeln!(text, "      {way}: {caps}");
        }
    }
}

/// The cpal section of the listing.
fn list_cpal(text: &mut String) {
    let hosts = rtmix_cpal::hosts();
    let names: Vec<String> = hosts
        .iter()
        .map(|h| {
            if h.default {
                format!("{} (default)", h.name)
            } else {
                h.name.clone()
            }
        })
        .collect();
    let _ = writeln!(
        text,
        "cpal hosts (--backend cpal --host HOST): {}",
        names.join(", ")
    );
    for h in &hosts {
        let _ = writeln!(
            text,
            "cpal {} devices (--backend cpal --host {} --device NAME):",
            h.name, h.name
        );
        let devices = match rtmix_cpal::devices(Some(&h.name)) {
            Ok(d) => d,
            Err(e) => {
                let _ = writeln!(text, "  cannot list them: {e}");
                continue;
            }
        };
        if devices.is_empty() {
            let _ = writeln!(text, "  (none)");
        }
        for d in devices {
            let mut line = format!("  {}", d.name);
            if let Some(desc) = d.description.as_ref().filter(|x| **x != d.name) {
                let _ = write!(line, " ({desc})");
            }
            let defaults: Vec<&str> = [
                (d.is_default_output, "default output"),
                (d.is_default_input, "default input"),
            ]
            .into_iter()
            .filter(|(b, _)| *b)
            .map(|(_, s)| s)
            .collect();
            if !defaults.is_empty() {
                let _ = write!(line, " [{}]", defaults.join(", "));
            }
            let _ = writeln!(text, "{line}");
            for (way, ranges) in [("out", &d.output), ("in ", &d.input)] {
                if ranges.is_empty() {
                    continue;
                }
                let parts = summarize(ranges);
                let _ = writeln!(text, "      {way}: {}", parts.join("; "));
            }
        }
    }
}

/// A device's configuration ranges, one line part per sample format: the channel counts,
/// rates and callback sizes it takes in that format.
fn summarize(ranges: &[rtmix_cpal::ConfigRange]) -> Vec<String> {
    let mut formats: Vec<cpal_format::Format> = Vec::new();
    for r in ranges {
        if !formats.contains(&r.format) {
            formats.push(r.format);
        }
    }
    formats
        .iter()
        .map(|f| {
            let of: Vec<&rtmix_cpal::ConfigRange> =
                ranges.iter().filter(|r| r.format == *f).collect();
            let span = |lo: u64, hi: u64| {
                if lo == hi {
                    lo.to_string()
                } else {
                    format!("{lo}-{hi}")
                }
            };
            let min = |g: &dyn Fn(&rtmix_cpal::ConfigRange) -> u64| {
                of.iter().map(|r| g(r)).min().unwrap_or(0)
            };
            let max = |g: &dyn Fn(&rtmix_cpal::ConfigRange) -> u64| {
                of.iter().map(|r| g(r)).max().unwrap_or(0)
            };
            let channels = span(min(&|r| r.channels.into()), max(&|r| r.channels.into()));
            let rates = span(min(&|r| r.min_rate.into()), max(&|r| r.max_rate.into()));
            let periods: Vec<(u32, u32)> = of.iter().filter_map(|r| r.period).collect();
            let period = if periods.is_empty() {
                String::new()
            } else {
                let lo = periods.iter().map(|p| p.0).min().unwrap_or(0);
                let hi = periods.iter().map(|p| p.1).max().unwrap_or(0);
                format!(", period {} frames", span(lo.into(), hi.into()))
            };
            let usable = if of.iter().any(|r| r.rtmix_format.is_some()) {
                ""
            } else {
                " (rtmix cannot convert it)"
            };
            format!("{f}{usable}: {channels} ch, {rates} Hz{period}")
        })
        .collect()
}

mod cpal_format {
    pub(super) type Format = rtmix_cpal::cpal::SampleFormat;
}

/// `rtmix devices --all`: the whole listing, as text.
pub fn list_all(backend: Option<crate::backend::Backend>) -> String {
    use crate::backend::Backend;
    let mut text = String::new();
    #[cfg(target_os = "linux")]
    if backend != Some(Backend::Cpal) {
        list_alsa(&mut text);
    }
    if backend != Some(Backend::Alsa) {
        list_cpal(&mut text);
    }
    text
}
