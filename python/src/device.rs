//! Device streams: `rtmix.Mixer` (output), `rtmix.Recorder` (input) and
//! `rtmix.MixerAndRecorder` (duplex), on rtmix-alsa (`backend="alsa"`, Linux) or rtmix-cpal
//! (`backend="cpal"`, any `host` cpal has). Kept thin, in this one file: the backend runs
//! the engine on its own audio thread; everything else is the shared control side
//! (`src/control.rs`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rtmix_backend::{
    Backend, Config, Device, DevicePair, Duplex, Granted, Offset, OffsetKind, RunControl,
    Stream as _,
};
use rtmix_core::{DeviceClock, StreamCapacity, StreamConfig};

use crate::control::{Control, Eng, Stream};
use crate::exceptions::DeviceError;

/// The capacities of a device stream's queues.
const CAPACITY: StreamCapacity = StreamCapacity {
    actions: 256,
    commands: 256,
    completions: 64,
};

/// Which way a stream goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Way {
    Out,
    In,
    Both,
}

/// A running stream of either backend, one direction or duplex: what the classes need of
/// it, object-safe (the backend's own `Stream::stop` takes the stream by value).
trait Running: Send {
    /// Stops it; every action still under way ends `"stopped"`.
    fn stop(self: Box<Self>) -> Result<(), String>;
    /// The duplex offset, `None` for one direction or before both directions have run.
    fn offset(&self) -> Option<Offset>;
}

/// A stream of one direction.
struct One<S>(S);

impl<S: rtmix_backend::Stream + Send> Running for One<S> {
    fn stop(self: Box<Self>) -> Result<(), String> {
        self.0.stop().map(drop).map_err(|e| e.to_string())
    }

    fn offset(&self) -> Option<Offset> {
        None
    }
}

/// A duplex stream.
struct Both<S>(S);

impl<S: Duplex + Send> Running for Both<S> {
    fn stop(self: Box<Self>) -> Result<(), String> {
        self.0.stop().map(drop).map_err(|e| e.to_string())
    }

    fn offset(&self) -> Option<Offset> {
        self.0.offset()
    }
}

/// What every device class holds.
struct DeviceStream {
    running: Mutex<Option<Box<dyn Running>>>,
    stop: Arc<AtomicBool>,
    clock: Arc<DeviceClock>,
    control: Arc<Control>,
    /// Period and buffer as granted, in frames.
    granted: (u32, u32),
}

impl std::fmt::Debug for DeviceStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceStream")
            .field("granted", &self.granted)
            .finish_non_exhaustive()
    }
}

/// The keyword arguments of the three classes.
struct Options {
    cpal: bool,
    host: Option<String>,
    device: String,
    samplerate: u32,
    outputs: u16,
    inputs: u16,
    period: u32,
    periods: u32,
    meters: bool,
    protect_output: bool,
}

fn channel_count(obj: &Bound<'_, PyAny>) -> PyResult<u16> {
    let n: i64 = obj
        .extract()
        .map_err(|_| PyTypeError::new_err("channels must be an int"))?;
    u16::try_from(n)
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| PyValueError::new_err(format!("channels={n}: at least 1")))
}

impl Options {
    #[allow(clippy::too_many_arguments)]
    fn parse(
        way: Way,
        device: Option<String>,
        samplerate: u32,
        channels: Option<&Bound<'_, PyAny>>,
        period: u32,
        periods: u32,
        backend: &str,
        host: Option<&str>,
        meters: bool,
        protect_output: bool,
    ) -> PyResult<Self> {
        let cpal = match backend {
            "alsa" => false,
            "cpal" => true,
            other => {
                return Err(PyValueError::new_err(format!(
                    "backend={other:?}: \"alsa\" or \"cpal\""
                )))
            }
        };
        if host.is_some() && !cpal {
            return Err(PyValueError::new_err(
                "host is for backend=\"cpal\" (ALSA has no hosts)",
            ));
        }
        if samplerate == 0 || period == 0 || periods < 2 {
            return Err(PyValueError::new_err(
                "samplerate and period must be positive, periods at least 2",
            ));
        }
        let (inputs, outputs) = match (way, channels) {
            (_, None) => match way {
                Way::Out => (0, 2),
                Way::In => (2, 0),
                Way::Both => (2, 2),
            },
            (Way::Both, Some(c)) => {
                if let Ok((i, o)) = c.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>() {
                    (channel_count(&i)?, channel_count(&o)?)
                } else {
                    let n = channel_count(c)?;
                    (n, n)
                }
            }
            (Way::Out, Some(c)) => (0, channel_count(c)?),
            (Way::In, Some(c)) => (channel_count(c)?, 0),
        };
        Ok(Self {
            cpal,
            host: host.map(str::to_owned),
            device: device.unwrap_or_else(|| "default".to_owned()),
            samplerate,
            outputs,
            inputs,
            period,
            periods,
            meters,
            protect_output,
        })
    }
}

