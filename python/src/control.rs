//! The control side shared by every stream class: the core's controller behind a lock,
//! the table of pending actions, and `wait`, which sleeps on the core's wake-up
//! ([`Wakeup`]) with the GIL released and no lock held, so other threads keep submitting.
//!
//! Completions are taken ("drained") by whoever comes first: `wait`, the next request, or
//! `Offline.process()`. Each goes to its action's [`Cell`] exactly once.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use pyo3::exceptions::{PyRuntimeError, PyTimeoutError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rtmix_core::{
    ActionId, At, Completion, Controller, Direction, Ending, Engine, Feed, Heap, Late, Play,
    Record, StreamStats, Wakeup,
};
use rtrb::{Consumer, Producer};

use crate::actions::{stream_stats_dict, Action, Cell};
use crate::args;
use crate::exceptions::{refused, WouldBlock};
use crate::ring::RingBuffer;

/// What a play reads: a copied buffer or a ring's reading end.
pub(crate) type PlaySrc = Feed<Vec<f32>, Consumer<f32>>;
/// What a recording fills: a buffer or a ring's writing end.
pub(crate) type RecTgt = Feed<Vec<f32>, Producer<f32>>;
/// The control side.
pub(crate) type Ctl = Controller<PlaySrc, RecTgt, Heap>;
/// The audio side.
pub(crate) type Eng = Engine<PlaySrc, RecTgt, Heap>;
/// A completion.
pub(crate) type Done = Completion<PlaySrc, RecTgt>;

/// How long `wait` sleeps at most before it looks for Ctrl-C (a completion wakes it at
/// once; this is only for signals).
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

struct Inner {
    ctl: Ctl,
    pending: HashMap<ActionId, Arc<Cell>>,
    /// True while one thread sleeps on the core's wake-up; the others wait on `cond`.
    leader: bool,
    last_stats: Option<StreamStats>,
    closed: bool,
}

/// One stream's control side.
pub(crate) struct Control {
    inner: Mutex<Inner>,
    cond: Condvar,
    wakeup: Wakeup,
    pub(crate) samplerate: u32,
    pub(crate) outputs: u16,
    pub(crate) inputs: u16,
    /// The simulated device: `wait` without a timeout never sleeps.
    offline: bool,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("samplerate", &self.samplerate)
            .field("outputs", &self.outputs)
            .field("inputs", &self.inputs)
            .finish_non_exhaustive()
    }
}

/// A request's timing: the start and what to do if it is late.
pub(crate) fn late(allow_belated: bool) -> Late {
    if allow_belated {
        Late::StartNow
    } else {
        Late::Drop
    }
}

/// The settings of a buffer play beyond its buffer and channels.
pub(crate) struct PlayShape {
    pub(crate) gain: f32,
    pub(crate) fade_in: u64,
    pub(crate) fade_out: u64,
    pub(crate) region: Option<(u64, u64)>,
    pub(crate) repeat: rtmix_core::Repeat,
}

