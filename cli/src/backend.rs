//! The audio devices behind `play`, `record` and `latency`: rtmix-alsa (Linux, the default
//! there) and rtmix-cpal, through their one interface ([`rtmix_backend::Backend`]). One
//! generic function opens and starts a stream on either (`start_on`); what is left here
//! is what really differs between them: which one is chosen, and the config each is given
//! (ALSA's periods, cpal's host). What their one error type means to a user is in
//! [`device_error`](crate::device_error).
//!
//! Every stream owns its storage ([`capacity::open`]): the engine moves to the backend's
//! audio side, and the storage is freed once it and the controller are both done with it.
//! The channel counts are given once, in the [`Request`]: the engine is opened with them
//! and the devices are asked for the engine's own counts.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use clap::Args;
use rtmix_backend::{Backend as Api, Config, DevicePair, Duplex, RunControl};
use rtmix_core::StreamConfig;

use crate::capacity::{self, StreamController, StreamEngine};
use crate::device_error::device_error;
use crate::error::Error;

pub use crate::live::{ctrl_c_flag, Granted, Ready, ReportedOffset, Request, RunSummary, Stream};
use crate::live::{describe, One, Pair};

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

    /// The config of one direction with `channels`: ALSA's buffer holds
    /// [`ALSA_PERIODS`] periods; cpal takes a host and cannot choose the buffer.
    fn config(&self, rate: u32, channels: u16) -> Result<Config, Error> {
        let config = Config::new(&self.device, rate, channels).period(self.period);
        match (self.backend(), &self.host) {
            (Backend::Alsa, None) => Ok(config.periods(ALSA_PERIODS)),
            (Backend::Alsa, Some(_)) => Err(Error::Usage(
                "--host chooses a cpal host: use it with --backend cpal".into(),
            )),
            (Backend::Cpal, Some(host)) => Ok(config.host(host)),
            (Backend::Cpal, None) => Ok(config),
        }
    }
}

/// Periods in an ALSA device buffer.
pub const ALSA_PERIODS: u32 = 3;

/// What [`start_on`] is given besides the backend.
struct Start<'a> {
    args: &'a DeviceArgs,
    request: Request,
    control: RunControl,
    prepare: &'a mut dyn FnMut(&mut Ctl) -> Result<(), Error>,
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
    if request.rate == 0 || request.rate > crate::session::MAX_RATE {
        return Err(Error::Usage(format!("{} Hz is not a rate", request.rate)));
    }
    args.config(request.rate, 1)?;
    // alsa-lib's own messages about a PCM that does not open would precede ours: keep them
    // out of the terminal (the typed error says what went wrong).
    #[cfg(target_os = "linux")]
    let _quiet = alsa::Output::local_error_handler();
    let config = StreamConfig {
        meters: request.meters,
        ..StreamConfig::duplex(request.outputs, request.inputs)
    };
    let (ctl, engine) = capacity::open(config)
        .map_err(|e| Error::Engine(format!("cannot open the stream: {e}")))?;
    let control = RunControl {
        stop: stop.clone(),
        stop_after: request.stop_after,
        ..RunControl::default()
    };
    let start = Start {
        args,
        request,
        control,
        prepare,
    };
    match args.backend() {
        #[cfg(target_os = "linux")]
        Backend::Alsa => start_on::<rtmix_alsa::Alsa>(start, ctl, engine),
        #[cfg(not(target_os = "linux"))]
        Backend::Alsa => Err(Error::Usage(
            "the ALSA backend exists on Linux only: use --backend cpal".into(),
        )),
        Backend::Cpal => start_on::<rtmix_cpal::Cpal>(start, ctl, engine),
    }
}

/// [`start`] on backend `B`: the same for both.
fn start_on<B: Api>(
    s: Start<'_>,
    mut ctl: Ctl,
    engine: StreamEngine,
) -> Result<(Ctl, Stream, Granted), Error>
where
    B::Stream: std::fmt::Debug + 'static,
    B::DuplexStream: std::fmt::Debug + 'static,
{
    use rtmix_backend::{Device, Stream as _};
    let (outputs, inputs) = (engine.output.channels(), engine.input.channels());
    let err = |e: rtmix_backend::Error, channels: u16| {
        device_error(B::NAME, &s.args.device, &e, channels, s.request.rate)
    };
    let config = |channels| s.args.config(s.request.rate, channels);
    let (stream, granted, text): (Stream, rtmix_backend::Granted, String) = match (outputs, inputs)
    {
        (o, 0) => {
            let device = B::open_output(&config(o)?).map_err(|e| err(e, o))?;
            check_rate::<B>(device.granted(), s.request.rate, &s.args.device)?;
            (s.prepare)(&mut ctl)?;
            let stream = B::play(device, engine.split().0, s.control).map_err(|e| err(e, o))?;
            let g = stream.granted().clone();
            (
                Stream(Box::new(One(stream))),
                g.clone(),
                describe(&g, "out"),
            )
        }
        (0, i) => {
            let device = B::open_input(&config(i)?).map_err(|e| err(e, i))?;
            check_rate::<B>(device.granted(), s.request.rate, &s.args.device)?;
            (s.prepare)(&mut ctl)?;
            let stream = B::record(device, engine.split().1, s.control).map_err(|e| err(e, i))?;
            let g = stream.granted().clone();
            (Stream(Box::new(One(stream))), g.clone(), describe(&g, "in"))
        }
        (o, i) => {
            let device = B::open_duplex(&config(o)?, &config(i)?).map_err(|e| err(e, o.max(i)))?;
            check_rate::<B>(device.granted_pair().0, s.request.rate, &s.args.device)?;
            check_rate::<B>(device.granted_pair().1, s.request.rate, &s.args.device)?;
            let clocks = if device.one_clock() {
                "one clock"
            } else {
                "two clocks"
            };
            (s.prepare)(&mut ctl)?;
            let stream = B::duplex(device, engine, s.control).map_err(|e| err(e, o))?;
            let (go, gi) = (stream.granted().clone(), stream.input_granted());
            let text = format!("{}; {}; {clocks}", describe(&go, "out"), describe(gi, "in"));
            (Stream(Box::new(Pair(stream))), go, text)
        }
    };
    let name = if granted.host == B::NAME {
        format!("{} {:?}", B::NAME, granted.device)
    } else {
        format!("{} {} {:?}", B::NAME, granted.host, granted.device)
    };
    let granted = Granted {
        description: format!("{name}: {text}"),
        period: granted.period,
        buffer: granted.buffer,
    };
    Ok((ctl, stream, granted))
}

/// A device that runs at another rate than asked (ALSA grants the nearest) is refused.
fn check_rate<B: Api>(
    granted: &rtmix_backend::Granted,
    rate: u32,
    device: &str,
) -> Result<(), Error> {
    if granted.rate == rate {
        return Ok(());
    }
    Err(Error::Unsupported {
        backend: B::NAME,
        device: device.to_owned(),
        what: format!("{rate} Hz"),
        message: format!(
            "it runs at {} Hz (ask for that rate, or use a `plug` PCM such as `plug:{device}` to convert)",
            granted.rate
        ),
    })
}
