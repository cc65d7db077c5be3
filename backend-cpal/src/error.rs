//! rtmix-cpal's errors: the shared [`Error`](rtmix_backend::Error) of every backend,
//! under the name this crate has always given it, and cpal's errors turned into it.

use rtmix_backend::ErrorKind;

/// Why the backend could not do what was asked, or why a running stream ended:
/// rtmix-backend's [`Error`](rtmix_backend::Error), the same type as rtmix-alsa's
/// `AlsaError`.
///
/// ```
/// use rtmix_cpal::{CpalError, ErrorKind};
/// let e = CpalError::NoSuchDevice {
///     host: "ALSA".into(),
///     device: "hw:9".into(),
///     available: vec!["default".into(), "null".into()],
/// };
/// assert!(e.to_string().contains("hw:9"));
/// assert!(e.to_string().contains("null"));
/// assert_eq!(e.kind(), ErrorKind::NotFound);
/// ```
pub type CpalError = rtmix_backend::Error;

/// The shared kind of a cpal error kind.
pub(crate) fn kind(kind: cpal::ErrorKind) -> ErrorKind {
    match kind {
        cpal::ErrorKind::DeviceBusy => ErrorKind::Busy,
        cpal::ErrorKind::DeviceNotAvailable | cpal::ErrorKind::StreamInvalidated => {
            ErrorKind::DeviceGone
        }
        cpal::ErrorKind::HostUnavailable => ErrorKind::HostUnavailable,
        cpal::ErrorKind::InvalidInput
        | cpal::ErrorKind::UnsupportedConfig
        | cpal::ErrorKind::UnsupportedOperation => ErrorKind::Unsupported,
        cpal::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
        cpal::ErrorKind::Xrun => ErrorKind::Xrun,
        _ => ErrorKind::Other,
    }
}

/// cpal could not build or start a stream.
pub(crate) fn build(e: &cpal::Error) -> CpalError {
    CpalError::Build {
        kind: kind(e.kind()),
        message: e.to_string(),
    }
}

/// A running stream's host reported `e`.
pub(crate) fn stream(e: &cpal::Error) -> CpalError {
    CpalError::Stream {
        kind: kind(e.kind()),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::stream;
    use rtmix_backend::ErrorKind;

    /// The errors that end a stream are exactly those of a device that is gone.
    #[test]
    fn a_lost_or_invalidated_device_ends_the_stream_and_nothing_else_does() {
        let fatal = |k| stream(&cpal::Error::from(k)).is_device_gone();
        assert!(fatal(cpal::ErrorKind::DeviceNotAvailable));
        assert!(fatal(cpal::ErrorKind::StreamInvalidated));
        for k in [
            cpal::ErrorKind::Xrun,
            cpal::ErrorKind::DeviceBusy,
            cpal::ErrorKind::BackendError,
        ] {
            assert!(!fatal(k), "{k:?}");
        }
        assert_eq!(
            stream(&cpal::ErrorKind::Xrun.into()).kind(),
            ErrorKind::Xrun
        );
    }
}
