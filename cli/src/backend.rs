//! The audio devices behind `play`, `record` and `latency`: rtmix-alsa (Linux, the default
//! there) and rtmix-cpal, opened by name behind one small interface, with their errors
//! turned into this program's typed [`Error`]s.
//!
//! Every stream here owns its storage ([`capacity::open`]): the engine moves to the
//! backend's audio thread, and the storage is freed once that thread and the controller
//! are both done with it. A command opens one stream, or one per `latency` repeat.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::Args;
use rtmix_core::{DeviceClock, StreamConfig};

use crate::capacity::{self, StreamController, StreamEngine};
use crate::error::Error;

/// The control side of a device stream.
pub type Ctl = StreamController;

/// Which backend drives the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// rtmix-alsa: ALSA PCMs by name (`default`, `hw:0,0`, any PCM of the configuration),
    /// mmap transfers on a realtime thread. Linux only.
    Alsa,
    /// rtmix-cpal: the devices of a cpal host (`--host`; cpal's default host otherwise).
    Cpal,
}

impl Backend {
    /// The default: ALSA on Linux, cpal elsewhere.
    pub fn platform_default() -> Self {
        if cfg!(target_os = "linux") {
            Backend::Alsa
        } else {
            Backend::Cpal
        }
    }

    /// The name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Alsa => "ALSA",
            Backend::Cpal => "cpal",
        }
    }
}

/// The device options shared by `play`, `record` and `latency`.
#[derive(Clone, Debug, Args)]
pub struct DeviceArgs {
    /// The backend: alsa (the default on Linux) or cpal.
    #[arg(long, value_enum)]
    pub backend: Option<Backend>,
    /// The device: an ALSA PCM name for --backend alsa (`default`, `hw:0,0`,
    /// `rtmix_jack`, `rtmix_file:FILE=out.raw`...), a cpal device name for --backend cpal.
    /// `rtmix devices` lists them.
    #[arg(long, default_value = "default", value_name = "NAME")]
    pub device: String,
    /// The cpal host (`ALSA`, `JACK`, `CoreAudio`, `WASAPI`...; --backend cpal only).
    /// Default: cpal's default host.
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// Frames per period (ALSA; the buffer holds 3) or per callback (cpal).
    #[arg(long, default_value_t = 1024, value_name = "N", value_parser = clap::value_parser!(u32).range(16..=65_536))]
    pub period: u32,
}

impl DeviceArgs {
    /// The backend asked for, or the platform's default.
    pub fn backend(&self) -> Backend {
        self.backend.unwrap_or_else(Backend::platform_default)
    }

    fn check(&self) -> Result<(), Error> {
        if self.host.is_some() && self.backend() != Backend::Cpal {
            return Err(Error::Usage(
                "--host chooses a cpal host: use it with --backend cpal".into(),
            ));
        }
        Ok(())
    }
}

/// Periods in an ALSA device buffer.
pub const ALSA_PERIODS: u32 = 3;

/// What a device granted, for the summaries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Granted {
    /// One line: backend, device, channels, rate, format, period, buffer.
    pub description: String,
    /// Frames per period (or callback), when known.
    pub period: Option<u32>,
    /// Frames in the device buffer, when known.
    pub buffer: Option<u32>,
}

/// What a stream did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Frames transferred.
    pub frames: u64,
    /// Underruns or overruns recovered from.
    pub xruns: u64,
    /// Frames lost to them (an estimate).
    pub frames_lost: u64,
    /// Samples clamped on the way to an integer device format.
    pub clipped: u64,
}

/// A running stream of one direction (or a duplex), whatever its backend.
#[derive(Debug)]
pub enum Stream {
    /// rtmix-alsa, one direction.
    #[cfg(target_os = "linux")]
    Alsa(rtmix_alsa::AlsaStream),
    /// rtmix-alsa, duplex.
    #[cfg(target_os = "linux")]
    AlsaDuplex(rtmix_alsa::AlsaStream<rtmix_alsa::DuplexReport>),
    /// rtmix-cpal, one direction.
    Cpal(rtmix_cpal::CpalStream),
    /// rtmix-cpal, duplex.
    CpalDuplex(rtmix_cpal::DuplexStream),
}

/// A duplex stream's own account of where its input clock stands against its output clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportedOffset {
    /// Input frame minus output frame at the same instant.
    pub frames: i64,
    /// Whether the backend calls it exact.
    pub exact: bool,
}

