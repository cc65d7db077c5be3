//! An engine half handed back by a stream that ended (stopped, or its device lost), and
//! how it goes back on a device with its clock moved over the frames lost in between.
//!
//! A backend that hands its engine back gives, with the stream, a [`Handback`]; once the
//! stream has ended, [`Handback::detached`] has the engine, untouched: nothing it held
//! was ended, so every action accepted before the loss is still there and completes,
//! once, on the device it is attached to next. [`Detached::resume`] first tells the
//! engine how far the device timeline moved while it was away, so that frame `n` still
//! names the instant it named before. A [`Detached`] dropped instead ends everything its
//! engine held with `StreamStopped`, as the end of a stream does.

use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rtmix_core::{DeviceClock, Home, InputEngine, OutputEngine, PlaySource, RecordTarget};

/// An engine half a device stream can run, hand back and take again.
pub trait Attachable {
    /// The engine's frame clock: the frame its next block starts at.
    fn clock(&self) -> u64;
    /// Advances the clock over `frames` the device timeline moved without the engine
    /// (rtmix-core's `report_lost`: plays skip them, recordings get zeros there).
    fn report_lost(&mut self, frames: u64);
    /// Ends everything held with `StreamStopped` (as many as the completion queue takes);
    /// true once nothing is held.
    fn stop_all(&mut self) -> bool;
}

impl<P: PlaySource, H: Home> Attachable for OutputEngine<P, H> {
    fn clock(&self) -> u64 {
        OutputEngine::clock(self)
    }
    fn report_lost(&mut self, frames: u64) {
        OutputEngine::report_lost(self, frames);
    }
    fn stop_all(&mut self) -> bool {
        self.stop();
        self.is_idle()
    }
}

impl<R: RecordTarget, H: Home> Attachable for InputEngine<R, H> {
    fn clock(&self) -> u64 {
        InputEngine::clock(self)
    }
    fn report_lost(&mut self, frames: u64) {
        InputEngine::report_lost(self, frames);
    }
    fn stop_all(&mut self) -> bool {
        self.stop();
        self.is_idle()
    }
}

/// Where a stream hands its engine back when it ends: the backend gives it out with the
/// stream; ask [`detached`](Self::detached) once the stream has ended. Dropped with the
/// engine in it (never asked), it ends everything the engine held with `StreamStopped`,
/// as the end of a stream does; a stream whose hand-back is gone does the same itself.
#[derive(Debug)]
pub struct Handback<E: Attachable> {
    engine: Receiver<E>,
    clock: Arc<DeviceClock>,
    rate: u32,
}

impl<E: Attachable> Handback<E> {
    /// A hand-back from `engine` (the stream's end sends the engine there), for a stream
    /// whose clock is `clock` at `rate`.
    pub fn new(engine: Receiver<E>, clock: Arc<DeviceClock>, rate: u32) -> Self {
        Self {
            engine,
            clock,
            rate,
        }
    }

    /// The engine, once the stream has ended (its `join` or `stop` returned); `None` if
    /// the stream did not hand it back (its audio thread panicked, and everything the
    /// engine held completed with `StreamStopped` instead).
    pub fn detached(self) -> Option<Detached<E>> {
        let engine = self.engine.try_recv().ok()?;
        // The instant the engine's next frame was due at the converter, on the device's
        // own timeline as the stream's last anchor had it.
        let due = self.clock.instant_of(engine.clock());
        Some(Detached {
            engine: Some(engine),
            due,
            rate: self.rate,
        })
    }
}

impl<E: Attachable> Drop for Handback<E> {
    fn drop(&mut self) {
        if let Ok(engine) = self.engine.try_recv() {
            drop(Detached::new(engine, None, self.rate));
        }
    }
}

/// An engine half off any device, with the instant its next frame was due on the device
/// it left.
#[derive(Debug)]
pub struct Detached<E: Attachable> {
    engine: Option<E>,
    /// The instant the engine's next frame was due at the converter of the device it
    /// left, from that stream's clock; `None` if the clock never had an anchor.
    pub due: Option<Instant>,
    /// The rate the engine ran at.
    pub rate: u32,
}

impl<E: Attachable> Detached<E> {
    /// The engine's frame clock.
    pub fn clock(&self) -> u64 {
        self.engine.as_ref().map_or(0, Attachable::clock)
    }

    /// The frames the device timeline moved past the engine from [`due`](Self::due) to
    /// `now`, at [`rate`](Self::rate), rounded down: wall time (the host's monotonic
    /// clock) stands in for the device's, which was gone. 0 when `now` is not after
    /// `due` (a stream stopped with frames still queued: they were never played, and a
    /// frame clock does not go back), or when `due` is not known.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # let (_ctl, engine) = rtmix_core::open::<Vec<f32>, Vec<f32>>(
    /// #     rtmix_core::StreamConfig::output(1), rtmix_core::StreamCapacity::default()).unwrap();
    /// # let (output, _) = engine.split();
    /// let due = Instant::now();
    /// let d = rtmix_backend::Detached::new(output, Some(due), 48_000);
    /// assert_eq!(d.lost_until(due + Duration::from_millis(250)), 12_000);
    /// assert_eq!(d.lost_until(due), 0);
    /// ```
    pub fn lost_until(&self, now: Instant) -> u64 {
        let Some(due) = self.due else { return 0 };
        let gap = now.saturating_duration_since(due);
        (gap.as_nanos() * u128::from(self.rate) / Duration::from_secs(1).as_nanos())
            .try_into()
            .unwrap_or(u64::MAX)
    }

