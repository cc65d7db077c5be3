//! rtmix for Python: the `rtmix` extension module (the crate is `rtmix_python`, so that
//! its documentation does not collide with the `rtmix` program's).
//!
//! The Python objects wrap an `rtmix-core` stream: a [`Controller`](rtmix_core::Controller)
//! behind a lock on the control side (`src/control.rs`), and its engine in
//! `Offline` (`src/offline.rs`, run by `process()`: the simulated device) or on a
//! backend's audio thread (`src/device.rs`: rtmix-alsa or rtmix-cpal). Every buffer
//! is copied into the core at the call, with the GIL held; the engine never touches a
//! Python object.

use pyo3::prelude::*;

mod actions;
mod args;
mod control;
mod device;
mod exceptions;
mod offline;
mod ring;
mod session;
#[cfg(test)]
mod tests;

/// The `rtmix` module.
#[pymodule]
#[pyo3(name = "rtmix")]
fn rtmix_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("QueueFull", py.get_type::<exceptions::QueueFull>())?;
    m.add("DeviceError", py.get_type::<exceptions::DeviceError>())?;
    m.add("WouldBlock", py.get_type::<exceptions::WouldBlock>())?;
    m.add_class::<control::Stream>()?;
    m.add_class::<offline::Offline>()?;
    m.add_class::<actions::Action>()?;
    m.add_class::<ring::RingBuffer>()?;
    device::register(m)?;
    m.add_function(wrap_pyfunction!(session::render, m)?)?;
    m.add_function(wrap_pyfunction!(session::query_devices, m)?)?;
    Ok(())
}
