//! `rtmix devices`: a short numbered table of the devices that open, per backend, with
//! their channels, the standard rates they take, their default rate and the latency rtmix
//! gets from them by default; `--json` gives the same for scripts, `--all` the whole ALSA
//! configuration tree and every range cpal reports.
//!
//! Probing a device makes libraries talk: alsa-lib about PCMs that cannot open, libjack
//! (in cpal's JACK host, and in ALSA's jack plugin) about a server that is not running.
//! Their messages are routed away (alsa-lib's local error handler, JACK's error and info
//! callbacks) unless `--verbose`: the table is the answer, not their diagnostics.

pub mod alsa_tree;
mod probe;
mod table;

pub use table::rates_text;

use serde::Serialize;

use crate::backend::Backend;
use crate::cli::DevicesArgs;

/// The rates a device is tested for, in Hz: the standard ones from telephone to 384 kHz.
pub const STANDARD_RATES: [u32; 13] = [
    8_000, 11_025, 16_000, 22_050, 32_000, 44_100, 48_000, 88_200, 96_000, 176_400, 192_000,
    352_800, 384_000,
];

/// One device that opens, as the table and `--json` show it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Device {
    /// Its number in the listing.
    pub index: usize,
    /// `alsa` or `cpal`.
    pub backend: &'static str,
    /// The cpal host (`ALSA`, `JACK`...); `None` for rtmix-alsa.
    pub host: Option<String>,
    /// The name `--device` takes.
    pub name: String,
    /// What the backend says it is, when it says.
    pub description: Option<String>,
    /// The most input channels it takes in a sample format rtmix converts (0: no input).
    pub input_channels: u32,
    /// The most output channels (0: no output).
    pub output_channels: u32,
    /// The rates of [`STANDARD_RATES`] it takes.
    pub rates: Vec<u32>,
    /// The lowest and highest rate it reports (a plugin may report any rate at all).
    pub rate_range: Option<(u32, u32)>,
    /// The rate it runs at when asked for 48 kHz (the nearest it has), or the host's
    /// default configuration's rate.
    pub default_rate: Option<u32>,
    /// The latency rtmix gets by default at the default rate, when the device tells it.
    pub latency: Option<Latency>,
    /// Whether it is the backend's default output device.
    pub default_output: bool,
    /// Whether it is the backend's default input device.
    pub default_input: bool,
}

/// A device's latency: its buffer as rtmix asks for it by default (ALSA: 3 periods of
/// 1024 frames, as near as the device has them), or the callback cpal's host fixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Latency {
    /// Frames in the buffer (one callback where the host fixes it).
    pub frames: u32,
    /// Frames per period (or callback).
    pub period: u32,
    /// Periods in the buffer.
    pub periods: u32,
}

/// A backend or host that was asked and had no device to show, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Missing {
    /// `alsa` or `cpal`.
    pub backend: &'static str,
    /// The cpal host, for cpal.
    pub host: Option<String>,
    /// Why: no device opens, no server runs, the configuration cannot be read.
    pub why: String,
}

/// What `rtmix devices` found.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Listing {
    /// The devices that open, numbered in order.
    pub devices: Vec<Device>,
    /// The backends and hosts that had none.
    pub missing: Vec<Missing>,
}

/// `rtmix devices`: the table (or JSON, or the whole tree), as text.
pub fn list(args: &DevicesArgs) -> String {
    let _quiet = (!args.verbose).then(Quiet::new);
    if args.all {
        return alsa_tree::list_all(args.backend);
    }
    let listing = probe(args.backend);
    if args.json {
        let mut text = serde_json::to_string_pretty(&listing).expect("plain data serializes");
        text.push('\n');
        text
    } else {
        table::render(&listing)
    }
}

/// Every device of the backends asked for (both by default) that opens, numbered.
pub fn probe(backend: Option<Backend>) -> Listing {
    let mut listing = Listing::default();
    #[cfg(target_os = "linux")]
    if backend != Some(Backend::Cpal) {
        probe::alsa(&mut listing);
    }
    if backend != Some(Backend::Alsa) {
        probe::cpal(&mut listing);
    }
    for (i, d) in listing.devices.iter_mut().enumerate() {
        d.index = i;
    }
    listing
}

/// While alive, alsa-lib's messages (on this thread) and libjack's go nowhere.
#[derive(Debug)]
struct Quiet {
    #[cfg(target_os = "linux")]
    _alsa: Option<std::rc::Rc<std::cell::RefCell<alsa::Output>>>,
    #[cfg(all(target_os = "linux", not(feature = "jack")))]
    _stderr: StderrAway,
}

impl Quiet {
    fn new() -> Self {
        // libjack is loaded at run time: only where it is installed is there a callback to
        // set (and loading it here is what cpal's JACK host does anyway).
        #[cfg(all(target_os = "linux", feature = "jack"))]
        if jack::jack_sys::library().is_ok() {
            jack::set_logger(jack::LoggerType::None);
        }
        Quiet {
            #[cfg(target_os = "linux")]
            _alsa: alsa::Output::local_error_handler().ok(),
            #[cfg(all(target_os = "linux", not(feature = "jack")))]
            _stderr: StderrAway::new(),
        }
    }
}

/// Without cpal's JACK host this build has no libjack to set callbacks on, but ALSA's jack
/// plugin still loads one to probe a `type jack` PCM: standard error points at /dev/null
/// while the devices are probed, and back when this is dropped.
#[cfg(all(target_os = "linux", not(feature = "jack")))]
#[derive(Debug)]
struct StderrAway(Option<std::os::fd::OwnedFd>);

#[cfg(all(target_os = "linux", not(feature = "jack")))]
impl StderrAway {
    fn new() -> Self {
        use std::os::fd::AsFd;
        let saved = std::io::stderr().as_fd().try_clone_to_owned().ok();
        let null = std::fs::File::options().write(true).open("/dev/null");
        match (saved, null) {
            (Some(saved), Ok(null)) if rustix::stdio::dup2_stderr(&null).is_ok() => {
                StderrAway(Some(saved))
            }
            _ => StderrAway(None),
        }
    }
}

#[cfg(all(target_os = "linux", not(feature = "jack")))]
impl Drop for StderrAway {
    fn drop(&mut self) {
        if let Some(saved) = &self.0 {
            let _ = rustix::stdio::dup2_stderr(saved);
        }
    }
}
