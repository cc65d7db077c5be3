//! rtmix-alsa's errors: the shared [`Error`](rtmix_backend::Error) of every backend,
//! under the name this crate has always given it, and alsa-lib's errors turned into it.

/// Why the backend could not do what was asked: rtmix-backend's [`Error`](rtmix_backend::Error),
/// the same type as rtmix-cpal's `CpalError`.
///
/// ```
/// use rtmix_alsa::{AlsaError, ErrorKind};
/// let e = AlsaError::Open { device: "hw:9".into(), errno: -2 };
/// assert!(e.to_string().contains("hw:9"));
/// assert_eq!(e.kind(), ErrorKind::NotFound);
/// ```
pub type AlsaError = rtmix_backend::Error;

/// A failed alsa-lib call of a running transfer.
pub(crate) fn io(e: &alsa::Error) -> AlsaError {
    AlsaError::Io {
        function: e.func(),
        errno: e.errno(),
    }
}

/// A configuration alsa-lib refused.
pub(crate) fn unsupported(what: &'static str, e: &alsa::Error) -> AlsaError {
    AlsaError::Unsupported {
        what,
        message: format!("{} (errno {})", e, e.errno()),
    }
}

#[cfg(test)]
mod tests {
    use super::AlsaError;
    use rtmix_backend::ErrorKind;

    /// The shared crate sorts errors by Linux's error numbers without libc: they are
    /// libc's.
    #[test]
    fn error_kinds_follow_libc_error_numbers() {
        let open = |errno: i32| {
            AlsaError::Open {
                device: "x".into(),
                errno: -errno,
            }
            .kind()
        };
        assert_eq!(open(libc::EBUSY), ErrorKind::Busy);
        assert_eq!(open(libc::EACCES), ErrorKind::PermissionDenied);
        assert_eq!(open(libc::EPERM), ErrorKind::PermissionDenied);
        assert_eq!(open(libc::ENOENT), ErrorKind::NotFound);
        assert_eq!(open(libc::ENODEV), ErrorKind::NotFound);
        assert_eq!(open(libc::ENXIO), ErrorKind::NotFound);
        for errno in [libc::ENODEV, libc::EBADFD, libc::ENOTTY, libc::EIO] {
            let e = AlsaError::Io {
                function: "snd_pcm_mmap_begin",
                errno: -errno,
            };
            assert!(e.is_device_gone(), "{e:?}");
        }
        let other = AlsaError::Io {
            function: "snd_pcm_mmap_begin",
            errno: -libc::EINVAL,
        };
        assert!(!other.is_device_gone());
    }
}
