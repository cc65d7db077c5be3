//! The typed Python exceptions, and the mapping of the core's refusals onto them.

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::PyErr;

create_exception!(
    rtmix,
    QueueFull,
    PyException,
    "The stream's action slots or command queue are full: nothing was submitted, try again after an action completes."
);
create_exception!(
    rtmix,
    DeviceError,
    PyException,
    "A device could not be opened, or failed."
);
create_exception!(
    rtmix,
    WouldBlock,
    PyRuntimeError,
    "`Offline.wait` for an action that cannot finish without more `process()`."
);

/// The Python exception for a request the core refused.
pub(crate) fn refused(e: &rtmix_core::Error) -> PyErr {
    use rtmix_core::Error as E;
    match e {
        E::Capacity { .. } | E::QueueFull | E::StatsBusy { .. } => {
            QueueFull::new_err(format!("not submitted: {e}"))
        }
        E::NoSuchDirection | E::WrongDirection => PyTypeError::new_err(format!("{e}")),
        _ => PyValueError::new_err(format!("{e}")),
    }
}
