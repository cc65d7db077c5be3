//! The traits both backends implement, one per concept as cpal's are: a [`Backend`]
//! opens devices and starts streams on them, a [`Device`] says what it granted before
//! it runs, a [`Stream`] runs and ends. Associated types let each backend keep its own
//! concrete types behind the same shape, so a program changes backend by changing the
//! one type it names (`rtmix_alsa::Alsa` or `rtmix_cpal::Cpal`).

use std::sync::Arc;

use rtmix_core::{DeviceClock, Engine, Home, InputEngine, OutputEngine, PlaySource, RecordTarget};

use crate::{
    Config, DuplexHandback, DuplexReport, Error, Granted, Handback, Offset, RunControl, RunReport,
    SampleFormat,
};

/// A running stream `S` and the hand-back of its engine `E`
/// ([`Backend::play_handing_back`], [`Backend::record_handing_back`]).
pub type Attached<S, E> = (S, Handback<E>);

/// A running duplex stream `S` and the hand-back of its whole engine
/// ([`Backend::duplex_handing_back`]).
pub type AttachedDuplex<S, P, R, H> = (S, DuplexHandback<P, R, H>);

/// A device opened for one direction (or a duplex pair), configured, not yet running.
pub trait Device {
    /// What the device granted (the output's, for a duplex pair).
    fn granted(&self) -> &Granted;
}

/// A running stream: an engine half (or a whole engine, for duplex) driven by a device.
///
/// Every action handed to the engine completes, whatever ends the stream: a `stop`, a
/// `stop_after`, a device that went away, an audio thread that panicked; each backend's
/// docs cite the tests that prove it.
pub trait Stream {
    /// What the stream says when it ends ([`RunReport`], or [`DuplexReport`]).
    type Report;

    /// What the device granted (the output's, for duplex), as the running stream reports
    /// it.
    fn granted(&self) -> &Granted;

    /// The stream's clock (the output's, for duplex): engine frames at the converter
    /// against `Instant`s.
    fn clock(&self) -> Arc<DeviceClock>;

    /// Whether the stream has ended by itself (`stop_after`, or a fatal error).
    fn is_finished(&self) -> bool;

    /// Stops the stream and waits for it. Everything still scheduled completes with
    /// `EndReason::StreamStopped`. An error that ended the stream before (a device that
    /// is gone: [`Error::is_device_gone`]) is returned instead of the report.
    fn stop(self) -> Result<Self::Report, Error>;

    /// Waits for the stream to end by itself (`stop_after`, or an error).
    fn join(self) -> Result<Self::Report, Error>;
}

/// A running duplex stream: the output half of an engine and its input half, each on
/// its own frame clock, with the offset between the two.
pub trait Duplex: Stream<Report = DuplexReport> {
    /// What the input device granted.
    fn input_granted(&self) -> &Granted;

    /// The input's clock.
    fn input_clock(&self) -> Arc<DeviceClock>;

    /// The offset between the input and output frame clocks, [`Exact`](crate::OffsetKind::Exact)
    /// only when both run on one clock; `None` until both directions have run.
    fn offset(&self) -> Option<Offset>;
}

