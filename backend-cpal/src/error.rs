//! Typed errors of the cpal backend.

use std::fmt;

pub use cpal::ErrorKind;

/// Why the backend could not do what was asked, or why a running stream ended.
///
/// ```
/// use rtmix_cpal::CpalError;
/// let e = CpalError::NoSuchDevice {
///     host: "ALSA".into(),
///     device: "hw:9".into(),
///     available: vec!["default".into(), "null".into()],
/// };
/// assert!(e.to_string().contains("hw:9"));
/// assert!(e.to_string().contains("null"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CpalError {
    /// No cpal host of that name is compiled in or available (the JACK host needs this
    /// crate's `jack` feature).
    NoSuchHost {
        /// The name asked for.
        host: String,
        /// The hosts there are.
        available: Vec<String>,
    },
    /// The host has no device of that name or id.
    NoSuchDevice {
        /// The host's name.
        host: String,
        /// The name asked for.
        device: String,
        /// The names of the devices the host lists for that direction.
        available: Vec<String>,
    },
    /// The device refused part of the configuration.
    Unsupported {
        /// What it refused.
        what: &'static str,
        /// cpal's or rtmix's explanation.
        message: String,
    },
    /// cpal could not build or start the stream.
    Build {
        /// cpal's classification.
        kind: ErrorKind,
        /// cpal's message.
        message: String,
    },
    /// A running stream failed: the device disappeared (`DeviceNotAvailable`), the stream
    /// must be rebuilt (`StreamInvalidated`), or the host reported another error. A fatal
    /// one ends the stream; everything pending completes with `EndReason::StreamStopped`.
    Stream {
        /// cpal's classification.
        kind: ErrorKind,
        /// cpal's message.
        message: String,
    },
    /// A running stream's callbacks stopped coming for longer than
    /// [`RunControl::device_timeout`](crate::RunControl::device_timeout) (and at least two
    /// buffers' time), without the host reporting anything: the device or its sound server
    /// is gone (a JACK server killed under ALSA's `jack` plugin, say). The stream was ended;
    /// everything pending completed with `EndReason::StreamStopped`.
    NotResponding {
        /// How long no callback had come, in milliseconds.
        waited_ms: u64,
    },
    /// The supervising thread could not be started, or ended by panicking.
    Thread,
}

impl CpalError {
    pub(crate) fn build(e: &cpal::Error) -> Self {
        CpalError::Build {
            kind: e.kind(),
            message: e.to_string(),
        }
    }

    pub(crate) fn stream(e: &cpal::Error) -> Self {
        CpalError::Stream {
            kind: e.kind(),
            message: e.to_string(),
        }
    }

    /// Whether a stream error ends the stream (the device is gone or the stream must be
    /// rebuilt), rather than being reported while it goes on.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            CpalError::Stream {
                kind: ErrorKind::DeviceNotAvailable | ErrorKind::StreamInvalidated,
                ..
            } | CpalError::NotResponding { .. }
        )
    }
}

impl fmt::Display for CpalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CpalError::NoSuchHost { host, available } => write!(
                f,
                "no cpal host {host:?} (available: {}; JACK needs the `jack` feature)",
                available.join(", ")
            ),
            CpalError::NoSuchDevice {
                host,
                device,
                available,
            } => write!(
                f,
                "the {host} host has no device {device:?} (it lists: {})",
                available.join(", ")
            ),
            CpalError::Unsupported { what, message } => {
                write!(f, "the device refused the {what}: {message}")
            }
            CpalError::Build { kind, message } => {
                write!(f, "cpal could not build the stream ({kind:?}): {message}")
            }
            CpalError::Stream { kind, message } => {
                write!(f, "the stream failed ({kind:?}): {message}")
            }
            CpalError::NotResponding { waited_ms } => write!(
                f,
                "no audio callback came for {waited_ms} ms: the device is gone or its server stopped"
            ),
            CpalError::Thread => f.write_str("the supervising thread failed"),
        }
    }
}

impl std::error::Error for CpalError {}