impl Stream {
    /// The output clock (the input's for a capture stream).
    pub fn clock(&self) -> Arc<DeviceClock> {
        match self {
            #[cfg(target_os = "linux")]
            Stream::Alsa(s) => s.clock(),
            #[cfg(target_os = "linux")]
            Stream::AlsaDuplex(s) => s.clock(),
            Stream::Cpal(s) => s.clock(),
            Stream::CpalDuplex(s) => s.clock(),
        }
    }

    /// Whether the stream has ended by itself.
    pub fn is_finished(&self) -> bool {
        match self {
            #[cfg(target_os = "linux")]
            Stream::Alsa(s) => s.is_finished(),
            #[cfg(target_os = "linux")]
            Stream::AlsaDuplex(s) => s.is_finished(),
            Stream::Cpal(s) => s.is_finished(),
            Stream::CpalDuplex(s) => s.is_finished(),
        }
    }

    /// A duplex stream's offset between its clocks, once both have run.
    pub fn offset(&self) -> Option<ReportedOffset> {
        match self {
            #[cfg(target_os = "linux")]
            Stream::AlsaDuplex(s) => s.offset().map(|o| ReportedOffset {
                frames: o.frames,
                exact: o.kind == rtmix_alsa::OffsetKind::Exact,
            }),
            Stream::CpalDuplex(s) => s.offset().map(|o| ReportedOffset {
                frames: o.frames,
                exact: o.kind == rtmix_cpal::OffsetKind::Exact,
            }),
            _ => None,
        }
    }

    /// Stops the stream (after its current period) and waits for it.
    pub fn stop(self) -> Result<RunSummary, Error> {
        self.end(true)
    }

    /// Waits for the stream to end by itself.
    pub fn join(self) -> Result<RunSummary, Error> {
        self.end(false)
    }

    fn end(self, stop: bool) -> Result<RunSummary, Error> {
        let failed = |e: &dyn std::fmt::Display| Error::DeviceFailed(e.to_string());
        match self {
            #[cfg(target_os = "linux")]
            Stream::Alsa(s) => {
                let r = if stop { s.stop() } else { s.join() }.map_err(|e| failed(&e))?;
                Ok(alsa_summary(&r))
            }
            #[cfg(target_os = "linux")]
            Stream::AlsaDuplex(s) => {
                let r = if stop { s.stop() } else { s.join() }.map_err(|e| failed(&e))?;
                let mut sum = alsa_summary(&r.output);
                let input = alsa_summary(&r.input);
                sum.xruns += input.xruns;
                sum.frames_lost += input.frames_lost;
                Ok(sum)
            }
            Stream::Cpal(s) => {
                let r = if stop { s.stop() } else { s.join() }.map_err(|e| failed(&e))?;
                Ok(cpal_summary(&r))
            }
            Stream::CpalDuplex(s) => {
                let r = if stop { s.stop() } else { s.join() }.map_err(|e| failed(&e))?;
                let mut sum = cpal_summary(&r.output);
                let input = cpal_summary(&r.input);
                sum.xruns += input.xruns;
                sum.frames_lost += input.frames_lost;
                Ok(sum)
            }
        }
    }
}

#[cfg(target_os = "linux")]
fn alsa_summary(r: &rtmix_alsa::RunReport) -> RunSummary {
    RunSummary {
        frames: r.frames,
        xruns: r.xruns,
        frames_lost: r.frames_lost_estimate,
        clipped: r.clipped,
    }
}

fn cpal_summary(r: &rtmix_cpal::RunReport) -> RunSummary {
    RunSummary {
        frames: r.frames,
        xruns: r.xruns,
        frames_lost: r.frames_lost_estimate,
        clipped: r.clipped,
    }
}

/// What a stream is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// Frames per second.
    pub rate: u32,
    /// Output channels (0: no output).
    pub outputs: u16,
    /// Input channels (0: no input).
    pub inputs: u16,
    /// End by itself after this many frames (output frames, for a duplex).
    pub stop_after: Option<u64>,
}

