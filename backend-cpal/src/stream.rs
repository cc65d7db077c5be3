//! Running engines in cpal streams, supervised from a thread of the control side.

use std::sync::atomic::Ordering;
use std::sync::mpsc::SyncSender;
use std::sync::Arc;

use cpal::traits::{DeviceTrait, StreamTrait};
use rtmix_core::{DeviceClock, Engine, Home, InputEngine, OutputEngine, PlaySource, RecordTarget};

use crate::callback::Peer;
use crate::callback::{Callback, CallbackEngine, InputCallback, OutputCallback};
use crate::config::to_cpal;
use crate::device::Opened;
use crate::error_callback::ErrorCallback;
use crate::offset::{measure, CycleOffset};
use crate::shared::Side;
use crate::supervise::{Supervised, Watched};
use crate::{
    CpalError, DuplexDevice, DuplexReport, Granted, InputDevice, Offset, OffsetKind, OutputDevice,
    RunControl, RunReport,
};
use rtmix_backend::{Attachable, Detached, DuplexHandback, Handback};

/// Where a duplex stream's callbacks send the halves of its engine when they are dropped:
/// `(output, input)`.
type HalvesBack<P, R, H> = (
    std::sync::mpsc::SyncSender<OutputEngine<P, H>>,
    std::sync::mpsc::SyncSender<InputEngine<R, H>>,
);

/// An engine half running in a cpal stream. Same shape as rtmix-alsa's `AlsaStream`:
/// switching backends changes the device line.
///
/// ```no_run
/// use rtmix_cpal::{Config, CpalStream, OutputDevice, RunControl};
/// use rtmix_core::{StreamCapacity, StreamConfig};
/// let (mut ctl, engine) =
///     rtmix_core::open::<Vec<f32>, Vec<f32>>(StreamConfig::output(2), StreamCapacity::default())
///         .unwrap();
/// let (output, _input) = engine.split();
/// let device = OutputDevice::open(&Config::new("default", 48_000, 2)).unwrap();
/// let stream = CpalStream::play(device, output, RunControl::default()).unwrap();
/// // ... schedule plays with `ctl`; `stream.clock().now()` is the frame at the DAC ...
/// let report = stream.stop().unwrap();
/// ```
#[derive(Debug)]
pub struct CpalStream {
    granted: Granted,
    clock: Arc<DeviceClock>,
    run: Supervised,
}

/// A duplex engine running in two cpal streams (an output and an input), with the offset
/// between their frame clocks.
#[derive(Debug)]
pub struct DuplexStream {
    granted: (Granted, Granted),
    clocks: [Arc<DeviceClock>; 2],
    first: [Arc<DeviceClock>; 2],
    kind: OffsetKind,
    cycle: Arc<CycleOffset>,
    run: Supervised,
}

impl CpalStream {
    /// Runs `engine` in a cpal output stream on `device`.
    #[allow(clippy::needless_pass_by_value)] // the device is used up, as in rtmix-alsa
    pub fn play<P, H>(
        device: OutputDevice,
        engine: OutputEngine<P, H>,
        control: RunControl,
    ) -> Result<Self, CpalError>
    where
        P: PlaySource + 'static,
        H: Home + 'static,
        OutputEngine<P, H>: Send,
    {
        Self::play_with(device, engine, control, None)
    }

    /// [`play`](Self::play), handing the engine back when the stream ends instead of
    /// ending what it holds: whatever ends it (a stop, `stop_after`, a device that is
    /// gone), [`Handback::detached`] then has the engine, every action still in it, to
    /// attach to a device again ([`Detached::resume`](rtmix_backend::Detached::resume)).
    #[allow(clippy::needless_pass_by_value)] // the device is used up, as in rtmix-alsa
    pub fn play_handing_back<P, H>(
        device: OutputDevice,
        engine: OutputEngine<P, H>,
        control: RunControl,
    ) -> Result<(Self, Handback<OutputEngine<P, H>>), CpalError>
    where
        P: PlaySource + 'static,
        H: Home + 'static,
        OutputEngine<P, H>: Send,
    {
        Self::handing_back(|back| Self::play_with(device, engine, control, Some(back)))
    }

