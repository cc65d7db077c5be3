//! A transfer loop on its own realtime thread, and the guard that ends its engine's
//! actions whichever way the thread ends.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rtmix_backend::{Attachable, DuplexHandback, Handback};
use rtmix_core::{DeviceClock, Engine, Home, InputEngine, OutputEngine, PlaySource, RecordTarget};

use crate::realtime::promote;
use crate::{
    duplex_offset, AlsaError, DuplexDevice, DuplexReport, Granted, InputDevice, Offset,
    OutputDevice, Realtime, RunControl, RunReport,
};

/// A device's transfer loop running on its own thread.
///
/// The engine half moves into the thread; the stream's storage (allocated by
/// [`rtmix_core::open`]) is freed once the controller and the thread are both done with
/// it. Any [`Home`] whose engine can move to a thread works: [`Heap`](rtmix_core::Heap)
/// on a host, or [`Fixed`](rtmix_core::Fixed) storage in a `static`.
///
/// Every action handed to the engine completes, whatever happens to the thread: when the
/// loop ends (asked to, or by an error such as a device that went away), when the thread
/// panics (a [`SampleSource`](rtmix_core::SampleSource) that panics, say), and when the
/// thread cannot be started at all, the engine ends everything it holds with
/// `EndReason::StreamStopped`, a recording handing back what it captured. The engine is
/// held by a guard that does so when dropped, unwinding included; until the thread has
/// started, the guard stays with the caller, which drops it if the start fails.
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
    /// A duplex stream's input side.
    input: Option<InputSide>,
    control: RunControl,
    started: Arc<Started>,
    /// Taken by [`stop`](Self::stop) or [`join`](Self::join); a stream dropped with it
    /// still here stops its loop and waits for it.
    thread: Option<JoinHandle<Result<Report, AlsaError>>>,
}

/// Where a duplex loop sends the halves of its engine when it ends: `(output, input)`.
type HalvesBack<P, R, H> = (
    std::sync::mpsc::SyncSender<OutputEngine<P, H>>,
    std::sync::mpsc::SyncSender<InputEngine<R, H>>,
);

/// A duplex stream's input clock, whether its PCMs are linked, and what the input granted.
type InputSide = (Arc<DeviceClock>, bool, Granted);

/// What the audio thread says once it has asked for realtime scheduling: what it got,
/// and its kernel thread id.
#[derive(Debug, Default)]
struct Started {
    said: OnceLock<(Realtime, i32)>,
    /// Wakes [`AlsaStream::wait_realtime`].
    lock: Mutex<()>,
    ready: Condvar,
}

impl Started {
    fn say(&self, realtime: Realtime, tid: i32) {
        let _ = self.said.set((realtime, tid));
        let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.ready.notify_all();
    }
}

/// An engine half that can be told to end everything it holds.
trait Stoppable {
    /// Ends everything with `StreamStopped` (as many completions as the queue takes).
    fn stop_all(&mut self);
    /// True when nothing is held and no command waits.
    fn idle(&self) -> bool;
}

impl<P: PlaySource, H: Home> Stoppable for OutputEngine<P, H> {
    fn stop_all(&mut self) {
        self.stop();
    }
    fn idle(&self) -> bool {
        self.is_idle()
    }
}

impl<R: RecordTarget, H: Home> Stoppable for InputEngine<R, H> {
    fn stop_all(&mut self) {
        self.stop();
    }
    fn idle(&self) -> bool {
        self.is_idle()
    }
}

impl<P: PlaySource, R: RecordTarget, H: Home> Stoppable for Engine<P, R, H> {
    fn stop_all(&mut self) {
        self.output.stop();
        self.input.stop();
    }
    fn idle(&self) -> bool {
        self.output.is_idle() && self.input.is_idle()
    }
}

/// Owns an engine half and ends everything it holds when dropped: after the loop, when
/// the audio thread unwinds from a panic, or on the caller's side when the thread could
/// not be started; unless the loop ended and the engine was handed back
/// ([`into_inner`](Self::into_inner)).
struct WindDown<E: Stoppable>(Option<E>);