/// Opens the device `args` names for `request`, lets `prepare` submit what must be on the
/// controller before the first frame, then starts the stream. Opening fails with a typed
/// error before `prepare` runs.
pub fn start(
    args: &DeviceArgs,
    request: Request,
    stop: &Arc<AtomicBool>,
    prepare: &mut dyn FnMut(&mut Ctl) -> Result<(), Error>,
) -> Result<(Ctl, Stream, Granted), Error> {
    args.check()?;
    // alsa-lib's own messages about a PCM that does not open would precede ours: keep them
    // out of the terminal (the typed error says what went wrong).
    #[cfg(target_os = "linux")]
    let _quiet = alsa::Output::local_error_handler();
    if request.rate == 0 || request.rate > crate::session::MAX_RATE {
        return Err(Error::Usage(format!("{} Hz is not a rate", request.rate)));
    }
    let config = StreamConfig::duplex(request.outputs, request.inputs);
    let (mut ctl, engine) = capacity::open(config)
        .map_err(|e| Error::Engine(format!("cannot open the stream: {e}")))?;
    match args.backend() {
        Backend::Alsa => start_alsa(args, request, stop, prepare, ctl, engine),
        Backend::Cpal => {
            let (stream, granted) =
                start_cpal(args, request, stop, &mut *prepare, &mut ctl, engine)?;
            Ok((ctl, stream, granted))
        }
    }
}

type DeviceEngine = StreamEngine;

#[cfg(not(target_os = "linux"))]
fn start_alsa(
    _: &DeviceArgs,
    _: Request,
    _: &Arc<AtomicBool>,
    _: &mut dyn FnMut(&mut Ctl) -> Result<(), Error>,
    _: Ctl,
    _: DeviceEngine,
) -> Result<(Ctl, Stream, Granted), Error> {
    Err(Error::Usage(
        "the ALSA backend exists on Linux only: use --backend cpal".into(),
    ))
}

#[cfg(target_os = "linux")]
fn start_alsa(
    args: &DeviceArgs,
    request: Request,
    stop: &Arc<AtomicBool>,
    prepare: &mut dyn FnMut(&mut Ctl) -> Result<(), Error>,
    mut ctl: Ctl,
    engine: DeviceEngine,
) -> Result<(Ctl, Stream, Granted), Error> {
    use rtmix_alsa::{AlsaStream, Config, DuplexDevice, InputDevice, OutputDevice, RunControl};
    let device = args.device.as_str();
    let config = |channels: u16| {
        Config::new(device, request.rate, channels)
            .period(args.period)
            .periods(ALSA_PERIODS)
    };
    let control = RunControl {
        stop: stop.clone(),
        stop_after: request.stop_after,
        ..RunControl::default()
    };
    let what = |channels: u16| {
        format!(
            "{channels} channel{}",
            crate::session::plural(channels.into())
        )
    };
    let err = |e: rtmix_alsa::AlsaError, channels: u16| {
        alsa_error(device, &e, &what(channels), request.rate)
    };
    let check_rate = |granted: &rtmix_alsa::Granted| {
        if granted.rate == request.rate {
            Ok(())
        } else {
            Err(Error::Unsupported {
                backend: "ALSA",
                device: device.to_owned(),
                what: format!("{} Hz", request.rate),
                message: format!(
                    "it runs at {} Hz (ask for that rate, or use a `plug` PCM such as `plug:{device}` to convert)",
                    granted.rate
                ),
            })
        }
    };
    let describe = |g: &rtmix_alsa::Granted, way: &str| {
        format!(
            "{way} {} ch, {} Hz, {:?}, period {} frames, buffer {} frames",
            g.channels,
            g.rate,
            g.format,
            g.period.unwrap_or_default(),
            g.buffer.unwrap_or_default()
        )
    };
    let (stream, granted) = match (request.outputs, request.inputs) {
        (o, 0) => {
            let dev = OutputDevice::open(&config(o)).map_err(|e| err(e, o))?;
            let g = dev.granted().clone();
            check_rate(&g)?;
            prepare(&mut ctl)?;
            let (output, _) = engine.split();
            let s = AlsaStream::play(dev, output, control).map_err(|e| err(e, o))?;
            (
                Stream::Alsa(s),
                granted_of(device, &describe(&g, "out"), &g),
            )
        }
        (0, i) => {
            let dev = InputDevice::open(&config(i)).map_err(|e| err(e, i))?;
            let g = dev.granted().clone();
            check_rate(&g)?;
            prepare(&mut ctl)?;
            let (_, input) = engine.split();
            let s = AlsaStream::record(dev, input, control).map_err(|e| err(e, i))?;
            (Stream::Alsa(s), granted_of(device, &describe(&g, "in"), &g))
        }
        (o, i) => {
            let dev = DuplexDevice::open(&config(o), &config(i)).map_err(|e| err(e, o.max(i)))?;
            let (go, gi) = (dev.granted().0.clone(), dev.granted().1.clone());
            check_rate(&go)?;
            check_rate(&gi)?;
            let linked = if dev.linked() { "linked" } else { "not linked" };
            prepare(&mut ctl)?;
            let s = AlsaStream::duplex(dev, engine, control).map_err(|e| err(e, o))?;
            let text = format!(
                "{}; {}; {linked}",
                describe(&go, "out"),
                describe(&gi, "in")
            );
            (Stream::AlsaDuplex(s), granted_of(device, &text, &go))
        }
    };
    Ok((ctl, stream, granted))
}