/// A device backend: opens devices by [`Config`] and runs engines on them.
///
/// Write the program once, generic over `B: Backend`, and choose the backend with one
/// type:
///
/// ```
/// use rtmix_backend::{Backend, Config, Error, RunControl, RunReport, Stream};
/// use rtmix_core::{StreamCapacity, StreamConfig};
///
/// /// Plays nothing for `frames` frames on `device`, whichever backend `B` is.
/// fn silence<B: Backend>(device: &str, frames: u64) -> Result<RunReport, Error> {
///     let (_ctl, engine) = rtmix_core::open::<Vec<f32>, Vec<f32>>(
///         StreamConfig::output(2),
///         StreamCapacity::default(),
///     )
///     .unwrap();
///     let (output, _) = engine.split();
///     let device = B::open_output(&Config::new(device, 48_000, 2).period(256))?;
///     let control = RunControl { stop_after: Some(frames), ..RunControl::default() };
///     B::play(device, output, control)?.join()
/// }
/// # let _ = silence::<NoBackend>;
/// # // A backend that opens nothing, so that the example compiles here; the real ones
/// # // are rtmix_alsa::Alsa and rtmix_cpal::Cpal.
/// # struct NoBackend;
/// # struct Nothing(rtmix_backend::Granted);
/// # impl rtmix_backend::Device for Nothing { fn granted(&self) -> &rtmix_backend::Granted { &self.0 } }
/// # impl Stream for Nothing {
/// #     type Report = RunReport;
/// #     fn granted(&self) -> &rtmix_backend::Granted { &self.0 }
/// #     fn clock(&self) -> std::sync::Arc<rtmix_core::DeviceClock> { unimplemented!() }
/// #     fn is_finished(&self) -> bool { true }
/// #     fn stop(self) -> Result<RunReport, Error> { Ok(RunReport::default()) }
/// #     fn join(self) -> Result<RunReport, Error> { Ok(RunReport::default()) }
/// # }
/// # struct NoDuplex(Nothing);
/// # impl rtmix_backend::Device for NoDuplex { fn granted(&self) -> &rtmix_backend::Granted { &self.0 .0 } }
/// # impl rtmix_backend::DevicePair for NoDuplex { fn granted_pair(&self) -> (&rtmix_backend::Granted, &rtmix_backend::Granted) { (&self.0 .0, &self.0 .0) } fn one_clock(&self) -> bool { false } }
/// # impl Stream for NoDuplex {
/// #     type Report = rtmix_backend::DuplexReport;
/// #     fn granted(&self) -> &rtmix_backend::Granted { &self.0 .0 }
/// #     fn clock(&self) -> std::sync::Arc<rtmix_core::DeviceClock> { unimplemented!() }
/// #     fn is_finished(&self) -> bool { true }
/// #     fn stop(self) -> Result<Self::Report, Error> { Ok(Default::default()) }
/// #     fn join(self) -> Result<Self::Report, Error> { Ok(Default::default()) }
/// # }
/// # impl rtmix_backend::Duplex for NoDuplex {
/// #     fn input_granted(&self) -> &rtmix_backend::Granted { &self.0 .0 }
/// #     fn input_clock(&self) -> std::sync::Arc<rtmix_core::DeviceClock> { unimplemented!() }
/// #     fn offset(&self) -> Option<rtmix_backend::Offset> { None }
/// # }
/// # fn refuse<T>() -> Result<T, Error> { Err(Error::NoSuchHost { host: "none".into(), available: vec![] }) }
/// # impl Backend for NoBackend {
/// #     const NAME: &'static str = "none";
/// #     const FORMATS: &'static [rtmix_backend::SampleFormat] = &[];
/// #     type OutputDevice = Nothing;
/// #     type InputDevice = Nothing;
/// #     type DuplexDevice = NoDuplex;
/// #     type Stream = Nothing;
/// #     type DuplexStream = NoDuplex;
/// #     fn open_output(_: &Config) -> Result<Nothing, Error> { refuse() }
/// #     fn open_input(_: &Config) -> Result<Nothing, Error> { refuse() }
/// #     fn open_duplex(_: &Config, _: &Config) -> Result<NoDuplex, Error> { refuse() }
/// #     fn play<P, H>(_: Nothing, _: rtmix_core::OutputEngine<P, H>, _: RunControl) -> Result<Nothing, Error>
/// #     where P: rtmix_core::PlaySource + 'static, H: rtmix_core::Home + 'static, rtmix_core::OutputEngine<P, H>: Send { refuse() }
/// #     fn record<R, H>(_: Nothing, _: rtmix_core::InputEngine<R, H>, _: RunControl) -> Result<Nothing, Error>
/// #     where R: rtmix_core::RecordTarget + 'static, H: rtmix_core::Home + 'static, rtmix_core::InputEngine<R, H>: Send { refuse() }
/// #     fn play_handing_back<P, H>(_: Nothing, _: rtmix_core::OutputEngine<P, H>, _: RunControl) -> Result<rtmix_backend::Attached<Nothing, rtmix_core::OutputEngine<P, H>>, Error>
/// #     where P: rtmix_core::PlaySource + 'static, H: rtmix_core::Home + 'static, rtmix_core::OutputEngine<P, H>: Send { refuse() }
/// #     fn record_handing_back<R, H>(_: Nothing, _: rtmix_core::InputEngine<R, H>, _: RunControl) -> Result<rtmix_backend::Attached<Nothing, rtmix_core::InputEngine<R, H>>, Error>
/// #     where R: rtmix_core::RecordTarget + 'static, H: rtmix_core::Home + 'static, rtmix_core::InputEngine<R, H>: Send { refuse() }
/// #     fn duplex<P, R, H>(_: NoDuplex, _: rtmix_core::Engine<P, R, H>, _: RunControl) -> Result<NoDuplex, Error>
/// #     where P: rtmix_core::PlaySource + 'static, R: rtmix_core::RecordTarget + 'static, H: rtmix_core::Home + 'static,
/// #     rtmix_core::OutputEngine<P, H>: Send, rtmix_core::InputEngine<R, H>: Send { refuse() }
/// #     fn duplex_handing_back<P, R, H>(_: NoDuplex, _: rtmix_core::Engine<P, R, H>, _: RunControl) -> Result<rtmix_backend::AttachedDuplex<NoDuplex, P, R, H>, Error>
/// #     where P: rtmix_core::PlaySource + 'static, R: rtmix_core::RecordTarget + 'static, H: rtmix_core::Home + 'static,
/// #     rtmix_core::OutputEngine<P, H>: Send, rtmix_core::InputEngine<R, H>: Send { refuse() }
/// # }
/// assert!(silence::<NoBackend>("default", 48_000).is_err());
/// ```
pub trait Backend {
    /// The backend's name in messages (`"ALSA"`, `"cpal"`).
    const NAME: &'static str;
    /// The sample formats it speaks, in its order of preference: what
    /// [`Config::format`] `None` tries.
    const FORMATS: &'static [SampleFormat];

