//! A transfer loop on its own realtime thread.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;

use rtmix_core::{DeviceClock, Engine, Home, InputEngine, OutputEngine, PlaySource, RecordTarget};

use crate::realtime::promote;
use crate::{
    duplex_offset, AlsaError, DuplexDevice, DuplexOffset, DuplexReport, Granted, InputDevice,
    OutputDevice, Realtime, RunControl, RunReport,
};

/// The priority asked for (`SCHED_FIFO` runs 1 to 99; JACK's default is 70-ish).
const PRIORITY: i32 = 70;

/// A device's transfer loop running on its own thread.
///
/// The engine half moves into the thread; the stream's storage (allocated by
/// [`rtmix_core::open`]) is freed once the controller and the thread are both done with
/// it. Any [`Home`] whose engine can move to a thread works: [`Heap`](rtmix_core::Heap)
/// on a host, or [`Fixed`](rtmix_core::Fixed) storage in a `static`.
///
/// ```no_run
/// use rtmix_alsa::{AlsaStream, Config, OutputDevice, RunControl};
/// use rtmix_core::{StreamCapacity, StreamConfig};
/// let (mut ctl, engine) = rtmix_core::open::<Vec<f32>, Vec<f32>>(
///     StreamConfig::output(2),
///     StreamCapacity::default(),
/// )
/// .unwrap();
/// let (output, _input) = engine.split();
/// let device = OutputDevice::open(&Config::new("default", 48_000, 2)).unwrap();
/// let stream = AlsaStream::play(device, output, RunControl::default()).unwrap();
/// // ... schedule plays with `ctl` ...
/// let report = stream.stop().unwrap();
/// ```
#[derive(Debug)]
pub struct AlsaStream<Report = RunReport> {
    granted: Granted,
    clock: Arc<DeviceClock>,
    /// A duplex stream's input clock, and whether its PCMs are linked.
    input: Option<(Arc<DeviceClock>, bool)>,
    control: RunControl,
    realtime: std::sync::mpsc::Receiver<Realtime>,
    thread: JoinHandle<Result<Report, AlsaError>>,
}

impl AlsaStream {
    /// Runs `device` for `engine` on a new thread at realtime priority where permitted.
    pub fn play<P, H>(
        mut device: OutputDevice,
        mut engine: OutputEngine<P, H>,
        control: RunControl,
    ) -> Result<Self, AlsaError>
    where
        P: PlaySource,
        H: Home,
        OutputEngine<P, H>: Send + 'static,
    {
        let granted = device.granted().clone();
        let clock = device.clock();
        let loop_control = control.clone();
        Self::spawn(granted, (clock, None), control, move || {
            let result = device.run(&mut engine, &loop_control);
            wind_down(|| {
                engine.stop();
                engine.is_idle()
            });
            result
        })
    }

    /// Runs `device` for `engine` (capture) on a new thread at realtime priority where
    /// permitted.
    pub fn record<R, H>(
        mut device: InputDevice,
        mut engine: InputEngine<R, H>,
        control: RunControl,
    ) -> Result<Self, AlsaError>
    where
        R: RecordTarget,
        H: Home,
        InputEngine<R, H>: Send + 'static,
    {
        let granted = device.granted().clone();
        let clock = device.clock();
        let loop_control = control.clone();
        Self::spawn(granted, (clock, None), control, move || {
            let result = device.run(&mut engine, &loop_control);
            wind_down(|| {
                engine.stop();
                engine.is_idle()
            });
            result
        })
    }
}

impl AlsaStream<DuplexReport> {
    /// Runs a duplex `device` for `engine` on a new thread at realtime priority where
    /// permitted. `stop_after` in `control` counts output frames.
    pub fn duplex<P, R, H>(
        mut device: DuplexDevice,
        mut engine: Engine<P, R, H>,
        control: RunControl,
    ) -> Result<Self, AlsaError>
    where
        P: PlaySource,
        R: RecordTarget,
        H: Home,
        Engine<P, R, H>: Send + 'static,
    {
        let granted = device.granted().0.clone();
        let (output, input) = device.clocks();
        let linked = device.linked();
        let loop_control = control.clone();
        Self::spawn(
            granted,
            (output, Some((input, linked))),
            control,
            move || {
                let result = device.run(&mut engine, &loop_control);
                wind_down(|| {
                    engine.output.stop();
                    engine.input.stop();
                    engine.output.is_idle() && engine.input.is_idle()
                });
                result
            },
        )
    }