impl Control {
    pub(crate) fn new(ctl: Ctl, samplerate: u32, offline: bool) -> Self {
        let config = ctl.config();
        Self {
            wakeup: ctl.wakeup(),
            inner: Mutex::new(Inner {
                ctl,
                pending: HashMap::new(),
                leader: false,
                last_stats: None,
                closed: false,
            }),
            cond: Condvar::new(),
            samplerate,
            outputs: config.output_channels,
            inputs: config.input_channels,
            offline,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes every arrived completion into its action; wakes the waiters if any arrived.
    fn drain_locked(&self, inner: &mut Inner) {
        let mut any = false;
        while let Some(done) = inner.ctl.try_next() {
            any = true;
            if let Some(s) = done.stream_stats() {
                inner.last_stats = Some(*s);
            }
            if let Some(cell) = inner.pending.remove(&done.id) {
                cell.complete(done);
            }
        }
        if any {
            self.cond.notify_all();
        }
    }

    /// Takes every arrived completion (no GIL needed).
    pub(crate) fn drain(&self) {
        let mut inner = self.lock();
        self.drain_locked(&mut inner);
    }

    /// Marks the stream closed: later requests are refused.
    pub(crate) fn close(&self) {
        let mut inner = self.lock();
        self.drain_locked(&mut inner);
        inner.closed = true;
    }

    /// Submits with `submit` under the lock and registers the action it returns.
    fn submit(
        &self,
        kind: &'static str,
        at: At,
        channels: usize,
        ring: Option<Arc<crate::ring::RingEnds>>,
        submit: impl FnOnce(&mut Ctl) -> PyResult<ActionId>,
    ) -> PyResult<Action> {
        let mut inner = self.lock();
        if inner.closed {
            return Err(PyValueError::new_err("the stream is closed"));
        }
        self.drain_locked(&mut inner);
        let id = submit(&mut inner.ctl)?;
        let cell = Arc::new(Cell::new(id, kind, at.frame(), channels, ring));
        inner.pending.insert(id, cell.clone());
        Ok(Action::new(cell))
    }

    pub(crate) fn play(
        &self,
        samples: Vec<f32>,
        map: rtmix_core::ChannelMap,
        at: At,
        late: Late,
        shape: &PlayShape,
    ) -> PyResult<Action> {
        let mut play = Play::new(Feed::Buffer(samples), map)
            .at(at)
            .late(late)
            .gain(shape.gain)
            .fade_in(shape.fade_in)
            .fade_out(shape.fade_out)
            .repeat(shape.repeat);
        if let Some((a, b)) = shape.region {
            play = play.region(a, b);
        }
        self.submit("play", at, 0, None, |ctl| {
            ctl.play(play).map_err(|r| refused(&r.error))
        })
    }

    pub(crate) fn record(
        &self,
        frames: usize,
        map: rtmix_core::ChannelMap,
        at: At,
        late: Late,
    ) -> PyResult<Action> {
        let channels = map.len();
        let buffer = vec![0.0f32; frames * channels];
        let record = Record::new(Feed::Buffer(buffer), map).at(at).late(late);
        self.submit("record", at, channels, None, |ctl| {
            ctl.record(record).map_err(|r| refused(&r.error))
        })
    }

    pub(crate) fn play_ring(
        &self,
        ring: &RingBuffer,
        map: rtmix_core::ChannelMap,
        at: At,
        late: Late,
        gain: f32,
    ) -> PyResult<Action> {
        let ends = ring.ends.clone();
        let consumer = ends.take_consumer()?;
        let play = Play::new(Feed::Stream(consumer), map)
            .at(at)
            .late(late)
            .gain(gain);
        let back = ends.clone();
        self.submit("play", at, 0, Some(ends), move |ctl| {
            ctl.play(play).map_err(|r| {
                // Refused: the ring gets its end back, nothing is lost.
                if let Feed::Stream(c) = r.returned.into_buffer() {
                    back.give_back_consumer(c);
                }
                refused(&r.error)
            })
        })
    }

    pub(crate) fn record_ring(
        &self,
        ring: &RingBuffer,
        map: rtmix_core::ChannelMap,
        at: At,
        late: Late,
    ) -> PyResult<Action> {
        let ends = ring.ends.clone();
        let producer = ends.take_producer()?;
        let channels = map.len();
        let record = Record::new(Feed::Stream(producer), map).at(at).late(late);
        let back = ends.clone();
        self.submit("record", at, channels, Some(ends), move |ctl| {
            ctl.record(record).map_err(|r| {
                if let Feed::Stream(p) = r.returned.into_buffer() {
                    back.give_back_producer(p);
                }
                refused(&r.error)
            })
        })
    }

    pub(crate) fn cancel(&self, target: ActionId, at: At, fade: u64) -> PyResult<Action> {
        let ending = if fade == 0 {
            Ending::Cut
        } else {
            Ending::FadeOut(fade)
        };
        self.submit("cancel", at, 0, None, |ctl| {
            ctl.cancel_with(target, at, Late::StartNow, ending)
                .map_err(|e| refused(&e))
        })
    }

    pub(crate) fn fetch_stats(&self, at: At) -> PyResult<Action> {
        let direction = if self.outputs > 0 {
            Direction::Output
        } else {
            Direction::Input
        };
        self.submit("stats", at, 0, None, |ctl| {
            ctl.fetch_stats(direction, at).map_err(|e| refused(&e))
        })
    }

    /// Waits until every cell is finished, at most `timeout` seconds.
    pub(crate) fn wait_cells(
        &self,
        py: Python<'_>,
        cells: &[Arc<Cell>],
        timeout: Option<f64>,
    ) -> PyResult<()> {
        let all_done = || cells.iter().all(|c| c.finished.get().is_some());
        let deadline = match timeout {
            Some(t) if !(t >= 0.0 && t.is_finite()) => {
                return Err(PyValueError::new_err(
                    "timeout must be a non-negative number",
                ))
            }
            Some(t) => Some(Instant::now() + Duration::from_secs_f64(t)),
            None => None,
        };
        loop {
            self.drain();
            if all_done() {
                return Ok(());
            }
            if self.offline && deadline.is_none() {
                return Err(WouldBlock::new_err(
                    "the action cannot finish without more process(): call process(), or pass a timeout to wait for another thread's process()",
                ));
            }
            let slice = match deadline {
                None => SIGNAL_CHECK,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(PyTimeoutError::new_err("wait timed out"));
                    }
                    left.min(SIGNAL_CHECK)
                }
            };
            py.allow_threads(|| self.wait_slice(&all_done, slice));
            py.check_signals()?;
        }
    }