    #[allow(clippy::needless_pass_by_value)] // the device is used up, as in rtmix-alsa
    fn play_with<P, H>(
        device: OutputDevice,
        engine: OutputEngine<P, H>,
        control: RunControl,
        handback: Option<std::sync::mpsc::SyncSender<OutputEngine<P, H>>>,
    ) -> Result<Self, CpalError>
    where
        P: PlaySource + 'static,
        H: Home + 'static,
        OutputEngine<P, H>: Send,
    {
        let channels = engine.channels();
        let callback = callback_on(&device.opened, engine, &control, handback);
        let clock = callback.clock();
        Self::start(&device.opened, channels, clock, control, |opened| {
            build_output(opened, callback)
        })
    }

    /// Runs `engine` in a cpal input stream on `device`.
    #[allow(clippy::needless_pass_by_value)] // the device is used up, as in rtmix-alsa
    pub fn record<R, H>(
        device: InputDevice,
        engine: InputEngine<R, H>,
        control: RunControl,
    ) -> Result<Self, CpalError>
    where
        R: RecordTarget + 'static,
        H: Home + 'static,
        InputEngine<R, H>: Send,
    {
        Self::record_with(device, engine, control, None)
    }

    /// [`record`](Self::record), handing the engine back when the stream ends instead of
    /// ending what it holds: whatever ends it (a stop, `stop_after`, a device that is
    /// gone), [`Handback::detached`] then has the engine, every action still in it, to
    /// attach to a device again ([`Detached::resume`](rtmix_backend::Detached::resume)).
    #[allow(clippy::needless_pass_by_value)] // the device is used up, as in rtmix-alsa
    pub fn record_handing_back<R, H>(
        device: InputDevice,
        engine: InputEngine<R, H>,
        control: RunControl,
    ) -> Result<(Self, Handback<InputEngine<R, H>>), CpalError>
    where
        R: RecordTarget + 'static,
        H: Home + 'static,
        InputEngine<R, H>: Send,
    {
        Self::handing_back(|back| Self::record_with(device, engine, control, Some(back)))
    }

    #[allow(clippy::needless_pass_by_value)] // the device is used up, as in rtmix-alsa
    fn record_with<R, H>(
        device: InputDevice,
        engine: InputEngine<R, H>,
        control: RunControl,
        handback: Option<std::sync::mpsc::SyncSender<InputEngine<R, H>>>,
    ) -> Result<Self, CpalError>
    where
        R: RecordTarget + 'static,
        H: Home + 'static,
        InputEngine<R, H>: Send,
    {
        let channels = engine.channels();
        let callback = callback_on(&device.opened, engine, &control, handback);
        let clock = callback.clock();
        Self::start(&device.opened, channels, clock, control, |opened| {
            build_input(opened, callback)
        })
    }

    /// Starts a stream with a hand-back: `start` is given where its callback sends the
    /// engine when dropped.
    fn handing_back<E: Attachable>(
        start: impl FnOnce(SyncSender<E>) -> Result<Self, CpalError>,
    ) -> Result<(Self, Handback<E>), CpalError> {
        let (back, handback) = std::sync::mpsc::sync_channel(1);
        match start(back) {
            Ok(stream) => {
                let handback = Handback::new(handback, stream.clock(), stream.granted.rate);
                Ok((stream, handback))
            }
            Err(e) => {
                // The callback, dropped on the way out, handed the engine back here:
                // nobody will attach it, so what it holds ends.
                if let Ok(engine) = handback.try_recv() {
                    drop(Detached::new(engine, None, 0));
                }
                Err(e)
            }
        }
    }

    /// What play and record share once their callback is made (held by `build`, with
    /// `clock` its clock): the channel check, the cpal stream that `build` builds and
    /// starts, and its supervisor.
    fn start(
        opened: &Opened,
        channels: u16,
        clock: Arc<DeviceClock>,
        control: RunControl,
        build: impl FnOnce(&Opened) -> Result<Built, CpalError>,
    ) -> Result<Self, CpalError> {
        // On a mismatch `build`, and with it the callback and the engine's actions, is
        // dropped here.
        check_channels(channels, &opened.granted)?;
        let (stream, side, errors) = build(opened)?;
        let granted = granted(opened, &stream);
        let watched = watched(side, errors, &granted, &control);
        let run = Supervised::spawn(vec![stream], vec![watched], control)?;
        Ok(Self {
            granted,
            clock,
            run,
        })
    }