/// Opens the stream on the backend `options` names.
fn open(options: &Options) -> PyResult<(DeviceStream, Arc<Control>)> {
    let config = StreamConfig {
        meters: options.meters,
        protect_output: options.protect_output,
        ..StreamConfig::duplex(options.outputs, options.inputs)
    };
    let (ctl, engine) =
        rtmix_core::open(config, CAPACITY).map_err(|e| PyValueError::new_err(format!("{e}")))?;
    let stop = Arc::new(AtomicBool::new(false));
    let (running, clock, granted) = if options.cpal {
        start::<rtmix_cpal::Cpal>(options, engine, &stop)?
    } else {
        start_alsa(options, engine, &stop)?
    };
    let control = Arc::new(Control::new(ctl, options.samplerate, false));
    Ok((
        DeviceStream {
            running: Mutex::new(Some(running)),
            stop,
            clock,
            control: control.clone(),
            granted,
        },
        control,
    ))
}

/// What a backend's opening gives: the running stream, its clock, period and buffer.
type Opened = (Box<dyn Running>, Arc<DeviceClock>, (u32, u32));

/// Opens the device and starts the engine on backend `B` (rtmix-backend's one
/// interface: the same code for both).
fn start<B: Backend>(options: &Options, engine: Eng, stop: &Arc<AtomicBool>) -> PyResult<Opened>
where
    B::Stream: Send + 'static,
    B::DuplexStream: Send + 'static,
{
    let config = |channels: u16| {
        let c = Config::new(&options.device, options.samplerate, channels)
            .period(options.period)
            .periods(options.periods);
        match &options.host {
            Some(h) => c.host(h),
            None => c,
        }
    };
    let what = |e: rtmix_backend::Error| {
        DeviceError::new_err(format!("{} device {:?}: {e}", B::NAME, options.device))
    };
    let check_rate = |g: &Granted| {
        if g.rate == options.samplerate {
            Ok(())
        } else {
            Err(DeviceError::new_err(format!(
                "{} device {:?} runs at {} Hz, not {} (ask for that rate, or use a plug PCM)",
                B::NAME,
                options.device,
                g.rate,
                options.samplerate
            )))
        }
    };
    let sizes = |g: &Granted| (g.period.unwrap_or(0), g.buffer.unwrap_or(0));
    let run = RunControl {
        stop: stop.clone(),
        ..RunControl::default()
    };
    Ok(match (options.outputs, options.inputs) {
        (o, 0) => {
            let dev = B::open_output(&config(o)).map_err(what)?;
            check_rate(dev.granted())?;
            let s = B::play(dev, engine.split().0, run).map_err(what)?;
            let (clock, granted) = (s.clock(), sizes(s.granted()));
            (Box::new(One(s)), clock, granted)
        }
        (0, i) => {
            let dev = B::open_input(&config(i)).map_err(what)?;
            check_rate(dev.granted())?;
            let s = B::record(dev, engine.split().1, run).map_err(what)?;
            let (clock, granted) = (s.clock(), sizes(s.granted()));
            (Box::new(One(s)), clock, granted)
        }
        (o, i) => {
            let dev = B::open_duplex(&config(o), &config(i)).map_err(what)?;
            let (out, inp) = dev.granted_pair();
            check_rate(out)?;
            check_rate(inp)?;
            let s = B::duplex(dev, engine, run).map_err(what)?;
            let (clock, granted) = (s.clock(), sizes(s.granted()));
            (Box::new(Both(s)), clock, granted)
        }
    })
}

#[cfg(target_os = "linux")]
fn start_alsa(options: &Options, engine: Eng, stop: &Arc<AtomicBool>) -> PyResult<Opened> {
    start::<rtmix_alsa::Alsa>(options, engine, stop)
}

#[cfg(not(target_os = "linux"))]
fn start_alsa(_: &Options, _: Eng, _: &Arc<AtomicBool>) -> PyResult<Opened> {
    Err(DeviceError::new_err(
        "backend=\"alsa\" exists on Linux only: use backend=\"cpal\"",
    ))
}