#[cfg(target_os = "linux")]
fn granted_of(device: &str, text: &str, g: &rtmix_alsa::Granted) -> Granted {
    Granted {
        description: format!("ALSA {device:?}: {text}"),
        period: g.period,
        buffer: g.buffer,
    }
}

/// An ALSA error as this program's error: a missing device, a JACK PCM without its server,
/// a refused configuration.
#[cfg(target_os = "linux")]
pub fn alsa_error(device: &str, e: &rtmix_alsa::AlsaError, channels: &str, rate: u32) -> Error {
    use rtmix_alsa::AlsaError;
    match e {
        AlsaError::Open { errno, .. } => {
            let errno = errno.abs();
            let pcm_type = crate::devices::alsa_tree::alsa_pcm_type(device);
            if pcm_type.as_deref() == Some("jack") && errno != libc_ebusy() {
                return Error::ServerDown {
                    backend: "ALSA",
                    device: device.to_owned(),
                };
            }
            let why = match errno {
                16 => "it is busy (another program has it open)".to_owned(),
                2 | 6 | 19 => "no such device or PCM".to_owned(),
                13 => "permission denied (is the user in the `audio` group?)".to_owned(),
                n => format!(
                    "it cannot be opened ({})",
                    std::io::Error::from_raw_os_error(n)
                ),
            };
            Error::NoDevice {
                backend: "ALSA",
                device: device.to_owned(),
                message: format!(
                    "{why} (errno {errno}); `rtmix devices` lists the PCMs of the ALSA configuration"
                ),
            }
        }
        AlsaError::Unsupported { what, message } => {
            let asked = match *what {
                "channel count" => channels.to_owned(),
                "rate" => format!("{rate} Hz"),
                other => format!("the {other} asked"),
            };
            Error::Unsupported {
                backend: "ALSA",
                device: device.to_owned(),
                what: asked,
                message: format!(
                    "it refused the {what} ({message}); `rtmix devices` shows what it takes"
                ),
            }
        }
        other => Error::DeviceFailed(other.to_string()),
    }
}

#[cfg(target_os = "linux")]
const fn libc_ebusy() -> i32 {
    16
}

fn start_cpal(
    args: &DeviceArgs,
    request: Request,
    stop: &Arc<AtomicBool>,
    prepare: &mut dyn FnMut(&mut Ctl) -> Result<(), Error>,
    ctl: &mut Ctl,
    engine: DeviceEngine,
) -> Result<(Stream, Granted), Error> {
    use rtmix_cpal::{Config, CpalStream, DuplexDevice, InputDevice, OutputDevice, RunControl};
    let device = args.device.as_str();
    let config = |channels: u16| {
        let c = Config::new(device, request.rate, channels).period(args.period);
        match &args.host {
            Some(h) => c.host(h),
            None => c,
        }
    };
    let control = RunControl {
        stop: stop.clone(),
        stop_after: request.stop_after,
        ..RunControl::default()
    };
    let err =
        |e: rtmix_cpal::CpalError, channels: u16| cpal_error(device, &e, channels, request.rate);
    let describe = |g: &rtmix_cpal::Granted, way: &str| {
        let period = g.period.map_or_else(
            || "host's period".to_owned(),
            |p| format!("period {p} frames"),
        );
        format!(
            "{way} {} ch, {} Hz, {:?}, {period}",
            g.channels, g.rate, g.format
        )
    };
    let granted_of = |g: &rtmix_cpal::Granted, text: String| Granted {
        description: format!("cpal {} {:?}: {text}", g.host, g.device),
        period: g.period,
        buffer: None,
    };
    Ok(match (request.outputs, request.inputs) {
        (o, 0) => {
            let dev = OutputDevice::open(&config(o)).map_err(|e| err(e, o))?;
            prepare(ctl)?;
            let (output, _) = engine.split();
            let s = CpalStream::play(dev, output, control).map_err(|e| err(e, o))?;
            let g = granted_of(s.granted(), describe(s.granted(), "out"));
            (Stream::Cpal(s), g)
        }
        (0, i) => {
            let dev = InputDevice::open(&config(i)).map_err(|e| err(e, i))?;
            prepare(ctl)?;
            let (_, input) = engine.split();
            let s = CpalStream::record(dev, input, control).map_err(|e| err(e, i))?;
            let g = granted_of(s.granted(), describe(s.granted(), "in"));
            (Stream::Cpal(s), g)
        }
        (o, i) => {
            let dev = DuplexDevice::open(&config(o), &config(i)).map_err(|e| err(e, o.max(i)))?;
            prepare(ctl)?;
            let s = CpalStream::duplex(dev, engine, control).map_err(|e| err(e, o))?;
            let (go, gi) = (s.granted(), s.input_granted());
            let g = granted_of(
                go,
                format!("{}; {}", describe(go, "out"), describe(gi, "in")),
            );
            (Stream::CpalDuplex(s), g)
        }
    })
}