    /// An engine off any device, whose next frame was due at `due`.
    pub fn new(engine: E, due: Option<Instant>, rate: u32) -> Self {
        Self {
            engine: Some(engine),
            due,
            rate,
        }
    }

    /// Tells the engine the frames lost up to `now` ([`lost_until`](Self::lost_until))
    /// and returns it, ready to attach to a device, with those frames. Call it right
    /// before attaching: the frames between this call and the new device's first are
    /// not counted.
    pub fn resume(mut self, now: Instant) -> (E, u64) {
        let lost = self.lost_until(now);
        let mut engine = self.engine.take().expect("a Detached holds its engine");
        engine.report_lost(lost);
        (engine, lost)
    }
}

impl<E: Attachable> Drop for Detached<E> {
    /// Ends everything the engine held with `StreamStopped`, giving the controller a
    /// moment to take completions when the queue is full (bounded: never hangs).
    fn drop(&mut self) {
        let Some(engine) = self.engine.as_mut() else {
            return;
        };
        for _ in 0..1000 {
            if engine.stop_all() {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Where a duplex stream hands its whole engine back when it ends: one [`Handback`] per
/// half, each with its own clock (the output's frames at the DAC, the input's at the
/// ADC), as the backend runs them. Ask [`detached`](Self::detached) once the stream has
/// ended. Dropped with the engine in it, it ends everything both halves held with
/// `StreamStopped`, as the end of a stream does.
#[derive(Debug)]
pub struct DuplexHandback<P, R, H>
where
    P: PlaySource + 'static,
    R: RecordTarget + 'static,
    H: Home,
{
    output: Handback<OutputEngine<P, H>>,
    input: Handback<InputEngine<R, H>>,
}

impl<P, R, H> DuplexHandback<P, R, H>
where
    P: PlaySource + 'static,
    R: RecordTarget + 'static,
    H: Home,
{
    /// The hand-back of a duplex stream from those of its two halves.
    pub fn new(output: Handback<OutputEngine<P, H>>, input: Handback<InputEngine<R, H>>) -> Self {
        Self { output, input }
    }

    /// Both halves, once the stream has ended (its `join` or `stop` returned); `None` if
    /// either did not come back (an audio side that panicked): the half that did come
    /// back then ends everything it holds with `StreamStopped` too, so that nothing of a
    /// duplex engine is left half attached.
    pub fn detached(self) -> Option<DetachedDuplex<P, R, H>> {
        let output = self.output.detached();
        let input = self.input.detached();
        match (output, input) {
            (Some(output), Some(input)) => Some(DetachedDuplex { output, input }),
            // The half that came back (if any) is dropped here, ending what it holds.
            _ => None,
        }
    }
}

/// A whole duplex engine off any device: each half with the instant its next frame was
/// due on the device it left ([`Detached::due`]).
#[derive(Debug)]
pub struct DetachedDuplex<P, R, H>
where
    P: PlaySource + 'static,
    R: RecordTarget + 'static,
    H: Home,
{
    /// The playback half, its next frame due at the DAC it left.
    pub output: Detached<OutputEngine<P, H>>,
    /// The capture half, its next frame due at the ADC it left.
    pub input: Detached<InputEngine<R, H>>,
}

impl<P, R, H> DetachedDuplex<P, R, H>
where
    P: PlaySource + 'static,
    R: RecordTarget + 'static,
    H: Home,
{
    /// The halves' frame clocks: `(output, input)`.
    pub fn clocks(&self) -> (u64, u64) {
        (self.output.clock(), self.input.clock())
    }

    /// Moves each half's clock over the frames its device timeline moved without it up
    /// to `now` ([`Detached::lost_until`]: wall time from the instant the half's next
    /// frame was due, by its stream's last anchor, at its rate), and returns the whole
    /// engine, ready to attach to a duplex device again, with the frames each half lost,
    /// `(output, input)`. Call it right before attaching.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// use rtmix_backend::{Detached, DetachedDuplex};
    /// # let (_ctl, engine) = rtmix_core::open::<Vec<f32>, Vec<f32>>(
    /// #     rtmix_core::StreamConfig::duplex(1, 1), rtmix_core::StreamCapacity::default()).unwrap();
    /// let (output, input) = engine.split();
    /// let due = Instant::now();
    /// let away = DetachedDuplex {
    ///     output: Detached::new(output, Some(due), 48_000),
    ///     input: Detached::new(input, Some(due + Duration::from_millis(10)), 48_000),
    /// };
    /// let (engine, lost) = away.resume(due + Duration::from_millis(250));
    /// assert_eq!(lost, (12_000, 11_520));
    /// assert_eq!((engine.output.clock(), engine.input.clock()), lost);
    /// ```
    pub fn resume(self, now: Instant) -> (rtmix_core::Engine<P, R, H>, (u64, u64)) {
        let (output, out_lost) = self.output.resume(now);
        let (input, in_lost) = self.input.resume(now);
        (rtmix_core::Engine { output, input }, (out_lost, in_lost))
    }
}
