//! rtmix-alsa as an [`rtmix_backend::Backend`]: [`Alsa`] opens PCMs and runs engines on
//! them through the same traits as rtmix-cpal's `Cpal`, so that a program generic over
//! the backend changes from one to the other by the one type it names.

use rtmix_backend::{DevicePair, Stream};

use crate::{
    AlsaStream, DuplexDevice, DuplexReport, Granted, InputDevice, OutputDevice, RunReport, FORMATS,
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

// Each method is the inherent function of the same name (`B::play` is `AlsaStream::play`).
rtmix_backend::forward_backend!(Alsa {
    name: "ALSA",
    formats: &FORMATS,
    output: OutputDevice,
    input: InputDevice,
    duplex: DuplexDevice,
    stream: AlsaStream,
    duplex_stream: AlsaStream<DuplexReport>,
    starts: AlsaStream,
});

impl DevicePair for DuplexDevice {
    fn granted_pair(&self) -> (&Granted, &Granted) {
        DuplexDevice::granted(self)
    }

    fn one_clock(&self) -> bool {
        DuplexDevice::linked(self)
    }
}

rtmix_backend::forward_stream!(AlsaStream<Report>);
rtmix_backend::forward_duplex!(AlsaStream<DuplexReport>);

/// `Report` is what the trait's `Stream` says; `RunReport` for one direction.
const _: fn() = || {
    fn one_direction<S: Stream<Report = RunReport>>() {}
    one_direction::<AlsaStream>();
};