impl<E: Stoppable> WindDown<E> {
    fn new(engine: E) -> Self {
        Self(Some(engine))
    }

    /// The engine, held until handed back.
    fn get(&mut self) -> &mut E {
        self.0
            .as_mut()
            .expect("the guard holds its engine until it is handed back")
    }

    /// The engine, untouched: the guard ends nothing.
    fn into_inner(mut self) -> E {
        self.0
            .take()
            .expect("the guard holds its engine until it is handed back")
    }
}

impl<E: Stoppable> Drop for WindDown<E> {
    fn drop(&mut self) {
        let Some(engine) = self.0.as_mut() else {
            return;
        };
        wind_down(|| {
            engine.stop_all();
            engine.idle()
        });
    }
}

/// A device of one direction and the engine half its loop runs: what
/// [`AlsaStream::start`] asks of an [`OutputDevice`] or an [`InputDevice`], so that play
/// and record start the one way.
trait OneWay<E>: Send + 'static {
    /// What the device granted, its clock, and the engine half's channel count.
    fn parts(&self, engine: &E) -> (Granted, Arc<DeviceClock>, u16);
    /// The transfer loop.
    fn run(&mut self, engine: &mut E, control: &RunControl) -> Result<RunReport, AlsaError>;
}

impl<P: PlaySource, H: Home> OneWay<OutputEngine<P, H>> for OutputDevice {
    fn parts(&self, engine: &OutputEngine<P, H>) -> (Granted, Arc<DeviceClock>, u16) {
        (self.granted().clone(), self.clock(), engine.channels())
    }
    fn run(&mut self, e: &mut OutputEngine<P, H>, c: &RunControl) -> Result<RunReport, AlsaError> {
        OutputDevice::run(self, e, c)
    }
}

impl<R: RecordTarget, H: Home> OneWay<InputEngine<R, H>> for InputDevice {
    fn parts(&self, engine: &InputEngine<R, H>) -> (Granted, Arc<DeviceClock>, u16) {
        (self.granted().clone(), self.clock(), engine.channels())
    }
    fn run(&mut self, e: &mut InputEngine<R, H>, c: &RunControl) -> Result<RunReport, AlsaError> {
        InputDevice::run(self, e, c)
    }
}

impl AlsaStream {
    /// [`play`](Self::play), handing the engine back when the loop ends instead of
    /// ending what it holds: whatever ends the loop (a stop, `stop_after`, a device that
    /// is gone), [`Handback::detached`] then has the engine, every action still in it,
    /// to attach to a device again ([`Detached::resume`](rtmix_backend::Detached::resume)).
    /// Only a panic on the audio thread, or a thread that cannot start, ends everything
    /// as [`play`](Self::play) does (the hand-back is then empty).
    pub fn play_handing_back<P, H>(
        device: OutputDevice,
        engine: OutputEngine<P, H>,
        control: RunControl,
    ) -> Result<(Self, Handback<OutputEngine<P, H>>), AlsaError>
    where
        P: PlaySource,
        H: Home,
        OutputEngine<P, H>: Send + 'static,
    {
        Self::start_handing_back(device, engine, control)
    }

    /// [`record`](Self::record), handing the engine back when the loop ends, as
    /// [`play_handing_back`](Self::play_handing_back) does.
    pub fn record_handing_back<R, H>(
        device: InputDevice,
        engine: InputEngine<R, H>,
        control: RunControl,
    ) -> Result<(Self, Handback<InputEngine<R, H>>), AlsaError>
    where
        R: RecordTarget,
        H: Home,
        InputEngine<R, H>: Send + 'static,
    {
        Self::start_handing_back(device, engine, control)
    }

    /// Runs `device` for `engine` on a new thread, asking for the scheduling of
    /// [`RunControl::realtime`].
    ///
    /// If the thread cannot be started ([`AlsaError::Spawn`]), everything `engine` holds
    /// has completed with `StreamStopped` by the time this returns.
    pub fn play<P, H>(
        device: OutputDevice,
        engine: OutputEngine<P, H>,
        control: RunControl,
    ) -> Result<Self, AlsaError>
    where
        P: PlaySource,
        H: Home,
        OutputEngine<P, H>: Send + 'static,
    {
        Self::start(device, engine, control, None)
    }

