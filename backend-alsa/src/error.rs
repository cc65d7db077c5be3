//! Typed errors of the ALSA backend.

use std::fmt;

/// Why the backend could not do what was asked.
///
/// ```
/// use rtmix_alsa::AlsaError;
/// let e = AlsaError::Open { device: "hw:9".into(), errno: 2 };
/// assert!(e.to_string().contains("hw:9"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AlsaError {
    /// The device could not be opened: missing (`ENOENT`, `ENODEV`), busy (`EBUSY`) or
    /// refused.
    Open {
        /// The name asked for.
        device: String,
        /// The error number alsa-lib gave.
        errno: i32,
    },
    /// The device refused part of the configuration.
    Unsupported {
        /// What it refused.
        what: &'static str,
        /// The error number alsa-lib gave.
        errno: i32,
    },
    /// A transfer failed in a way recovery could not fix (the device disappeared, say).
    Io {
        /// The alsa-lib function that failed.
        function: &'static str,
        /// The error number.
        errno: i32,
    },
    /// A running device moved no frames for longer than
    /// [`RunControl::device_timeout`](crate::RunControl::device_timeout), without an error
    /// of its own: it is gone (a sound server that died, a device unplugged behind a
    /// plugin). The loop ended; everything pending completed with `StreamStopped`.
    NotResponding {
        /// How long it had been silent.
        waited_ms: u64,
    },
    /// The audio thread could not be started (`EAGAIN`: a thread limit such as
    /// `RLIMIT_NPROC`, or no memory for its stack). Everything the engine held has
    /// completed with `StreamStopped`.
    Spawn {
        /// The error number of the thread's creation.
        errno: i32,
    },
    /// The audio thread panicked (a `SampleSource` or `SampleSink` that panics, say).
    /// Everything its engine held has completed with `StreamStopped`, a recording handing
    /// back what it captured.
    Panicked {
        /// The panic's message, when it had one.
        message: String,
    },
}

impl AlsaError {
    /// True when the device itself is gone: it disappeared (`ENODEV`), was closed under
    /// the stream (`EBADFD`, `ENOTTY`, `EIO`), or stopped responding.
    pub fn is_device_gone(&self) -> bool {
        match self {
            AlsaError::Io { errno, .. } => {
                matches!(
                    errno.abs(),
                    libc::ENODEV | libc::EBADFD | libc::ENOTTY | libc::EIO
                )
            }
            AlsaError::NotResponding { .. } => true,
            _ => false,
        }
    }

    pub(crate) fn io(e: &alsa::Error) -> Self {
        AlsaError::Io {
            function: e.func(),
            errno: e.errno(),
        }
    }
}

impl fmt::Display for AlsaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AlsaError::Open { device, errno } => {
                write!(f, "cannot open ALSA device {device:?} (errno {errno})")
            }
            AlsaError::Unsupported { what, errno } => {
                write!(f, "the device refused the {what} (errno {errno})")
            }
            AlsaError::Io { function, errno } => {
                write!(f, "ALSA {function} failed (errno {errno})")
            }
            AlsaError::NotResponding { waited_ms } => write!(
                f,
                "the device moved no audio for {waited_ms} ms: it is gone or its server stopped"
            ),
            AlsaError::Spawn { errno } => {
                write!(f, "the audio thread could not be started (errno {errno})")
            }
            AlsaError::Panicked { message } => {
                write!(f, "the audio thread panicked: {message}")
            }
        }
    }
}

impl std::error::Error for AlsaError {}
