//! A device lost and found again, through cpal's ALSA host: the device-loss test of
//! `host-tests/src/reconnect.rs` (what it does and what must hold are said there), with
//! cpal streams, on a JACK server of its own named `rtmix-cpal-dies`, as
//! `backend-cpal/tests/jack_dies.rs`, so the CI's server is left alone. Playback may be
//! short of the wall-time gap by the frames rendered ahead of the converter at the kill:
//! cpal's ALSA host keeps a buffer of two periods, so playback's bounds are
//! `[gap - 3 periods, gap + period]`.

mod common;

use common::alsa_config;
use rtmix_cpal::Cpal;
use rtmix_host_tests::reconnect;

// The name of `backend-cpal/tests/jack_dies.rs`: JACK's registry holds 8 servers, and
// the entry of one killed by SIGKILL is reclaimed only by a server of the same name, so CI's private servers
// share names rather than fill it.
const SERVER: &str = "rtmix-cpal-dies";

#[test]
#[ignore = "needs jackd installed (run by .ci/run with --ignored)"]
fn an_engine_handed_back_at_a_device_loss_goes_on_on_the_reopened_device() {
    alsa_config();
    reconnect::engines_go_on_after_a_device_loss::<Cpal>(
        SERVER,
        &reconnect::config().host("ALSA"),
        // cpal's ALSA host: two periods.
        |granted| 2 * u64::from(granted.period.unwrap()),
    );
}
