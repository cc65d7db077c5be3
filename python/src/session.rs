//! `rtmix.render(session_path)` and `rtmix.query_devices()`: the `rtmix` program's
//! offline render and device listing (cli/src/render.rs, cli/src/devices.rs), from Python.

use std::path::PathBuf;

use numpy::{PyArray1, PyArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rtmix_cli::blocks::Blocks;

/// Renders the session file at `session_path` (docs/session-format.md) on the simulated
/// device, in blocks of `blocks` frames, and returns its output, float32
/// `(frames, channels)`: the samples `rtmix render` writes. Recordings in the session
/// record from `input` (a sound file), or silence.
#[pyfunction]
#[pyo3(signature = (session_path, blocks=1024, input=None))]
#[allow(clippy::needless_pass_by_value)] // pyo3 hands the converted arguments over by value
pub(crate) fn render(
    py: Python<'_>,
    session_path: PathBuf,
    blocks: usize,
    input: Option<PathBuf>,
) -> PyResult<Bound<'_, PyAny>> {
    if blocks == 0 {
        return Err(PyValueError::new_err("blocks must be at least 1"));
    }
    let (samples, channels) = py
        .allow_threads(|| -> Result<(Vec<f32>, usize), rtmix_cli::error::Error> {
            let session = rtmix_cli::session::load(&session_path)?;
            let dir = session_path.parent().map(PathBuf::from).unwrap_or_default();
            let plan = rtmix_cli::plan::plan(session, input.as_deref(), &dir)?;
            let channels = usize::from(plan.session.channels);
            let mut out: Vec<f32> = Vec::new();
            rtmix_cli::render::render(&plan, Blocks::Fixed(blocks), &mut out, &mut |_, _| {})?;
            Ok((out, channels))
        })
        .map_err(|e| PyValueError::new_err(format!("{e}")))?;
    let frames = samples.len() / channels.max(1);
    Ok(PyArray1::from_vec(py, samples)
        .reshape([frames, channels])?
        .into_any())
}

/// The audio devices, as `rtmix devices` lists them: one dict per device, with `index`,
/// `name`, `backend`, `host`, `description`, `max_input_channels`,
/// `max_output_channels`, `default_samplerate`, `samplerates`, `default_input` and
/// `default_output`.
#[pyfunction]
pub(crate) fn query_devices(py: Python<'_>) -> PyResult<Vec<Bound<'_, PyDict>>> {
    let listing = py.allow_threads(|| rtmix_cli::devices::probe(None));
    listing
        .devices
        .iter()
        .map(|d| {
            let dict = PyDict::new(py);
            dict.set_item("index", d.index)?;
            dict.set_item("name", &d.name)?;
            dict.set_item("backend", d.backend)?;
            dict.set_item("host", d.host.as_deref())?;
            dict.set_item("description", d.description.as_deref())?;
            dict.set_item("max_input_channels", d.input_channels)?;
            dict.set_item("max_output_channels", d.output_channels)?;
            dict.set_item("default_samplerate", d.default_rate)?;
            dict.set_item("samplerates", d.rates.clone())?;
            dict.set_item("default_input", d.default_input)?;
            dict.set_item("default_output", d.default_output)?;
            Ok(dict)
        })
        .collect()
}