    /// Runs `device` for `engine` (capture) on a new thread, asking for the scheduling of
    /// [`RunControl::realtime`]. A start that fails is handled as in
    /// [`play`](Self::play).
    pub fn record<R, H>(
        device: InputDevice,
        engine: InputEngine<R, H>,
        control: RunControl,
    ) -> Result<Self, AlsaError>
    where
        R: RecordTarget,
        H: Home,
        InputEngine<R, H>: Send + 'static,
    {
        Self::start(device, engine, control, None)
    }

    /// [`start`](Self::start) with a hand-back, which the loop's end sends the engine to.
    fn start_handing_back<D, E>(
        device: D,
        engine: E,
        control: RunControl,
    ) -> Result<(Self, Handback<E>), AlsaError>
    where
        D: OneWay<E>,
        E: Stoppable + Attachable + Send + 'static,
    {
        let (granted, clock, _) = device.parts(&engine);
        let (back, handback) = std::sync::mpsc::sync_channel(1);
        let handback = Handback::new(handback, clock, granted.rate);
        let stream = Self::start(device, engine, control, Some(back))?;
        Ok((stream, handback))
    }

    /// What play and record share: the channel check, then the loop on its thread, the
    /// engine in a [`WindDown`] until the loop ends and then sent to `back` if there is
    /// one (its actions ended otherwise).
    fn start<D, E>(
        mut device: D,
        engine: E,
        control: RunControl,
        back: Option<std::sync::mpsc::SyncSender<E>>,
    ) -> Result<Self, AlsaError>
    where
        D: OneWay<E>,
        E: Stoppable + Send + 'static,
    {
        let (granted, clock, channels) = device.parts(&engine);
        let loop_control = control.clone();
        let mut engine = WindDown::new(engine);
        check_channels(channels, &granted)?;
        Self::spawn(granted, (clock, None), control, move || {
            let result = device.run(engine.get(), &loop_control);
            match back {
                Some(back) => hand_back(&back, engine),
                None => drop(engine),
            }
            result
        })
    }
}

impl AlsaStream<DuplexReport> {
    /// Runs a duplex `device` for `engine` on a new thread, asking for the scheduling of
    /// [`RunControl::realtime`]. `stop_after` in `control` counts output frames. A start
    /// that fails is handled as in [`play`](AlsaStream::play).
    pub fn duplex<P, R, H>(
        device: DuplexDevice,
        engine: Engine<P, R, H>,
        control: RunControl,
    ) -> Result<Self, AlsaError>
    where
        P: PlaySource,
        R: RecordTarget,
        H: Home,
        OutputEngine<P, H>: Send + 'static,
        InputEngine<R, H>: Send + 'static,
    {
        Self::duplex_with(device, engine, control, None)
    }

    /// [`duplex`](Self::duplex), handing the whole engine back when the loop ends
    /// instead of ending what it holds: whatever ends the loop (a stop, `stop_after`, a
    /// device that is gone), [`DuplexHandback::detached`] then has both halves, every
    /// action still in them, each with the instant its next frame was due on its own
    /// clock, to attach to a duplex device again
    /// ([`DetachedDuplex::resume`](rtmix_backend::DetachedDuplex::resume)). Only a panic
    /// on the audio thread, or a thread that cannot start, ends everything both halves
    /// hold as [`duplex`](Self::duplex) does (the hand-back is then empty).
    pub fn duplex_handing_back<P, R, H>(
        device: DuplexDevice,
        engine: Engine<P, R, H>,
        control: RunControl,
    ) -> Result<(Self, DuplexHandback<P, R, H>), AlsaError>
    where
        P: PlaySource,
        R: RecordTarget,
        H: Home,
        OutputEngine<P, H>: Send + 'static,
        InputEngine<R, H>: Send + 'static,
    {
        let (out_rate, in_rate) = (device.granted().0.rate, device.granted().1.rate);
        let (out_clock, in_clock) = device.clocks();
        let (out_back, out_handback) = std::sync::mpsc::sync_channel(1);
        let (in_back, in_handback) = std::sync::mpsc::sync_channel(1);
        let handback = DuplexHandback::new(
            Handback::new(out_handback, out_clock, out_rate),
            Handback::new(in_handback, in_clock, in_rate),
        );
        let stream = Self::duplex_with(device, engine, control, Some((out_back, in_back)))?;
        Ok((stream, handback))
    }

