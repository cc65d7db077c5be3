//! What the ALSA test binaries share.

use std::sync::Once;

/// Points alsa-lib at the project's PCMs (fixtures/alsa/rtmix.conf) besides the system
/// ones, once, before its first use in this process.
pub(crate) fn alsa_config() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let ours = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/alsa/rtmix.conf");
        std::env::set_var(
            "ALSA_CONFIG_PATH",
            format!("/usr/share/alsa/alsa.conf:{ours}"),
        );
    });
}