/// A cpal error as this program's error.
pub fn cpal_error(device: &str, e: &rtmix_cpal::CpalError, channels: u16, rate: u32) -> Error {
    use rtmix_cpal::CpalError;
    match e {
        CpalError::NoSuchHost { .. } | CpalError::NoSuchDevice { .. } => Error::NoDevice {
            backend: "cpal",
            device: device.to_owned(),
            message: format!("{e}; `rtmix devices` lists them"),
        },
        CpalError::Unsupported { what, message } => Error::Unsupported {
            backend: "cpal",
            device: device.to_owned(),
            what: match *what {
                "rate" => format!("{rate} Hz"),
                "channel count" => format!(
                    "{channels} channel{}",
                    crate::session::plural(channels.into())
                ),
                other => format!("the {other} asked"),
            },
            message: message.clone(),
        },
        CpalError::Build { message, .. } if message.to_lowercase().contains("jack") => {
            Error::ServerDown {
                backend: "cpal",
                device: device.to_owned(),
            }
        }
        CpalError::Build { .. } => Error::NoDevice {
            backend: "cpal",
            device: device.to_owned(),
            message: e.to_string(),
        },
        other => Error::DeviceFailed(other.to_string()),
    }
}

/// The `--ready` line: printed once on standard error, the first time the stream's clock
/// has an anchor (the device runs and has moved its first period).
#[derive(Debug)]
pub struct Ready {
    /// Whether to print it (`--ready`).
    wanted: bool,
    /// `output` or `input`.
    direction: &'static str,
}

impl Ready {
    /// A `--ready` line for a stream of `direction`, printed only if `wanted`.
    pub fn new(wanted: bool, direction: &'static str) -> Self {
        Self { wanted, direction }
    }

    /// Prints `ready: <direction> frame N at the converter` once `clock` runs.
    pub fn check(&mut self, clock: &DeviceClock) {
        if !self.wanted {
            return;
        }
        if let Some(frame) = clock.now() {
            eprintln!("ready: {} frame {frame} at the converter", self.direction);
            self.wanted = false;
        }
    }
}

/// Sets a flag when Ctrl-C (SIGINT) arrives, instead of ending the process, so
/// that a command can fade out and clean up. Installed once per process; later calls share
/// the one flag.
pub fn ctrl_c_flag() -> Arc<AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let set = flag.clone();
        // If a handler cannot be installed, Ctrl-C keeps its default meaning.
        let _ = ctrlc::set_handler(move || set.store(true, Ordering::Release));
        flag
    })
    .clone()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::alsa_error;
    use crate::error::Error;
    use rtmix_alsa::AlsaError;

    /// A busy device (another program has a `hw:` PCM open) cannot be made on a machine
    /// without a sound card; alsa-lib reports it as `-EBUSY` at open, which this maps.
    #[test]
    fn a_busy_device_is_named_busy() {
        let busy = AlsaError::Open {
            device: "hw:0".into(),
            errno: -16,
        };
        let e = alsa_error("hw:0", &busy, "2 channels", 48_000);
        assert!(matches!(e, Error::NoDevice { .. }), "{e:?}");
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string()
                .starts_with("ALSA device \"hw:0\": it is busy (another program has it open)"),
            "{e}"
        );
    }
}