    /// Runs a duplex `engine`: its output half in a cpal output stream, its input half in
    /// a cpal input stream (cpal has no duplex stream). `control.stop_after` counts output
    /// frames. The offset between the two frame clocks is measured as they run
    /// ([`DuplexStream::offset`]).
    pub fn duplex<P, R, H>(
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
        Self::duplex_with(device, engine, control, None)
    }

    /// [`duplex`](Self::duplex), handing the whole engine back when the streams end
    /// instead of ending what it holds: whatever ends them (a stop, `stop_after`, a
    /// device that is gone), [`DuplexHandback::detached`] then has both halves, every
    /// action still in them, each with the instant its next frame was due on its own
    /// clock, to attach to a duplex device again
    /// ([`DetachedDuplex::resume`](rtmix_backend::DetachedDuplex::resume)). Each half
    /// comes back when cpal drops its callback; if either does not, the other ends what
    /// it holds too.
    pub fn duplex_handing_back<P, R, H>(
        device: DuplexDevice,
        engine: Engine<P, R, H>,
        control: RunControl,
    ) -> Result<(DuplexStream, DuplexHandback<P, R, H>), CpalError>
    where
        P: PlaySource + 'static,
        R: RecordTarget + 'static,
        H: Home + 'static,
        OutputEngine<P, H>: Send,
        InputEngine<R, H>: Send,
    {
        let (out_back, out_handback) = std::sync::mpsc::sync_channel(1);
        let (in_back, in_handback) = std::sync::mpsc::sync_channel(1);
        match Self::duplex_with(device, engine, control, Some((out_back, in_back))) {
            Ok(stream) => {
                let handback = DuplexHandback::new(
                    Handback::new(
                        out_handback,
                        stream.clocks[0].clone(),
                        stream.granted.0.rate,
                    ),
                    Handback::new(in_handback, stream.clocks[1].clone(), stream.granted.1.rate),
                );
                Ok((stream, handback))
            }
            Err(e) => {
                // The callbacks, dropped on the way out, handed the halves back here:
                // nobody will attach them, so what they hold ends.
                if let Ok(engine) = out_handback.try_recv() {
                    drop(Detached::new(engine, None, 0));
                }
                if let Ok(engine) = in_handback.try_recv() {
                    drop(Detached::new(engine, None, 0));
                }
                Err(e)
            }
        }
    }

    #[allow(clippy::needless_pass_by_value)] // the device is used up, as in rtmix-alsa
    fn duplex_with<P, R, H>(
        device: DuplexDevice,
        engine: Engine<P, R, H>,
        control: RunControl,
        back: Option<HalvesBack<P, R, H>>,
    ) -> Result<DuplexStream, CpalError>
    where
        P: PlaySource + 'static,
        R: RecordTarget + 'static,
        H: Home + 'static,
        OutputEngine<P, H>: Send,
        InputEngine<R, H>: Send,
    {
        let shared = device.shared_clock();
        let channels = (engine.output.channels(), engine.input.channels());
        let (output, input) = engine.split();
        let in_control = RunControl {
            stop_after: None,
            ..control.clone()
        };
        let (out_back, in_back) = back.unzip();
        let mut out_cb = callback_on(&device.output.opened, output, &control, out_back);
        let mut in_cb = callback_on(&device.input.opened, input, &in_control, in_back);
        let clocks = [out_cb.clock(), in_cb.clock()];
        let cycle = Arc::new(CycleOffset::default());
        if shared {
            out_cb.set_peer(Peer {
                stamp: in_cb.stamp(),
                offset: cycle.clone(),
            });
            in_cb.set_peer(Peer {
                stamp: out_cb.stamp(),
                offset: cycle.clone(),
            });
        }
        let first = [out_cb.first_clock(), in_cb.first_clock()];
        // On a mismatch the callbacks are dropped here, and with them the engine's actions.
        check_channels(channels.0, &device.output.opened.granted)?;
        check_channels(channels.1, &device.input.opened.granted)?;
        // Input first, so that its callbacks are running when the output starts.
        let (in_stream, in_side, in_errors) = build_input(&device.input.opened, in_cb)?;
        let (out_stream, out_side, out_errors) = build_output(&device.output.opened, out_cb)?;
        let granted = (
            granted(&device.output.opened, &out_stream),
            granted(&device.input.opened, &in_stream),
        );
        let sides = vec![
            watched(out_side, out_errors, &granted.0, &control),
            watched(in_side, in_errors, &granted.1, &control),
        ];
        let run = Supervised::spawn(vec![out_stream, in_stream], sides, control)?;
        Ok(DuplexStream {
            granted,
            clocks,
            first,
            cycle,
            kind: if shared {
                OffsetKind::Exact
            } else {
                OffsetKind::Estimate
            },
            run,
        })
    }

