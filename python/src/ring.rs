//! `rtmix.RingBuffer`: a lock-free single-producer single-consumer ring of float32 frames
//! (an `rtrb` ring) whose one end an action takes while it plays or records.
//!
//! The audio side holds its end alone, without a lock; the `Mutex` here only guards the
//! Python side's ends against two Python threads and is never touched by the engine.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use numpy::{PyArray1, PyArrayMethods, PyReadwriteArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use rtrb::{Consumer, Producer};

/// The two ends of a ring, each here while no action holds it.
#[derive(Debug)]
pub(crate) struct RingEnds {
    pub(crate) channels: usize,
    producer: Mutex<Option<Producer<f32>>>,
    consumer: Mutex<Option<Consumer<f32>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl RingEnds {
    /// Takes the reading end for a play.
    pub(crate) fn take_consumer(&self) -> PyResult<Consumer<f32>> {
        lock(&self.consumer).take().ok_or_else(|| {
            PyValueError::new_err("this ring's reading end is in use by another action")
        })
    }

    /// Takes the writing end for a recording.
    pub(crate) fn take_producer(&self) -> PyResult<Producer<f32>> {
        lock(&self.producer).take().ok_or_else(|| {
            PyValueError::new_err("this ring's writing end is in use by another action")
        })
    }

    pub(crate) fn give_back_consumer(&self, c: Consumer<f32>) {
        *lock(&self.consumer) = Some(c);
    }

    pub(crate) fn give_back_producer(&self, p: Producer<f32>) {
        *lock(&self.producer) = Some(p);
    }
}

/// A lock-free ring of `frames` frames of `channels` float32 samples.
///
/// Write with `write(array)` and play it with `play_ringbuffer`, or record into it with
/// `record_ringbuffer` and read with `read(frames)` / `readinto(array)`.
/// `read_available` and `write_available` count frames.
#[pyclass(frozen, module = "rtmix")]
#[derive(Debug)]
pub(crate) struct RingBuffer {
    pub(crate) ends: Arc<RingEnds>,
    frames: usize,
}

impl RingBuffer {
    fn producer(&self) -> PyResult<MutexGuard<'_, Option<Producer<f32>>>> {
        let guard = lock(&self.ends.producer);
        if guard.is_none() {
            return Err(PyValueError::new_err(
                "a recording writes into this ring: read from it instead",
            ));
        }
        Ok(guard)
    }

    fn consumer(&self) -> PyResult<MutexGuard<'_, Option<Consumer<f32>>>> {
        let guard = lock(&self.ends.consumer);
        if guard.is_none() {
            return Err(PyValueError::new_err(
                "a play reads from this ring: write to it instead",
            ));
        }
        Ok(guard)
    }
}

/// Reads `frames` whole frames from `c` into `out` (which holds at least that many).
fn read_frames(c: &mut Consumer<f32>, out: &mut [f32]) -> usize {
    let n = out.len();
    let Ok(chunk) = c.read_chunk(n) else {
        return 0;
    };
    let (a, b) = chunk.as_slices();
    out[..a.len()].copy_from_slice(a);
    out[a.len()..n].copy_from_slice(b);
    chunk.commit_all();
    n
}

#[pymethods]
impl RingBuffer {
    /// A ring of `frames` frames of `channels` channels.
    #[new]
    fn new(channels: usize, frames: usize) -> PyResult<Self> {
        if channels == 0 || frames == 0 {
            return Err(PyValueError::new_err(
                "a ring needs at least one channel and one frame",
            ));
        }
        let samples = channels
            .checked_mul(frames)
            .ok_or_else(|| PyValueError::new_err("ring too large"))?;
        let (p, c) = rtrb::RingBuffer::new(samples);
        Ok(Self {
            ends: Arc::new(RingEnds {
                channels,
                producer: Mutex::new(Some(p)),
                consumer: Mutex::new(Some(c)),
            }),
            frames,
        })
    }

    /// Channels per frame.
    #[getter]
    fn channels(&self) -> usize {
        self.ends.channels
    }

