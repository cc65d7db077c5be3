//! rtmix-cpal as an [`rtmix_backend::Backend`]: [`Cpal`] opens cpal devices and runs
//! engines on them through the same traits as rtmix-alsa's `Alsa`, so that a program
//! generic over the backend changes from one to the other by the one type it names.

use rtmix_backend::DevicePair;

use crate::{
    CpalStream, DuplexDevice, DuplexReport, DuplexStream, Granted, InputDevice, OutputDevice,
    RunReport, FORMATS,
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

// Each method is the inherent function of the same name (`B::play` is `CpalStream::play`).
rtmix_backend::forward_backend!(Cpal {
    name: "cpal",
    formats: &FORMATS,
    output: OutputDevice,
    input: InputDevice,
    duplex: DuplexDevice,
    stream: CpalStream,
    duplex_stream: DuplexStream,
    starts: CpalStream,
});

impl DevicePair for DuplexDevice {
    fn granted_pair(&self) -> (&Granted, &Granted) {
        DuplexDevice::granted(self)
    }

    fn one_clock(&self) -> bool {
        DuplexDevice::shared_clock(self)
    }
}

rtmix_backend::forward_stream!(CpalStream, RunReport);
rtmix_backend::forward_stream!(DuplexStream, DuplexReport);
rtmix_backend::forward_duplex!(DuplexStream);