    /// A device opened for playback.
    type OutputDevice: Device;
    /// A device opened for capture.
    type InputDevice: Device;
    /// A playback and a capture device opened to run as one duplex stream.
    type DuplexDevice: DevicePair;
    /// A running stream of one direction.
    type Stream: Stream<Report = RunReport>;
    /// A running duplex stream.
    type DuplexStream: Duplex;

    /// Opens `config.device` for playback and negotiates the configuration.
    ///
    /// Errors: [`Error::NoSuchHost`], [`Error::NoSuchDevice`] or [`Error::Open`] (kinds
    /// `NotFound`, `Busy`, `PermissionDenied`, `Other`), [`Error::Unsupported`], and
    /// [`Error::Build`] where the host refuses.
    fn open_output(config: &Config) -> Result<Self::OutputDevice, Error>;

    /// Opens `config.device` for capture, as [`open_output`](Self::open_output) does.
    fn open_input(config: &Config) -> Result<Self::InputDevice, Error>;

    /// Opens `output` for playback and `input` for capture, to run as one duplex stream.
    /// Both must run at one rate ([`Error::Unsupported`] `"rate"` otherwise).
    fn open_duplex(output: &Config, input: &Config) -> Result<Self::DuplexDevice, Error>;

    /// Runs `engine` on `device`.
    ///
    /// Errors: [`Error::ChannelMismatch`] when the engine's channel count is not the
    /// device's; [`Error::Spawn`] or [`Error::Build`] when it cannot start. Either way
    /// everything the engine held has completed with `StreamStopped` by the time this
    /// returns.
    fn play<P, H>(
        device: Self::OutputDevice,
        engine: OutputEngine<P, H>,
        control: RunControl,
    ) -> Result<Self::Stream, Error>
    where
        P: PlaySource + 'static,
        H: Home + 'static,
        OutputEngine<P, H>: Send;