    fn duplex_with<P, R, H>(
        mut device: DuplexDevice,
        engine: Engine<P, R, H>,
        control: RunControl,
        back: Option<HalvesBack<P, R, H>>,
    ) -> Result<Self, AlsaError>
    where
        P: PlaySource,
        R: RecordTarget,
        H: Home,
        OutputEngine<P, H>: Send + 'static,
        InputEngine<R, H>: Send + 'static,
    {
        let (granted, input_granted) = (device.granted().0.clone(), device.granted().1.clone());
        let (output, input) = device.clocks();
        let linked = device.linked();
        let loop_control = control.clone();
        let mut engine = WindDown::new(engine);
        check_channels(engine.get().output.channels(), &granted)?;
        check_channels(engine.get().input.channels(), &input_granted)?;
        Self::spawn(
            granted,
            (output, Some((input, linked, input_granted))),
            control,
            move || {
                let result = device.run(engine.get(), &loop_control);
                match back {
                    Some((out_back, in_back)) => {
                        let (output, input) = engine.into_inner().split();
                        hand_back(&out_back, WindDown::new(output));
                        hand_back(&in_back, WindDown::new(input));
                    }
                    None => drop(engine),
                }
                // The anchors outlive the loop: the offset over the whole run.
                result.map(|report| DuplexReport {
                    offset: device.offset(),
                    ..report
                })
            },
        )
    }

    /// The input's clock.
    pub fn input_clock(&self) -> Arc<DeviceClock> {
        self.input
            .as_ref()
            .map_or_else(|| self.clock.clone(), |(c, _, _)| c.clone())
    }

    /// What the input device granted.
    pub fn input_granted(&self) -> &Granted {
        self.input.as_ref().map_or(&self.granted, |(_, _, g)| g)
    }

    /// The offset between the input and output frame clocks, [`Exact`](crate::OffsetKind::Exact)
    /// or an estimate ([`Offset`]); `None` until both directions have run a period.
    pub fn offset(&self) -> Option<Offset> {
        let (input, linked, _) = self.input.as_ref()?;
        duplex_offset(&self.clock, input, *linked)
    }
}