    /// What the host and device granted (the period as the running stream reports it).
    pub fn granted(&self) -> &Granted {
        &self.granted
    }

    /// The stream's clock: engine frames at the converter against `Instant`s, anchored
    /// by every callback from cpal's timestamps (`now()`, `instant_of()`, `latency()`).
    pub fn clock(&self) -> Arc<DeviceClock> {
        self.clock.clone()
    }

    /// The fatal error that ended the stream, if one did (the device disappeared, say).
    pub fn error(&self) -> Option<CpalError> {
        self.run.error()
    }

    /// Whether the stream has ended by itself (`stop_after`, or a fatal error).
    pub fn is_finished(&self) -> bool {
        self.run.is_finished()
    }

    /// Stops the stream and waits for it. Everything still scheduled completes with
    /// `EndReason::StreamStopped`. A fatal error during the run is returned instead of
    /// the report.
    pub fn stop(self) -> Result<RunReport, CpalError> {
        self.run.control.stop.store(true, Ordering::Release);
        self.join()
    }

    /// Waits for the stream to end by itself (`RunControl::stop_after`, or a fatal error).
    pub fn join(self) -> Result<RunReport, CpalError> {
        let mut reports = self.run.join()?;
        Ok(reports.remove(0))
    }
}

impl DuplexStream {
    /// What the output device granted (the period as the running stream reports it).
    pub fn granted(&self) -> &Granted {
        &self.granted.0
    }

    /// What the input device granted.
    pub fn input_granted(&self) -> &Granted {
        &self.granted.1
    }

    /// The output clock (engine output frames at the DAC).
    pub fn clock(&self) -> Arc<DeviceClock> {
        self.clocks[0].clone()
    }

    /// The input clock (engine input frames at the ADC).
    pub fn input_clock(&self) -> Arc<DeviceClock> {
        self.clocks[1].clone()
    }

    /// The offset between the input and output frame clocks, exact or an estimate, with
    /// the drift between them once it can be seen; `None` until both have run.
    pub fn offset(&self) -> Option<Offset> {
        measure(
            &self.clocks[0],
            &self.clocks[1],
            &self.first[0],
            &self.first[1],
            self.kind,
            &self.cycle,
        )
    }

    /// The fatal error that ended the stream, if one did.
    pub fn error(&self) -> Option<CpalError> {
        self.run.error()
    }

    /// Whether the stream has ended by itself.
    pub fn is_finished(&self) -> bool {
        self.run.is_finished()
    }

    /// Stops both streams and waits for them; everything still scheduled completes with
    /// `EndReason::StreamStopped`.
    pub fn stop(self) -> Result<DuplexReport, CpalError> {
        self.run.control.stop.store(true, Ordering::Release);
        self.join()
    }

    /// Waits for the stream to end by itself (`stop_after` output frames, or an error).
    pub fn join(self) -> Result<DuplexReport, CpalError> {
        let (clocks, first, kind, cycle) = (self.clocks, self.first, self.kind, self.cycle);
        let mut reports = self.run.join()?;
        // The anchors outlive the streams: the offset over the whole run.
        let offset = measure(&clocks[0], &clocks[1], &first[0], &first[1], kind, &cycle);
        let input = reports.pop().unwrap_or_default();
        let output = reports.pop().unwrap_or_default();
        Ok(DuplexReport {
            output,
            input,
            offset,
        })
    }
}

/// [`CpalError::ChannelMismatch`] unless an engine half of `engine` channels fits the
/// device.
fn check_channels(engine: u16, granted: &Granted) -> Result<(), CpalError> {
    if engine == granted.channels {
        Ok(())
    } else {
        Err(CpalError::ChannelMismatch {
            engine,
            device: granted.channels,
        })
    }
}

/// A cpal stream built and started, with its side and the errors its error callback
/// passes on.
type Built = (cpal::Stream, Arc<Side>, rtrb::Consumer<cpal::Error>);