    /// The input's clock.
    pub fn input_clock(&self) -> Arc<DeviceClock> {
        self.input
            .as_ref()
            .map_or_else(|| self.clock.clone(), |(c, _)| c.clone())
    }

    /// The offset between the input and output frame clocks, exact or marked as an
    /// estimate ([`DuplexOffset`]); `None` until both directions have run a period.
    pub fn offset(&self) -> Option<DuplexOffset> {
        let (input, linked) = self.input.as_ref()?;
        duplex_offset(&self.clock, input, *linked)
    }
}

impl<Report: Send + 'static> AlsaStream<Report> {
    fn spawn(
        granted: Granted,
        (clock, input): (Arc<DeviceClock>, Option<(Arc<DeviceClock>, bool)>),
        control: RunControl,
        body: impl FnOnce() -> Result<Report, AlsaError> + Send + 'static,
    ) -> Result<Self, AlsaError> {
        let (tx, realtime) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("rtmix-alsa".into())
            .spawn(move || {
                let _ = tx.send(promote(PRIORITY));
                body()
            })
            .map_err(|_| AlsaError::Thread)?;
        Ok(Self {
            granted,
            clock,
            input,
            control,
            realtime,
            thread,
        })
    }

    /// What the device granted (the output's, for duplex).
    pub fn granted(&self) -> &Granted {
        &self.granted
    }

    /// The stream's clock (the output's, for duplex): [`DeviceClock::now`] gives the frame
    /// at the converter, [`DeviceClock::instant_of`] and [`DeviceClock::frame_at`] convert,
    /// [`DeviceClock::latency`] is the latest commit-to-DAC latency, and
    /// [`DeviceClock::earliest`] the first frame a new action can still make.
    pub fn clock(&self) -> Arc<DeviceClock> {
        self.clock.clone()
    }

    /// What scheduling the audio thread got (waits for the thread to say).
    pub fn realtime(&self) -> Option<Realtime> {
        self.realtime.recv().ok()
    }

    /// Stops the loop after its current period and waits for the thread. Everything still
    /// scheduled completes with `EndReason::StreamStopped`.
    pub fn stop(self) -> Result<Report, AlsaError> {
        self.control.stop.store(true, Ordering::Release);
        self.join()
    }

    /// True once the loop has ended (by itself, or after [`stop`](Self::stop)).
    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// Waits for the loop to end by itself (`RunControl::stop_after`, or an error).
    pub fn join(self) -> Result<Report, AlsaError> {
        self.thread.join().map_err(|_| AlsaError::Thread)?
    }
}

/// Ends everything the engine holds with `StreamStopped`, giving the controller a moment
/// to take completions when the queue is full (bounded: it never hangs).
fn wind_down(mut stop_and_check_idle: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if stop_and_check_idle() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

#[cfg(test)]
mod tests {
    use rtmix_core::{Engine, Fixed, Heap, InputEngine, OutputEngine, Unused};

    /// What [`AlsaStream`](super::AlsaStream) asks of an engine it moves to its thread.
    fn movable<T: Send + 'static>() {}

    #[test]
    fn heap_and_static_fixed_engines_can_run_on_the_stream_thread() {
        movable::<OutputEngine<Vec<f32>, Heap>>();
        movable::<InputEngine<Vec<f32>, Heap>>();
        movable::<Engine<std::sync::Arc<[f32]>, Box<[f32]>, Heap>>();
        movable::<OutputEngine<&'static [f32], Fixed<'static, 2>>>();
        movable::<InputEngine<&'static mut [f32], Fixed<'static, 2>>>();
        movable::<Engine<&'static [f32], Unused, Fixed<'static, 8>>>();
    }
}