    /// Sleeps until a completion arrives or `slice` passes: one thread on the core's
    /// wake-up, any others on the condition variable its drains notify.
    fn wait_slice(&self, all_done: &dyn Fn() -> bool, slice: Duration) {
        let mut inner = self.lock();
        self.drain_locked(&mut inner);
        if all_done() {
            return;
        }
        if inner.leader {
            let _ = self
                .cond
                .wait_timeout(inner, slice)
                .unwrap_or_else(PoisonError::into_inner);
            return;
        }
        inner.leader = true;
        drop(inner);
        self.wakeup.wait_for(Some(slice), || {
            self.drain();
            all_done().then_some(())
        });
        self.lock().leader = false;
        self.cond.notify_all();
    }

    /// The pending actions.
    fn pending(&self) -> Vec<Arc<Cell>> {
        self.lock().pending.values().cloned().collect()
    }

    pub(crate) fn last_stats(&self) -> Option<StreamStats> {
        self.drain();
        self.lock().last_stats
    }

    /// Peak and RMS per channel since the last read, of one direction.
    pub(crate) fn meters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let mut inner = self.lock();
        if !inner.ctl.config().meters {
            return Err(PyRuntimeError::new_err(
                "this stream was opened with meters=False: it measures nothing",
            ));
        }
        for (name, direction, n) in [
            ("output", Direction::Output, self.outputs),
            ("input", Direction::Input, self.inputs),
        ] {
            let list = PyList::empty(py);
            for ch in 0..n {
                let level = inner.ctl.meter(direction, ch);
                let m = PyDict::new(py);
                if let Some(l) = level {
                    m.set_item("peak", l.peak)?;
                    m.set_item("rms", l.rms)?;
                    m.set_item("frames", l.frames)?;
                }
                list.append(m)?;
            }
            d.set_item(name, list)?;
        }
        Ok(d)
    }
}

/// The methods every stream has (`Offline`, `Mixer`, `Recorder`, `MixerAndRecorder`):
/// plays, recordings, cancels, waits, stats and meters.
#[pyclass(subclass, frozen, module = "rtmix")]
#[derive(Debug)]
pub(crate) struct Stream {
    pub(crate) control: Arc<Control>,
}

#[pymethods]
impl Stream {
    /// Frames per second.
    #[getter]
    fn samplerate(&self) -> u32 {
        self.control.samplerate
    }

    /// Output channels.
    #[getter]
    fn output_channels(&self) -> u16 {
        self.control.outputs
    }

    /// Input channels.
    #[getter]
    fn input_channels(&self) -> u16 {
        self.control.inputs
    }

