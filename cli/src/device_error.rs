//! What a backend's error means to a user: rtmix-alsa and rtmix-cpal share one error type
//! ([`rtmix_backend::Error`]), turned here into this program's typed [`Error`]s (exit
//! code 2 for a device that is missing, busy, refused or whose server is down).

use crate::error::Error;

/// A backend's error as this program's error: a missing device, a server that is down
/// (a JACK PCM or host without its server), a refused configuration.
pub fn device_error(
    backend: &'static str,
    device: &str,
    e: &rtmix_backend::Error,
    channels: u16,
    rate: u32,
) -> Error {
    use rtmix_backend::{Error as E, ErrorKind};
    let device = device.to_owned();
    match e {
        E::Open { .. } if e.kind() != ErrorKind::Busy && is_jack_pcm(&device) => {
            Error::ServerDown { backend, device }
        }
        E::Build { message, .. } if message.to_lowercase().contains("jack") => {
            Error::ServerDown { backend, device }
        }
        E::Open { errno, .. } => {
            let why = match e.kind() {
                ErrorKind::Busy => "it is busy (another program has it open)".to_owned(),
                ErrorKind::NotFound => "no such device or PCM".to_owned(),
                ErrorKind::PermissionDenied => {
                    "permission denied (is the user in the `audio` group?)".to_owned()
                }
                _ => format!(
                    "it cannot be opened ({})",
                    std::io::Error::from_raw_os_error(errno.abs())
                ),
            };
            Error::NoDevice {
                backend,
                device,
                message: format!(
                    "{why} (errno {}); `rtmix devices` lists the PCMs of the ALSA configuration",
                    errno.abs()
                ),
            }
        }
        E::NoSuchHost { .. } | E::NoSuchDevice { .. } | E::Build { .. } => Error::NoDevice {
            backend,
            device,
            message: format!("{e}; `rtmix devices` lists them"),
        },
        E::Unsupported { what, message } => Error::Unsupported {
            backend,
            device,
            what: match *what {
                "rate" => format!("{rate} Hz"),
                "channel count" => format!(
                    "{channels} channel{}",
                    crate::session::plural(channels.into())
                ),
                other => format!("the {other} asked"),
            },
            message: format!("{message}; `rtmix devices` shows what it takes"),
        },
        other => Error::DeviceFailed(other.to_string()),
    }
}

/// Whether `device` is a PCM of the ALSA configuration of type `jack`.
fn is_jack_pcm(device: &str) -> bool {
    #[cfg(target_os = "linux")]
    return crate::devices::alsa_tree::alsa_pcm_type(device).as_deref() == Some("jack");
    #[cfg(not(target_os = "linux"))]
    return false;
}

#[cfg(test)]
mod tests {
    use super::device_error;
    use crate::error::Error;
    use rtmix_backend::Error as BackendError;

    /// A busy device (another program has a `hw:` PCM open) cannot be made on a machine
    /// without a sound card; alsa-lib reports it as `-EBUSY` at open, which this maps.
    #[test]
    fn a_busy_device_is_named_busy() {
        let busy = BackendError::Open {
            device: "hw:0".into(),
            errno: -16,
        };
        let e = device_error("ALSA", "hw:0", &busy, 2, 48_000);
        assert!(matches!(e, Error::NoDevice { .. }), "{e:?}");
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string()
                .starts_with("ALSA device \"hw:0\": it is busy (another program has it open)"),
            "{e}"
        );
    }
}
