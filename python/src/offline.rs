//! `rtmix.Offline`: the simulated device. `process(frames)` runs the engine over the next
//! frames, in whatever block sizes it is called with, on the caller's thread (GIL
//! released), reading the given input and returning the output.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use numpy::{PyArray1, PyArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rtmix_core::{StreamCapacity, StreamConfig};

use crate::control::{Control, Eng, Stream};

struct Device {
    engine: Option<Eng>,
    /// The whole input, interleaved; silence after its end.
    input: Vec<f32>,
    in_block: Vec<f32>,
}

/// The simulated device: `Offline(samplerate, output_channels, input_channels=0,
/// input=None, actions=256)`, with every method of a duplex stream, and `process(frames)`.
///
/// The concatenated output of `process` is the same, bit for bit, whatever the sizes it
/// is called with, as long as requests start at frames (not `None`) that are not yet
/// processed.
#[pyclass(extends = Stream, frozen, module = "rtmix")]
pub(crate) struct Offline {
    device: Mutex<Device>,
    clock: AtomicU64,
    control: Arc<Control>,
}

impl std::fmt::Debug for Offline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Offline")
            .field("frame", &self.clock.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Offline {
    /// Stops the engine until every action has handed back its completion, then refuses
    /// new requests.
    fn stop(&self) {
        let mut device = self.device.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(engine) = device.engine.as_mut() {
            loop {
                engine.output.stop();
                engine.input.stop();
                self.control.drain();
                if engine.output.is_idle() && engine.input.is_idle() {
                    break;
                }
            }
        }
        self.control.close();
        device.engine = None;
    }
}

impl Drop for Offline {
    fn drop(&mut self) {
        self.stop();
    }
}

#[pymethods]
impl Offline {
    #[new]
    #[pyo3(signature = (samplerate, output_channels, input_channels=0, input=None, actions=256, meters=true, protect_output=true))]
    #[allow(clippy::too_many_arguments)] // the Python signature's keyword arguments
    fn new(
        py: Python<'_>,
        samplerate: u32,
        output_channels: u16,
        input_channels: u16,
        input: Option<&Bound<'_, PyAny>>,
        actions: usize,
        meters: bool,
        protect_output: bool,
    ) -> PyResult<(Self, Stream)> {
        if samplerate == 0 {
            return Err(PyValueError::new_err("samplerate must be positive"));
        }
        let input = match input.filter(|i| !i.is_none()) {
            None => Vec::new(),
            Some(obj) => {
                let s = crate::args::samples(py, obj, "input")?;
                if s.channels != usize::from(input_channels) {
                    return Err(PyValueError::new_err(format!(
                        "input has {} columns but input_channels is {input_channels}",
                        s.channels
                    )));
                }
                s.data
            }
        };
        let capacity = StreamCapacity {
            actions,
            commands: actions,
            completions: actions,
        };
        let config = StreamConfig {
            meters,
            protect_output,
            ..StreamConfig::duplex(output_channels, input_channels)
        };
        let (ctl, engine) = rtmix_core::open(config, capacity)
            .map_err(|e| PyValueError::new_err(format!("cannot open the offline device: {e}")))?;
        let control = Arc::new(Control::new(ctl, samplerate, true));
        Ok((
            Self {
                device: Mutex::new(Device {
                    engine: Some(engine),
                    input,
                    in_block: Vec::new(),
                }),
                clock: AtomicU64::new(0),
                control: control.clone(),
            },
            Stream { control },
        ))
    }

    /// The next frame `process` will produce (frames processed so far).
    #[getter]
    fn frame(&self) -> u64 {
        self.clock.load(Ordering::Acquire)
    }

    /// The duplex offset: input frame n is captured at output frame n, exactly.
    #[getter]
    #[allow(clippy::unused_self)] // a Python property needs its object
    fn offset<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("frames", 0)?;
        d.set_item("kind", "exact")?;
        Ok(d)
    }

    /// Runs the engine over the next `frames` frames and returns the output, float32
    /// `(frames, output_channels)`.
    fn process<'py>(&self, py: Python<'py>, frames: usize) -> PyResult<Bound<'py, PyAny>> {
        let outputs = usize::from(self.control.outputs);
        let inputs = usize::from(self.control.inputs);
        let out = py.allow_threads(|| -> PyResult<Vec<f32>> {
            let mut device = self.device.lock().unwrap_or_else(PoisonError::into_inner);
            let Device {
                engine,
                input,
                in_block,
            } = &mut *device;
            let engine = engine
                .as_mut()
                .ok_or_else(|| PyValueError::new_err("the offline device is closed"))?;
            let clock = self.clock.load(Ordering::Acquire);
            in_block.clear();
            in_block.resize(frames * inputs, 0.0);
            let from = usize::try_from(clock)
                .unwrap_or(usize::MAX)
                .saturating_mul(inputs);
            if from < input.len() {
                let n = (input.len() - from).min(in_block.len());
                in_block[..n].copy_from_slice(&input[from..from + n]);
            }
            let mut out = vec![0.0f32; frames * outputs];
            engine.process(in_block, &mut out);
            self.clock.store(clock + frames as u64, Ordering::Release);
            drop(device);
            self.control.drain();
            Ok(out)
        })?;
        Ok(PyArray1::from_vec(py, out)
            .reshape([frames, outputs])?
            .into_any())
    }

    /// Stops the engine: every action still under way ends `"stopped"`, and later
    /// requests are refused. Dropping the device does the same.
    fn close(&self, py: Python<'_>) {
        py.allow_threads(|| self.stop());
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _t: Option<&Bound<'_, PyAny>>,
        _v: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) {
        self.close(py);
    }
}