/// The callback of one direction on `opened` (a stream's, or a duplex's half): its rate and
/// time source, its hand-back, and the host's way of counting lost frames.
fn callback_on<E: CallbackEngine>(
    opened: &Opened,
    engine: E,
    control: &RunControl,
    handback: Option<SyncSender<E>>,
) -> Callback<E> {
    let mut callback = Callback::new(engine, opened.config.sample_rate, control.clone())
        .with_time_source(opened.granted.time_source);
    if let Some(back) = handback {
        callback = callback.with_handback(back);
    }
    if whole_buffers(opened.host) {
        callback = callback.losing_whole_buffers();
    }
    callback
}

/// Builds and starts an output stream around `callback`.
fn build_output<P, H>(
    opened: &Opened,
    mut callback: OutputCallback<P, H>,
) -> Result<Built, CpalError>
where
    P: PlaySource + 'static,
    H: Home + 'static,
    OutputEngine<P, H>: Send,
{
    let (side, audit) = (callback.side(), callback.audit());
    build(opened, side, audit, |format, mut on_error| {
        opened.device.build_output_stream_raw(
            opened.config,
            format,
            move |data, info| callback.on_data(data, info),
            move |e| on_error.on_error(e),
            None,
        )
    })
}

/// Builds and starts an input stream around `callback`.
fn build_input<R, H>(opened: &Opened, mut callback: InputCallback<R, H>) -> Result<Built, CpalError>
where
    R: RecordTarget + 'static,
    H: Home + 'static,
    InputEngine<R, H>: Send,
{
    let (side, audit) = (callback.side(), callback.audit());
    build(opened, side, audit, |format, mut on_error| {
        opened.device.build_input_stream_raw(
            opened.config,
            format,
            move |data, info| callback.on_data(data, info),
            move |e| on_error.on_error(e),
            None,
        )
    })
}

/// What both directions share in building a stream: the error callback of `side`, the
/// sample format in cpal's terms, the stream `raw` builds (of its direction, around its
/// callback) and its start.
fn build(
    opened: &Opened,
    side: Arc<Side>,
    audit: Option<fn(&mut dyn FnMut())>,
    raw: impl FnOnce(cpal::SampleFormat, ErrorCallback) -> Result<cpal::Stream, cpal::Error>,
) -> Result<Built, CpalError> {
    let (on_error, rx) = ErrorCallback::new(side.clone(), audit);
    let format = to_cpal(opened.granted.format).ok_or_else(|| CpalError::Unsupported {
        what: "sample format",
        message: format!("cpal has no {:?}", opened.granted.format),
    })?;
    let stream = raw(format, on_error).map_err(|e| crate::error::build(&e))?;
    stream.play().map_err(|e| crate::error::build(&e))?;
    Ok((stream, side, rx))
}

/// Whether the host loses whole buffers only: JACK, whose clients run a cycle or miss it.
fn whole_buffers(host: cpal::HostId) -> bool {
    host.name() == "JACK"
}

/// What a running stream granted: the period from the stream itself when it says.
fn granted(opened: &Opened, stream: &cpal::Stream) -> Granted {
    let mut granted = opened.granted.clone();
    if let Ok(period) = stream.buffer_size() {
        granted.period = Some(period);
    }
    granted
}

/// A side as the supervisor watches it, with its callback timeout for what was granted.
fn watched(
    side: Arc<Side>,
    errors: rtrb::Consumer<cpal::Error>,
    granted: &Granted,
    control: &RunControl,
) -> Watched {
    Watched {
        side,
        errors,
        timeout: control.timeout(granted.period, granted.rate),
    }
}

#[cfg(test)]
mod tests {
    use rtmix_core::{Fixed, Heap, Home, InputEngine, OutputEngine, PlaySource, RecordTarget};

    /// What `CpalStream::play`, `record` and `duplex` ask of an engine's types.
    fn runs_in_cpal<P, R, H>()
    where
        P: PlaySource + 'static,
        R: RecordTarget + 'static,
        H: Home + 'static,
        OutputEngine<P, H>: Send,
        InputEngine<R, H>: Send,
    {
    }

    /// Engines on either home run in a cpal stream: a host's heap storage
    /// (`rtmix_core::open`) and a `'static` fixed storage alike.
    #[test]
    fn engines_on_either_home_run_in_cpal() {
        runs_in_cpal::<Vec<f32>, Vec<f32>, Heap>();
        runs_in_cpal::<std::sync::Arc<[f32]>, Vec<f32>, Heap<2>>();
        runs_in_cpal::<&'static [f32], Vec<f32>, Fixed<'static, 2>>();
    }
}
