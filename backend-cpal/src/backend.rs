//! rtmix-cpal as an [`rtmix_backend::Backend`]: [`Cpal`] opens cpal devices and runs
//! engines on them through the same traits as rtmix-alsa's `Alsa`, so that a program
//! generic over the backend changes from one to the other by the one type it names.

use std::sync::Arc;

use rtmix_backend::{Attached, AttachedDuplex, Backend, Device, DevicePair, Duplex, Stream};
use rtmix_core::{DeviceClock, Engine, Home, InputEngine, OutputEngine, PlaySource, RecordTarget};

use crate::{
    Config, CpalError, CpalStream, DuplexDevice, DuplexReport, DuplexStream, Granted, InputDevice,
    Offset, OutputDevice, RunControl, RunReport, SampleFormat, FORMATS,
};

/// rtmix-cpal behind the shared interface: `B::open_output(&config)` is
/// [`OutputDevice::open`], `B::play` is [`CpalStream::play`], and so on.
///
/// ```no_run
/// use rtmix_cpal::{Backend, Config, Cpal, RunControl, Stream};
/// # let (_ctl, engine) = rtmix_core::open::<Vec<f32>, Vec<f32>>(
/// #     rtmix_core::StreamConfig::output(2), rtmix_core::StreamCapacity::default()).unwrap();
/// # let (output, _) = engine.split();
/// type B = Cpal; // type B = rtmix_alsa::Alsa; is the one line to change
/// let device = B::open_output(&Config::new("default", 48_000, 2))?;
/// let stream = B::play(device, output, RunControl::default())?;
/// let report = stream.stop()?;
/// # Ok::<(), rtmix_cpal::CpalError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cpal;

impl Backend for Cpal {
    const NAME: &'static str = "cpal";
    const FORMATS: &'static [SampleFormat] = &FORMATS;

    type OutputDevice = OutputDevice;
    type InputDevice = InputDevice;
    type DuplexDevice = DuplexDevice;
    type Stream = CpalStream;
    type DuplexStream = DuplexStream;

    fn open_output(config: &Config) -> Result<OutputDevice, CpalError> {
        OutputDevice::open(config)
    }

    fn open_input(config: &Config) -> Result<InputDevice, CpalError> {
        InputDevice::open(config)
    }

    fn open_duplex(output: &Config, input: &Config) -> Result<DuplexDevice, CpalError> {
        DuplexDevice::open(output, input)
    }

    fn play<P, H>(
        device: OutputDevice,
        engine: OutputEngine<P, H>,
        control: RunControl,
    ) -> Result<CpalStream, CpalError>
    where
        P: PlaySource + 'static,
        H: Home + 'static,
        OutputEngine<P, H>: Send,
    {
        CpalStream::play(device, engine, control)
    }

    fn record<R, H>(
        device: InputDevice,
        engine: InputEngine<R, H>,
        control: RunControl,
    ) -> Result<CpalStream, CpalError>
    where
        R: RecordTarget + 'static,
        H: Home + 'static,
        InputEngine<R, H>: Send,
    {
        CpalStream::record(device, engine, control)
    }

    fn play_handing_back<P, H>(
        device: OutputDevice,
        engine: OutputEngine<P, H>,
        control: RunControl,
    ) -> Result<Attached<CpalStream, OutputEngine<P, H>>, CpalError>
    where
        P: PlaySource + 'static,
        H: Home + 'static,
        OutputEngine<P, H>: Send,
    {
        CpalStream::play_handing_back(device, engine, control)
    }

    fn record_handing_back<R, H>(
        device: InputDevice,
        engine: InputEngine<R, H>,
        control: RunControl,
    ) -> Result<Attached<CpalStream, InputEngine<R, H>>, CpalError>
    where
        R: RecordTarget + 'static,
        H: Home + 'static,
        InputEngine<R, H>: Send,
    {
        CpalStream::record_handing_back(device, engine, control)
    }

    fn duplex<P, R, H>(
        device: DuplexDevice,
        engine: Engine<P, R, H>,
        control: RunControl,
    ) -> Result<DuplexStream, CpalError>
    where
        P: PlaySource + 'static,
        R: RecordTarget + 'static,
        H: Home + 'static,
        OutputEngine<P, H>: Send,
        InputEngine<R, H>: Send,
    {
        CpalStream::duplex(device, engine, control)
    }

    fn duplex_handing_back<P, R, H>(
        device: DuplexDevice,
        engine: Engine<P, R, H>,
        control: RunControl,
    ) -> Result<AttachedDuplex<DuplexStream, P, R, H>, CpalError>
    where
        P: PlaySource + 'static,
        R: RecordTarget + 'static,
        H: Home + 'static,
        OutputEngine<P, H>: Send,
        InputEngine<R, H>: Send,
    {
        CpalStream::duplex_handing_back(device, engine, control)
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
        DuplexDevice::shared_clock(self)
    }
}

impl Stream for CpalStream {
    type Report = RunReport;

    fn granted(&self) -> &Granted {
        CpalStream::granted(self)
    }

    fn clock(&self) -> Arc<DeviceClock> {
        CpalStream::clock(self)
    }

    fn is_finished(&self) -> bool {
        CpalStream::is_finished(self)
    }

    fn stop(self) -> Result<RunReport, CpalError> {
        CpalStream::stop(self)
    }

    fn join(self) -> Result<RunReport, CpalError> {
        CpalStream::join(self)
    }
}

impl Stream for DuplexStream {
    type Report = DuplexReport;

    fn granted(&self) -> &Granted {
        DuplexStream::granted(self)
    }

    fn clock(&self) -> Arc<DeviceClock> {
        DuplexStream::clock(self)
    }

    fn is_finished(&self) -> bool {
        DuplexStream::is_finished(self)
    }

    fn stop(self) -> Result<DuplexReport, CpalError> {
        DuplexStream::stop(self)
    }

    fn join(self) -> Result<DuplexReport, CpalError> {
        DuplexStream::join(self)
    }
}

impl Duplex for DuplexStream {
    fn input_granted(&self) -> &Granted {
        DuplexStream::input_granted(self)
    }

    fn input_clock(&self) -> Arc<DeviceClock> {
        DuplexStream::input_clock(self)
    }

    fn offset(&self) -> Option<Offset> {
        DuplexStream::offset(self)
    }
}
