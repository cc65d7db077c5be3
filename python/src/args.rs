//! Checking and converting the Python arguments: buffers, channel lists, start frames,
//! repeats. Every refusal is a `TypeError` or `ValueError` saying what was wrong.

use numpy::{PyArrayMethods, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyString};
use rtmix_core::{At, ChannelMap, Repeat};

/// A buffer copied out of Python: interleaved samples and its frame and channel counts.
pub(crate) struct Samples {
    pub(crate) data: Vec<f32>,
    pub(crate) frames: usize,
    pub(crate) channels: usize,
}

/// Converts `obj` (anything numpy turns into float32 `(frames, n)`, or 1-D for mono) into
/// an interleaved copy. Refuses dtypes that are not numbers, more than two dimensions, and
/// NaN or infinite samples.
pub(crate) fn samples(py: Python<'_>, obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Samples> {
    let np = py.import("numpy")?;
    let arr = np.call_method1("asarray", (obj,)).map_err(|e| {
        PyTypeError::new_err(format!("{what} cannot be turned into a numpy array: {e}"))
    })?;
    let kind: String = arr.getattr("dtype")?.getattr("kind")?.extract()?;
    if !matches!(kind.as_str(), "f" | "i" | "u") {
        let dtype = arr.getattr("dtype")?.str()?.to_string();
        return Err(PyTypeError::new_err(format!(
            "{what} has dtype {dtype}: it must hold real numbers (converted to float32)"
        )));
    }
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("dtype", np.getattr("float32")?)?;
    let arr = np.call_method("ascontiguousarray", (arr,), Some(&kwargs))?;
    let arr = arr.downcast_into::<numpy::PyArrayDyn<f32>>()?;
    let shape = arr.shape().to_vec();
    let (frames, channels) = match shape.as_slice() {
        [n] => (*n, 1),
        [n, c] => (*n, *c),
        _ => {
            return Err(PyValueError::new_err(format!(
                "{what} has shape {shape:?}: it must be (frames, channels), or 1-D for mono"
            )))
        }
    };
    if channels == 0 {
        return Err(PyValueError::new_err(format!("{what} has no channels")));
    }
    let data = arr.readonly().as_slice()?.to_vec();
    if let Some(i) = data.iter().position(|s| !s.is_finite()) {
        return Err(PyValueError::new_err(format!(
            "{what} has a NaN or infinite sample at frame {}, column {}",
            i / channels,
            i % channels
        )));
    }
    Ok(Samples {
        data,
        frames,
        channels,
    })
}

/// A channel list: an int `n` (channels 1..n) or a sequence of 1-based channel numbers, each
/// at most `available`; `what` names the direction. Returns the core's 0-based map.
pub(crate) fn channels(obj: &Bound<'_, PyAny>, available: u16, what: &str) -> PyResult<ChannelMap> {
    if obj.is_instance_of::<PyBool>() || obj.is_instance_of::<PyFloat>() {
        return Err(PyTypeError::new_err(
            "channels must be an int n (channels 1..n) or a list of 1-based channel numbers",
        ));
    }
    let list: Vec<i64> = if let Ok(n) = obj.extract::<i64>() {
        if n < 1 {
            return Err(PyValueError::new_err(format!(
                "channels={n}: at least one channel is needed"
            )));
        }
        (1..=n).collect()
    } else {
        obj.extract::<Vec<i64>>().map_err(|_| {
            PyTypeError::new_err(
                "channels must be an int n (channels 1..n) or a list of 1-based channel numbers",
            )
        })?
    };
    if list.is_empty() {
        return Err(PyValueError::new_err("channels is empty"));
    }
    let mut zero_based = Vec::with_capacity(list.len());
    for &c in &list {
        if c < 1 || c > i64::from(available) {
            return Err(PyValueError::new_err(format!(
                "channel {c} does not exist: the {what} channels are 1 to {available} (1-based)"
            )));
        }
        let c = u16::try_from(c - 1).map_err(|_| PyValueError::new_err("channel out of range"))?;
        if zero_based.contains(&c) {
            return Err(PyValueError::new_err(format!(
                "channel {} is given twice",
                c + 1
            )));
        }
        zero_based.push(c);
    }
    ChannelMap::new(&zero_based).map_err(|e| PyValueError::new_err(format!("channels: {e}")))
}

/// A start: `None` (as soon as possible) or an int output frame. A float is refused,
/// pointing to `frame_at(seconds)`.
pub(crate) fn start(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<At> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(At::Asap);
    };
    frame(obj, what).map(At::Frame)
}

/// A frame number: a non-negative int (numpy ints too). Floats are refused.
pub(crate) fn frame(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<u64> {
    let is_float = obj.is_instance_of::<PyFloat>()
        || obj
            .py()
            .import("numpy")?
            .getattr("floating")
            .and_then(|f| obj.is_instance(&f))
            .unwrap_or(false);
    if is_float {
        return Err(PyTypeError::new_err(format!(
            "{what} is a frame number (an int), not seconds: for a time in seconds, pass mixer.frame_at(seconds)"
        )));
    }
    if obj.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "{what} must be an int frame number"
        )));
    }
    let n: i128 = obj
        .extract()
        .map_err(|_| PyTypeError::new_err(format!("{what} must be an int frame number")))?;
    u64::try_from(n).map_err(|_| PyValueError::new_err(format!("{what}={n}: frames count from 0")))
}

/// A count of frames (fades, `frames` of a recording): a non-negative int.
pub(crate) fn count(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<u64> {
    frame(obj, what)
}

/// `repeat`: an int (times in all) or `"forever"`.
pub(crate) fn repeat(obj: &Bound<'_, PyAny>) -> PyResult<Repeat> {
    if let Ok(s) = obj.downcast::<PyString>() {
        return if s.extract::<String>()? == "forever" {
            Ok(Repeat::Forever)
        } else {
            Err(PyValueError::new_err(
                "repeat must be an int or the string \"forever\"",
            ))
        };
    }
    if obj.is_instance_of::<PyFloat>() || obj.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(
            "repeat must be an int or the string \"forever\"",
        ));
    }
    let n: i128 = obj
        .extract()
        .map_err(|_| PyTypeError::new_err("repeat must be an int or the string \"forever\""))?;
    match u64::try_from(n) {
        Ok(n) if n >= 1 => Ok(Repeat::Times(n)),
        _ => Err(PyValueError::new_err(format!(
            "repeat={n}: it must be at least 1, or \"forever\""
        ))),
    }
}

/// A gain: a finite float.
pub(crate) fn gain(value: f64, what: &str) -> PyResult<f32> {
    let g = value as f32;
    if g.is_finite() {
        Ok(g)
    } else {
        Err(PyValueError::new_err(format!("{what} must be finite")))
    }
}