    /// Runs `engine` (capture) on `device`, as [`play`](Self::play) does.
    fn record<R, H>(
        device: Self::InputDevice,
        engine: InputEngine<R, H>,
        control: RunControl,
    ) -> Result<Self::Stream, Error>
    where
        R: RecordTarget + 'static,
        H: Home + 'static,
        InputEngine<R, H>: Send;

    /// [`play`](Self::play), handing the engine back when the stream ends instead of
    /// ending what it holds: whatever ends it (a stop, `stop_after`, a device that is
    /// gone), [`Handback::detached`] then has the engine with every action still in it,
    /// to attach to a device again ([`Detached::resume`](crate::Detached::resume)). Only
    /// an audio side that panics, or a stream that cannot start, ends what it holds as
    /// [`play`](Self::play) does.
    fn play_handing_back<P, H>(
        device: Self::OutputDevice,
        engine: OutputEngine<P, H>,
        control: RunControl,
    ) -> Result<Attached<Self::Stream, OutputEngine<P, H>>, Error>
    where
        P: PlaySource + 'static,
        H: Home + 'static,
        OutputEngine<P, H>: Send;

    /// [`record`](Self::record), handing the engine back when the stream ends, as
    /// [`play_handing_back`](Self::play_handing_back) does.
    fn record_handing_back<R, H>(
        device: Self::InputDevice,
        engine: InputEngine<R, H>,
        control: RunControl,
    ) -> Result<Attached<Self::Stream, InputEngine<R, H>>, Error>
    where
        R: RecordTarget + 'static,
        H: Home + 'static,
        InputEngine<R, H>: Send;

    /// Runs a whole `engine` on a duplex `device`; `control.stop_after` counts output
    /// frames. Errors as [`play`](Self::play).
    fn duplex<P, R, H>(
        device: Self::DuplexDevice,
        engine: Engine<P, R, H>,
        control: RunControl,
    ) -> Result<Self::DuplexStream, Error>
    where
        P: PlaySource + 'static,
        R: RecordTarget + 'static,
        H: Home + 'static,
        OutputEngine<P, H>: Send,
        InputEngine<R, H>: Send;

    /// [`duplex`](Self::duplex), handing the whole engine back when the stream ends, as
    /// [`play_handing_back`](Self::play_handing_back) does for one direction: whatever
    /// ends it (a stop, `stop_after`, a device that is gone),
    /// [`DuplexHandback::detached`] then has both halves with every action still in them,
    /// each with the instant its next frame was due on its own clock;
    /// [`DetachedDuplex::resume`](crate::DetachedDuplex::resume) moves both clocks over
    /// the frames lost before the engine is attached again. Only an audio side that
    /// panics, or a stream that cannot start, ends what the engine holds (both halves)
    /// as [`duplex`](Self::duplex) does.
    fn duplex_handing_back<P, R, H>(
        device: Self::DuplexDevice,
        engine: Engine<P, R, H>,
        control: RunControl,
    ) -> Result<AttachedDuplex<Self::DuplexStream, P, R, H>, Error>
    where
        P: PlaySource + 'static,
        R: RecordTarget + 'static,
        H: Home + 'static,
        OutputEngine<P, H>: Send,
        InputEngine<R, H>: Send;
}

/// A playback and a capture device opened as a pair.
pub trait DevicePair: Device {
    /// What the devices granted: `(output, input)`.
    fn granted_pair(&self) -> (&Granted, &Granted);

    /// Whether both directions run on one clock, so that the running stream's offset
    /// will be [`Exact`](crate::OffsetKind::Exact): a contract, like cpal's
    /// `supports_duplex`, and false wherever it cannot be shown (rtmix-alsa: PCMs linked
    /// on one card; rtmix-cpal: the JACK host).
    fn one_clock(&self) -> bool;
}