impl<Report: Send + 'static> AlsaStream<Report> {
    /// Starts the audio thread, which asks for realtime scheduling, says what it got, then
    /// runs `body` (the loop, holding the engine in a [`WindDown`]). `body` goes to the
    /// thread only once it has started: if it cannot be, `body` is dropped here, and with
    /// it the engine, whose actions all complete.
    fn spawn<B>(
        granted: Granted,
        (clock, input): (Arc<DeviceClock>, Option<InputSide>),
        control: RunControl,
        body: B,
    ) -> Result<Self, AlsaError>
    where
        B: FnOnce() -> Result<Report, AlsaError> + Send + 'static,
    {
        let started = Arc::new(Started::default());
        let (handoff, take) = std::sync::mpsc::sync_channel::<B>(1);
        let realtime = control.realtime;
        let said = started.clone();
        let spawned = std::thread::Builder::new()
            .name("rtmix-alsa".into())
            .spawn(move || {
                // Held to the end of the thread (unwinding included): the last stream
                // that locked memory unlocks it.
                let (got, _memory) = promote(realtime);
                #[allow(unsafe_code)] // FFI: libc's gettid
                // SAFETY: `gettid` takes no arguments and cannot fail.
                let tid = unsafe { libc::gettid() };
                said.say(got, tid);
                match take.recv() {
                    Ok(body) => body(),
                    // The caller is gone without sending: it cannot be, as it sends as
                    // soon as the thread exists; there is no engine here to wind down.
                    Err(_) => Err(AlsaError::Spawn {
                        errno: libc::ECHILD,
                    }),
                }
            });
        let thread = match spawned {
            Ok(thread) => thread,
            Err(e) => {
                // The engine never left: its actions complete here.
                drop(body);
                return Err(AlsaError::Spawn {
                    errno: e.raw_os_error().unwrap_or(0),
                });
            }
        };
        if let Err(unsent) = handoff.send(body) {
            // The thread ended before taking it (it cannot, short of a panic in the
            // promotion): the engine's actions complete here, and `join` says why.
            drop(unsent.0);
        }
        Ok(Self {
            granted,
            clock,
            input,
            control,
            started,
            thread: Some(thread),
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

    /// What scheduling and memory locking the audio thread got, once it has asked (it
    /// does so first thing); `None` before. Never blocks: see
    /// [`wait_realtime`](Self::wait_realtime) to wait for it.
    pub fn realtime(&self) -> Option<Realtime> {
        self.started.said.get().map(|&(realtime, _)| realtime)
    }

    /// [`realtime`](Self::realtime), waiting at most `timeout` for the thread to say.
    pub fn wait_realtime(&self, timeout: Duration) -> Option<Realtime> {
        let deadline = Instant::now().checked_add(timeout);
        let mut guard = self
            .started
            .lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(realtime) = self.realtime() {
                return Some(realtime);
            }
            let left = deadline.map_or(Duration::from_secs(3600), |d| {
                d.saturating_duration_since(Instant::now())
            });
            if left.is_zero() || self.is_finished() {
                return self.realtime();
            }
            // Bounded so that a thread that ended without saying is noticed.
            let step = left.min(Duration::from_millis(50));
            guard = self
                .started
                .ready
                .wait_timeout(guard, step)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// The audio thread's kernel thread id (`gettid`), once it has started: for tools
    /// that look at one thread (`chrt -p`, `strace -p`, `perf -t`). The thread is also
    /// named `rtmix-alsa` (`/proc/self/task/*/comm`).
    pub fn thread_id(&self) -> Option<i32> {
        self.started.said.get().map(|&(_, tid)| tid)
    }

    /// Stops the loop after its current period and waits for the thread. Everything still
    /// scheduled completes with `EndReason::StreamStopped`.
    ///
    /// A stream dropped without `stop` or [`join`](Self::join) stops the same way, so that
    /// no loop goes on driving a device that nobody holds; only its report is lost.
    pub fn stop(self) -> Result<Report, AlsaError> {
        self.control.stop.store(true, Ordering::Release);
        self.join()
    }

    /// True once the loop has ended (by itself, or after [`stop`](Self::stop)).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Waits for the loop to end by itself (`RunControl::stop_after`, or an error). A
    /// thread that panicked is [`AlsaError::Panicked`]; everything its engine held has
    /// completed all the same.
    pub fn join(mut self) -> Result<Report, AlsaError> {
        let thread = self
            .thread
            .take()
            .expect("only stop, join and drop take the thread, and they take the stream");
        thread.join().map_err(|payload| AlsaError::Panicked {
            message: payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default(),
        })?
    }
}

impl<Report> Drop for AlsaStream<Report> {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.control.stop.store(true, Ordering::Release);
            // A panic there has already ended the engine's actions (its guard did).
            let _ = thread.join();
        }
    }
}

/// Sends the engine to its hand-back, untouched; if nobody holds the hand-back any more,
/// ends what the engine holds instead.
fn hand_back<E: Stoppable>(back: &std::sync::mpsc::SyncSender<E>, engine: WindDown<E>) {
    if let Err(unsent) = back.send(engine.into_inner()) {
        drop(WindDown::new(unsent.0));
    }
}

/// [`AlsaError::ChannelMismatch`] unless an engine half of `engine` channels fits the
/// device. On a mismatch the caller drops the engine's guard, which ends its actions.
fn check_channels(engine: u16, granted: &Granted) -> Result<(), AlsaError> {
    if engine == granted.channels {
        Ok(())
    } else {
        Err(AlsaError::ChannelMismatch {
            engine,
            device: granted.channels,
        })
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
