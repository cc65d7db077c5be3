//! One error type for every backend, with a kind a caller can act on.
//!
//! The variants say what happened in the backend's own terms (an ALSA error number, a
//! cpal message); [`Error::kind`] sorts them into the few [`ErrorKind`]s an application
//! handles the same way whatever the backend: a device that is not there, busy or
//! forbidden, a configuration it refuses, a device lost while running, a thread that
//! could not run.

use std::fmt;

// The error numbers of Linux (the same on every Linux architecture) that the kinds are
// sorted by. This crate needs no libc for eight constants; they are checked against
// libc's in rtmix-alsa's tests.
const ENOENT: i32 = 2;
const EIO: i32 = 5;
const ENXIO: i32 = 6;
const EACCES: i32 = 13;
const EPERM: i32 = 1;
const EBUSY: i32 = 16;
const ENODEV: i32 = 19;
const ENOTTY: i32 = 25;
const EBADFD: i32 = 77;

/// What kind of failure an [`Error`] is: the same on every backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No such host or device.
    NotFound,
    /// The host is there but not running (a sound server that is down).
    HostUnavailable,
    /// The device is in use by another program.
    Busy,
    /// The system refused access to the device.
    PermissionDenied,
    /// The device refused part of the configuration (rate, channels, format, period),
    /// or the engine and the device disagree on the channel count.
    Unsupported,
    /// A running stream lost its device: it disappeared, stopped responding, or its
    /// stream must be rebuilt. Open it again (or another one) to go on.
    DeviceGone,
    /// An underrun or overrun the host reported (counted; the stream goes on).
    Xrun,
    /// The audio or supervising thread could not be started, or panicked.
    Thread,
    /// Anything else the host reported.
    Other,
}

/// Why a backend could not do what was asked, or why a running stream ended.
///
/// ```
/// use rtmix_backend::{Error, ErrorKind};
/// let e = Error::Open { device: "hw:9".into(), errno: -16 };
/// assert_eq!(e.kind(), ErrorKind::Busy);
/// assert!(e.to_string().contains("hw:9"));
/// let lost = Error::NotResponding { waited_ms: 2000 };
/// assert!(lost.is_device_gone());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// No host of that name is compiled in or available (rtmix-cpal's JACK host needs its
    /// `jack` feature; rtmix-alsa's only host is `"ALSA"`).
    NoSuchHost {
        /// The name asked for.
        host: String,
        /// The hosts there are.
        available: Vec<String>,
    },
    /// The host lists no device of that name (rtmix-cpal).
    NoSuchDevice {
        /// The host's name.
        host: String,
        /// The name asked for.
        device: String,
        /// The names of the devices the host lists for that direction.
        available: Vec<String>,
    },
    /// The device could not be opened (rtmix-alsa): missing (`ENOENT`, `ENODEV`,
    /// `ENXIO`), busy (`EBUSY`), forbidden (`EACCES`) or refused otherwise.
    Open {
        /// The name asked for.
        device: String,
        /// The error number the host gave (alsa-lib's are negative).
        errno: i32,
    },
    /// The device refused part of the configuration.
    Unsupported {
        /// What it refused: `"rate"`, `"channel count"`, `"sample format"`, `"period"`,
        /// `"periods"`, `"access"`...
        what: &'static str,
        /// The host's explanation (and its error number, if it gave one).
        message: String,
    },
    /// The engine half handed to the stream has another channel count than the device
    /// was opened with ([`Config::channels`](crate::Config::channels)). Nothing ran; the
    /// engine's actions completed with `StreamStopped`.
    ChannelMismatch {
        /// The engine half's channels.
        engine: u16,
        /// The device's channels, as granted.
        device: u16,
    },
    /// The host could not build or start the stream (rtmix-cpal).
    Build {
        /// The kind of the host's error.
        kind: ErrorKind,
        /// The host's message.
        message: String,
    },
    /// A running stream's host reported an error: fatal when its kind is
    /// [`ErrorKind::DeviceGone`] (the stream ended; everything pending completed with
    /// `EndReason::StreamStopped`), else kept in the report while the stream goes on.
    Stream {
        /// The kind of the host's error.
        kind: ErrorKind,
        /// The host's message.
        message: String,
    },
    /// A transfer failed in a way recovery could not fix (rtmix-alsa: the device
    /// disappeared, say).
    Io {
        /// The host function that failed.
        function: &'static str,
        /// The error number.
        errno: i32,
    },
    /// A running stream moved no frames for longer than
    /// [`RunControl::device_timeout`](crate::RunControl::device_timeout), without an
    /// error of its own: the device or its sound server is gone (a JACK server killed
    /// under ALSA's `jack` plugin, say). The stream ended; everything pending completed
    /// with `StreamStopped`.
    NotResponding {
        /// How long it had been silent, in milliseconds.
        waited_ms: u64,
    },
    /// The audio (or supervising) thread could not be started (`EAGAIN`: a thread limit
    /// such as `RLIMIT_NPROC`, or no memory for its stack). Everything the engine held
    /// has completed with `StreamStopped`.
    Spawn {
        /// The error number of the thread's creation (0 if the system gave none).
        errno: i32,
    },
    /// The audio (or supervising) thread panicked (a `SampleSource` or `SampleSink` that
    /// panics, say). Everything its engine held has completed with `StreamStopped`, a
    /// recording handing back what it captured.
    Panicked {
        /// The panic's message, when it had one.
        message: String,
    },
}

