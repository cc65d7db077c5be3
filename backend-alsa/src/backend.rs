//! rtmix-alsa as an [`rtmix_backend::Backend`]: [`Alsa`] opens PCMs and runs engines on
//! them through the same traits as rtmix-cpal's `Cpal`, so that a program generic over
//! the backend changes from one to the other by the one type it names.

use std::sync::Arc;

use rtmix_backend::{Attached, AttachedDuplex, Backend, Device, DevicePair, Duplex, Stream};
use rtmix_core::{DeviceClock, Engine, Home, InputEngine, OutputEngine, PlaySource, RecordTarget};

use crate::{
    AlsaError, AlsaStream, Config, DuplexDevice, DuplexReport, Granted, InputDevice, Offset,
    OutputDevice, RunControl, RunReport, SampleFormat, FORMATS,
};

/// rtmix-alsa behind the shared interface: `B::open_output(&config)` is
/// [`OutputDevice::open`], `B::play` is [`AlsaStream::play`], and so on.
///
/// ```no_run
/// use rtmix_alsa::{Alsa, Backend, Config, RunControl, Stream};
/// # let (_ctl, engine) = rtmix_core::open::<Vec<f32>, Vec<f32>>(
/// #     rtmix_core::StreamConfig::output(2), rtmix_core::StreamCapacity::default()).unwrap();
/// # let (output, _) = engine.split();
/// type B = Alsa; // type B = rtmix_cpal::Cpal; is the one line to change
/// let device = B::open_output(&Config::new("default", 48_000, 2))?;
/// let stream = B::play(device, output, RunControl::default())?;
/// let report = stream.stop()?;
/// # Ok::<(), rtmix_alsa::AlsaError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Alsa;

impl Backend for Alsa {
    const NAME: &'static str = "ALSA";
    const FORMATS: &'static [SampleFormat] = &FORMATS;

    type OutputDevice = OutputDevice;
    type InputDevice = InputDevice;
    type DuplexDevice = DuplexDevice;
    type Stream = AlsaStream;
    type DuplexStream = AlsaStream<DuplexReport>;

    fn open_output(config: &Config) -> Result<OutputDevice, AlsaError> {
        OutputDevice::open(config)
    }

    fn open_input(config: &Config) -> Result<InputDevice, AlsaError> {
        InputDevice::open(config)
    }

    fn open_duplex(output: &Config, input: &Config) -> Result<DuplexDevice, AlsaError> {
        DuplexDevice::open(output, input)
    }

    fn play<P, H>(
        device: OutputDevice,
        engine: OutputEngine<P, H>,
        control: RunControl,
    ) -> Result<AlsaStream, AlsaError>
    where
        P: PlaySource + 'static,
        H: Home + 'static,
        OutputEngine<P, H>: Send,
    {
        AlsaStream::play(device, engine, control)
    }

    fn record<R, H>(
        device: InputDevice,
        engine: InputEngine<R, H>,
        control: RunControl,
    ) -> Result<AlsaStream, AlsaError>
    where
        R: RecordTarget + 'static,
        H: Home + 'static,
        InputEngine<R, H>: Send,
    {
        AlsaStream::record(device, engine, control)
    }

    fn play_handing_back<P, H>(
        device: OutputDevice,
        engine: OutputEngine<P, H>,
        control: RunControl,
    ) -> Result<Attached<AlsaStream, OutputEngine<P, H>>, AlsaError>
    where
        P: PlaySource + 'static,
        H: Home + 'static,
        OutputEngine<P, H>: Send,
    {
        AlsaStream::play_handing_back(device, engine, control)
    }

    fn record_handing_back<R, H>(
        device: InputDevice,
        engine: InputEngine<R, H>,
        control: RunControl,
    ) -> Result<Attached<AlsaStream, InputEngine<R, H>>, AlsaError>
    where
        R: RecordTarget + 'static,
        H: Home + 'static,
        InputEngine<R, H>: Send,
    {
        AlsaStream::record_handing_back(device, engine, control)
    }

    fn duplex<P, R, H>(
        device: DuplexDevice,
        engine: Engine<P, R, H>,
        control: RunControl,
    ) -> Result<AlsaStream<DuplexReport>, AlsaError>
    where
        P: PlaySource + 'static,
        R: RecordTarget + 'static,
        H: Home + 'static,
        OutputEngine<P, H>: Send,
        InputEngine<R, H>: Send,
    {
        AlsaStream::duplex(device, engine, control)
    }

    fn duplex_handing_back<P, R, H>(
        device: DuplexDevice,
        engine: Engine<P, R, H>,
        control: RunControl,
    ) -> Result<AttachedDuplex<AlsaStream<DuplexReport>, P, R, H>, AlsaError>
    where
        P: PlaySource + 'static,
        R: RecordTarget + 'static,
        H: Home + 'static,
        OutputEngine<P, H>: Send,
        InputEngine<R, H>: Send,
    {
        AlsaStream::duplex_handing_back(device, engine, control)
    }
}

impl Device for OutputDevice {
    fn granted(&self) -> &Granted {
        OutputDevice::granted(self)
    }
}

impl Device for InputDevice {
    fn granted(&self) -> &Granted {
        InputDevice::granted(self)
    }
}

impl Device for DuplexDevice {
    fn granted(&self) -> &Granted {
        DuplexDevice::granted(self).0
    }
}

impl DevicePair for DuplexDevice {
    fn granted_pair(&self) -> (&Granted, &Granted) {
        DuplexDevice::granted(self)
    }

    fn one_clock(&self) -> bool {
        DuplexDevice::linked(self)
    }
}

impl<Report: Send + 'static> Stream for AlsaStream<Report> {
    type Report = Report;

    fn granted(&self) -> &Granted {
        AlsaStream::granted(self)
    }

    fn clock(&self) -> Arc<DeviceClock> {
        AlsaStream::clock(self)
    }

    fn is_finished(&self) -> bool {
        AlsaStream::is_finished(self)
    }

    fn stop(self) -> Result<Report, AlsaError> {
        AlsaStream::stop(self)
    }

    fn join(self) -> Result<Report, AlsaError> {
        AlsaStream::join(self)
    }
}

impl Duplex for AlsaStream<DuplexReport> {
    fn input_granted(&self) -> &Granted {
        AlsaStream::input_granted(self)
    }

    fn input_clock(&self) -> Arc<DeviceClock> {
        AlsaStream::input_clock(self)
    }

    fn offset(&self) -> Option<Offset> {
        AlsaStream::offset(self)
    }
}

/// `Report` is what the trait's `Stream` says; `RunReport` for one direction.
const _: fn() = || {
    fn one_direction<S: Stream<Report = RunReport>>() {}
    one_direction::<AlsaStream>();
};