impl DeviceStream {
    /// Stops the audio thread; the backend then ends every action still under way
    /// (`"stopped"`). Returns the backend's error if the stream had failed.
    fn close(&self) -> PyResult<()> {
        self.stop.store(true, Ordering::SeqCst);
        let running = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let result = match running {
            None => Ok(()),
            Some(s) => s.stop(),
        };
        self.control.close();
        result.map_err(|e| DeviceError::new_err(format!("the stream failed: {e}")))
    }

    fn offset<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let guard = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(offset) = guard.as_ref().and_then(|s| s.offset()) else {
            return Ok(None);
        };
        let (frames, exact) = (offset.frames, offset.kind == OffsetKind::Exact);
        let d = PyDict::new(py);
        d.set_item("frames", frames)?;
        d.set_item("kind", if exact { "exact" } else { "estimate" })?;
        Ok(Some(d))
    }
}

impl Drop for DeviceStream {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// The three classes: the same methods, one direction each.
macro_rules! device_class {
    ($name:ident, $way:expr, $doc:literal) => {
        #[doc = $doc]
        #[pyclass(extends = Stream, frozen, module = "rtmix")]
        #[derive(Debug)]
        pub(crate) struct $name {
            inner: DeviceStream,
        }

        #[pymethods]
        impl $name {
            #[new]
            #[pyo3(signature = (device=None, samplerate=48000, channels=None, period=256, periods=3, backend="alsa", host=None, meters=true, protect_output=true))]
            #[allow(clippy::too_many_arguments)]
            fn new(
                device: Option<String>,
                samplerate: u32,
                channels: Option<&Bound<'_, PyAny>>,
                period: u32,
                periods: u32,
                backend: &str,
                host: Option<&str>,
                meters: bool,
                protect_output: bool,
            ) -> PyResult<(Self, Stream)> {
                let options = Options::parse(
                    $way,
                    device,
                    samplerate,
                    channels,
                    period,
                    periods,
                    backend,
                    host,
                    meters,
                    protect_output,
                )?;
                let (inner, control) = open(&options)?;
                Ok((Self { inner }, Stream { control }))
            }

            /// The current output frame of the device clock (the input's, for a
            /// `Recorder`): the frame at the converter now. `None` until the device has
            /// run a period.
            #[getter]
            fn frame(&self) -> Option<u64> {
                self.inner.clock.now()
            }

            /// The earliest frame a new request can still make (now plus what the device
            /// has queued), `None` until the device has run a period.
            #[getter]
            fn earliest(&self) -> Option<u64> {
                self.inner.clock.earliest(u64::from(self.inner.granted.0))
            }

            /// Period and buffer sizes granted by the device, in frames (0: not reported;
            /// cpal reports no buffer size).
            #[getter]
            fn granted(&self) -> (u32, u32) {
                self.inner.granted
            }

            /// The duplex offset `{"frames": input minus output, "kind": "exact" or
            /// "estimate"}`; `None` for one direction, or before both have run.
            #[getter]
            fn offset<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
                self.inner.offset(py)
            }

            /// Stops the stream: every action still under way ends `"stopped"`.
            fn close(&self, py: Python<'_>) -> PyResult<()> {
                py.allow_threads(|| self.inner.close())
            }

            fn __enter__(slf: Py<Self>) -> Py<Self> {
                slf
            }

            fn __exit__(
                &self,
                py: Python<'_>,
                _t: Option<&Bound<'_, PyAny>>,
                _v: Option<&Bound<'_, PyAny>>,
                _tb: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<()> {
                self.close(py)
            }
        }
    };
}

device_class!(
    Mixer,
    Way::Out,
    "An output stream: `Mixer(device=None, samplerate=48000, channels=2, period=256, periods=3, backend=\"alsa\", host=None)`."
);
device_class!(
    Recorder,
    Way::In,
    "An input stream: `Recorder(device=None, samplerate=48000, channels=2, ...)`."
);
device_class!(
    MixerAndRecorder,
    Way::Both,
    "A duplex stream: `MixerAndRecorder(device=None, samplerate=48000, channels=(inputs, outputs), ...)`."
);

/// Registers the device stream classes.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Mixer>()?;
    m.add_class::<Recorder>()?;
    m.add_class::<MixerAndRecorder>()?;
    Ok(())
}