impl Error {
    /// The kind of failure, the same on every backend.
    ///
    /// ```
    /// use rtmix_backend::{Error, ErrorKind};
    /// let refused = Error::Unsupported { what: "rate", message: "44100 only".into() };
    /// assert_eq!(refused.kind(), ErrorKind::Unsupported);
    /// assert_eq!(Error::ChannelMismatch { engine: 2, device: 1 }.kind(), ErrorKind::Unsupported);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NoSuchHost { .. } | Error::NoSuchDevice { .. } => ErrorKind::NotFound,
            Error::Open { errno, .. } => match errno.abs() {
                EBUSY => ErrorKind::Busy,
                EACCES | EPERM => ErrorKind::PermissionDenied,
                ENOENT | ENODEV | ENXIO => ErrorKind::NotFound,
                _ => ErrorKind::Other,
            },
            Error::Unsupported { .. } | Error::ChannelMismatch { .. } => ErrorKind::Unsupported,
            Error::Build { kind, .. } | Error::Stream { kind, .. } => *kind,
            Error::Io { errno, .. } => match errno.abs() {
                ENODEV | EBADFD | ENOTTY | EIO => ErrorKind::DeviceGone,
                _ => ErrorKind::Other,
            },
            Error::NotResponding { .. } => ErrorKind::DeviceGone,
            Error::Spawn { .. } | Error::Panicked { .. } => ErrorKind::Thread,
        }
    }

    /// True when a running stream ended because its device is gone: it disappeared
    /// (`ENODEV`), was closed under the stream (`EBADFD`, `ENOTTY`, `EIO`), stopped
    /// responding, or the host said it is not available or the stream invalid. Open the
    /// device again (or another one) to go on.
    pub fn is_device_gone(&self) -> bool {
        matches!(
            self,
            Error::Io { .. } | Error::NotResponding { .. } | Error::Stream { .. }
        ) && self.kind() == ErrorKind::DeviceGone
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoSuchHost { host, available } => write!(
                f,
                "no host {host:?} (available: {}; cpal's JACK needs the `jack` feature)",
                available.join(", ")
            ),
            Error::NoSuchDevice {
                host,
                device,
                available,
            } => write!(
                f,
                "the {host} host has no device {device:?} (it lists: {})",
                available.join(", ")
            ),
            Error::Open { device, errno } => {
                write!(f, "cannot open device {device:?} (errno {errno})")
            }
            Error::Unsupported { what, message } => {
                write!(f, "the device refused the {what}: {message}")
            }
            Error::ChannelMismatch { engine, device } => write!(
                f,
                "the engine has {engine} channel(s) but the device was opened with {device}"
            ),
            Error::Build { kind, message } => {
                write!(f, "could not build the stream ({kind:?}): {message}")
            }
            Error::Stream { kind, message } => {
                write!(f, "the stream failed ({kind:?}): {message}")
            }
            Error::Io { function, errno } => write!(f, "{function} failed (errno {errno})"),
            Error::NotResponding { waited_ms } => write!(
                f,
                "the device moved no audio for {waited_ms} ms: it is gone or its server stopped"
            ),
            Error::Spawn { errno } => {
                write!(f, "the audio thread could not be started (errno {errno})")
            }
            Error::Panicked { message } => write!(f, "the audio thread panicked: {message}"),
        }
    }
}

impl std::error::Error for Error {}