    /// The frame `seconds` after frame 0, rounded to the nearest frame: what `start`
    /// takes when a time is in seconds.
    fn frame_at(&self, seconds: f64) -> PyResult<u64> {
        let f = (seconds * f64::from(self.control.samplerate)).round();
        if !(0.0..1.8e19).contains(&f) {
            return Err(PyValueError::new_err(
                "seconds must be finite and not negative",
            ));
        }
        Ok(f as u64)
    }

    /// Plays `buffer` (float32-convertible `(frames, n)`, or 1-D for mono; copied now) on
    /// output `channels` (1-based list, or an int n for 1..n).
    #[pyo3(signature = (buffer, channels, start=None, allow_belated=true, gain=1.0, fade_in=None, fade_out=None, region=None, repeat=None))]
    #[allow(clippy::too_many_arguments)]
    fn play_buffer(
        &self,
        py: Python<'_>,
        buffer: &Bound<'_, PyAny>,
        channels: &Bound<'_, PyAny>,
        start: Option<&Bound<'_, PyAny>>,
        allow_belated: bool,
        gain: f64,
        fade_in: Option<&Bound<'_, PyAny>>,
        fade_out: Option<&Bound<'_, PyAny>>,
        region: Option<(Bound<'_, PyAny>, Bound<'_, PyAny>)>,
        repeat: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Action> {
        let at = args::start(start, "start")?;
        let map = args::channels(channels, self.control.outputs, "output")?;
        let samples = args::samples(py, buffer, "buffer")?;
        if samples.channels != map.len() {
            return Err(PyValueError::new_err(format!(
                "buffer has {} columns but {} channels were given: one channel per column",
                samples.channels,
                map.len()
            )));
        }
        let region = match region {
            None => None,
            Some((a, b)) => Some((
                args::frame(&a, "region start")?,
                args::frame(&b, "region end")?,
            )),
        };
        let shape = PlayShape {
            gain: args::gain(gain, "gain")?,
            fade_in: fade_in.map_or(Ok(0), |f| args::count(f, "fade_in"))?,
            fade_out: fade_out.map_or(Ok(0), |f| args::count(f, "fade_out"))?,
            region,
            repeat: match repeat {
                None => rtmix_core::Repeat::ONCE,
                Some(r) => args::repeat(r)?,
            },
        };
        self.control
            .play(samples.data, map, at, late(allow_belated), &shape)
    }

    /// Records `frames_or_buffer` frames (an int, or a buffer whose frame count is used)
    /// from input `channels` (1-based); the samples come back in the action's
    /// `recording`.
    #[pyo3(signature = (frames_or_buffer, channels, start=None, allow_belated=true))]
    fn record_buffer(
        &self,
        py: Python<'_>,
        frames_or_buffer: &Bound<'_, PyAny>,
        channels: &Bound<'_, PyAny>,
        start: Option<&Bound<'_, PyAny>>,
        allow_belated: bool,
    ) -> PyResult<Action> {
        let at = args::start(start, "start")?;
        let map = args::channels(channels, self.control.inputs, "input")?;
        let frames = if frames_or_buffer.is_instance_of::<pyo3::types::PyInt>() {
            args::count(frames_or_buffer, "frames")?
        } else if frames_or_buffer.is_instance_of::<pyo3::types::PyFloat>() {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "frames must be an int (or a buffer of the frames to record)",
            ));
        } else {
            let s = args::samples(py, frames_or_buffer, "buffer")?;
            if s.channels != map.len() {
                return Err(PyValueError::new_err(format!(
                    "buffer has {} columns but {} channels were given",
                    s.channels,
                    map.len()
                )));
            }
            s.frames as u64
        };
        if frames == 0 {
            return Err(PyValueError::new_err(
                "a recording needs at least one frame",
            ));
        }
        let frames =
            usize::try_from(frames).map_err(|_| PyValueError::new_err("too many frames"))?;
        self.control.record(frames, map, at, late(allow_belated))
    }

    /// Plays what is written into `ring` on output `channels`, until cancelled; when
    /// the ring runs dry it plays silence, counts the frames (`stats["missing"]`) and
    /// goes on.
    #[pyo3(signature = (ring, channels, start=None, allow_belated=true, gain=1.0))]
    fn play_ringbuffer(
        &self,
        ring: &Bound<'_, RingBuffer>,
        channels: &Bound<'_, PyAny>,
        start: Option<&Bound<'_, PyAny>>,
        allow_belated: bool,
        gain: f64,
    ) -> PyResult<Action> {
        let at = args::start(start, "start")?;
        let map = args::channels(channels, self.control.outputs, "output")?;
        let ring = ring.get();
        check_ring_channels(ring, map.len())?;
        self.control.play_ring(
            ring,
            map,
            at,
            late(allow_belated),
            args::gain(gain, "gain")?,
        )
    }

    /// Records input `channels` into `ring`, until cancelled; frames that find the ring
    /// full are dropped and counted (`stats["dropped"]`).
    #[pyo3(signature = (ring, channels, start=None, allow_belated=true))]
    fn record_ringbuffer(
        &self,
        ring: &Bound<'_, RingBuffer>,
        channels: &Bound<'_, PyAny>,
        start: Option<&Bound<'_, PyAny>>,
        allow_belated: bool,
    ) -> PyResult<Action> {
        let at = args::start(start, "start")?;
        let map = args::channels(channels, self.control.inputs, "input")?;
        let ring = ring.get();
        check_ring_channels(ring, map.len())?;
        self.control.record_ring(ring, map, at, late(allow_belated))
    }

    /// Stops `action` at frame `start` (`None`: as soon as possible), fading out over
    /// `fade` frames from there.
    #[pyo3(signature = (action, start=None, fade=None))]
    fn cancel(
        &self,
        action: &Bound<'_, Action>,
        start: Option<&Bound<'_, PyAny>>,
        fade: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Action> {
        let at = args::start(start, "start")?;
        let fade = fade.map_or(Ok(0), |f| args::count(f, "fade"))?;
        self.control.cancel(action.get().cell.id, at, fade)
    }

    /// Takes and resets the stream's counters at frame `start`; the action's `stats`
    /// holds them, and so does `stats` once it is done.
    #[pyo3(signature = (start=None))]
    fn fetch_and_reset_stats(&self, start: Option<&Bound<'_, PyAny>>) -> PyResult<Action> {
        self.control.fetch_stats(args::start(start, "start")?)
    }

    /// The counters taken by the last finished `fetch_and_reset_stats` (`None` before).
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        self.control
            .last_stats()
            .map(|s| stream_stats_dict(py, &s))
            .transpose()
    }

    /// The actions submitted and not yet finished (in no particular order); they compare
    /// equal to the objects the requests returned.
    #[getter]
    fn actions(&self) -> Vec<Action> {
        self.control.drain();
        self.control
            .pending()
            .into_iter()
            .map(Action::new)
            .collect()
    }

    /// Peak, RMS and frames of each channel since the last read (`{"output": [...],
    /// "input": [...]}`); reading resets them. `RuntimeError` on a stream opened with
    /// `meters=False`.
    #[getter]
    fn meters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.control.meters(py)
    }

    /// Waits until `action` has finished (`None`: every pending action) and returns it.
    /// The engine's completion wakes it (no polling); the GIL is released meanwhile and
    /// Ctrl-C interrupts it. `timeout` in seconds raises `TimeoutError`. On `Offline`,
    /// without a timeout, an action that needs more `process()` raises `rtmix.WouldBlock`.
    #[pyo3(signature = (action=None, timeout=None))]
    fn wait(
        &self,
        py: Python<'_>,
        action: Option<Bound<'_, Action>>,
        timeout: Option<f64>,
    ) -> PyResult<Option<Py<Action>>> {
        if let Some(a) = action {
            let cell = a.get().cell.clone();
            self.control.wait_cells(py, &[cell], timeout)?;
            Ok(Some(a.unbind()))
        } else {
            let cells = self.control.pending();
            self.control.wait_cells(py, &cells, timeout)?;
            Ok(None)
        }
    }
}

fn check_ring_channels(ring: &RingBuffer, channels: usize) -> PyResult<()> {
    if ring.ends.channels == channels {
        Ok(())
    } else {
        Err(PyValueError::new_err(format!(
            "the ring has {} channels but {} channels were given",
            ring.ends.channels, channels
        )))
    }
}