    /// Capacity in frames.
    #[getter]
    fn frames(&self) -> usize {
        self.frames
    }

    /// Frames that `read` would return now.
    #[getter]
    fn read_available(&self) -> PyResult<usize> {
        Ok(self.consumer()?.as_ref().map_or(0, Consumer::slots) / self.ends.channels)
    }

    /// Frames that `write` would take now.
    #[getter]
    fn write_available(&self) -> PyResult<usize> {
        Ok(self.producer()?.as_ref().map_or(0, Producer::slots) / self.ends.channels)
    }

    /// Writes as many whole frames of `data` (float32-convertible `(frames, channels)`, or
    /// 1-D for one channel) as fit, and returns how many.
    fn write(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<usize> {
        let s = crate::args::samples(py, data, "data")?;
        if s.channels != self.ends.channels {
            return Err(PyValueError::new_err(format!(
                "data has {} channels, the ring {}",
                s.channels, self.ends.channels
            )));
        }
        let mut guard = self.producer()?;
        let Some(p) = guard.as_mut() else {
            return Ok(0);
        };
        let frames = (p.slots() / s.channels).min(s.frames);
        Ok(rtmix_core_write(p, &s.data[..frames * s.channels]) / s.channels)
    }

    /// Reads up to `frames` frames (all available if `None`) as float32
    /// `(frames, channels)`.
    #[pyo3(signature = (frames=None))]
    fn read<'py>(&self, py: Python<'py>, frames: Option<usize>) -> PyResult<Bound<'py, PyAny>> {
        let ch = self.ends.channels;
        let mut guard = self.consumer()?;
        let Some(c) = guard.as_mut() else {
            return Err(PyValueError::new_err("no reading end"));
        };
        let have = c.slots() / ch;
        let n = frames.map_or(have, |f| f.min(have));
        let mut out = vec![0.0f32; n * ch];
        read_frames(c, &mut out);
        drop(guard);
        Ok(PyArray1::from_vec(py, out).reshape([n, ch])?.into_any())
    }

    /// Reads into `array` (float32, C-contiguous, `(frames, channels)` or 1-D for one
    /// channel) as many frames as are available and fit; returns how many.
    fn readinto(&self, array: &Bound<'_, PyAny>) -> PyResult<usize> {
        let ch = self.ends.channels;
        let mut rw: PyReadwriteArrayDyn<'_, f32> = array
            .downcast::<numpy::PyArrayDyn<f32>>()
            .map_err(|_| PyTypeError::new_err("readinto needs a float32 numpy array"))?
            .try_readwrite()
            .map_err(|_| PyValueError::new_err("the array is borrowed elsewhere"))?;
        let shape = rw.shape().to_vec();
        let ok = match shape.as_slice() {
            [_] => ch == 1,
            [_, c] => *c == ch,
            _ => false,
        };
        if !ok {
            return Err(PyValueError::new_err(format!(
                "readinto needs shape (frames, {ch}), got {shape:?}"
            )));
        }
        let out = rw
            .as_slice_mut()
            .map_err(|_| PyValueError::new_err("readinto needs a C-contiguous array"))?;
        let mut guard = self.consumer()?;
        let Some(c) = guard.as_mut() else {
            return Ok(0);
        };
        let n = (c.slots() / ch).min(out.len() / ch);
        Ok(read_frames(c, &mut out[..n * ch]) / ch)
    }

    fn __repr__(&self) -> String {
        format!(
            "<rtmix.RingBuffer channels={} frames={}>",
            self.ends.channels, self.frames
        )
    }
}

/// Copies `samples` (which fit) into the ring.
fn rtmix_core_write(p: &mut Producer<f32>, samples: &[f32]) -> usize {
    let n = samples.len().min(p.slots());
    let Ok(mut chunk) = p.write_chunk(n) else {
        return 0;
    };
    let (a, b) = chunk.as_mut_slices();
    let split = a.len();
    a.copy_from_slice(&samples[..split]);
    b.copy_from_slice(&samples[split..n]);
    chunk.commit_all();
    n
}
