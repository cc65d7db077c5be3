//! A device lost and found again, through rtmix-alsa: the device-loss test of
//! `host-tests/src/reconnect.rs` (what it does and what must hold are said there), on a
//! JACK server of its own named `rtmix-dies`, as `backend-alsa/tests/jack_dies.rs`, so the
//! CI's server is left alone. Playback may be short of the wall-time gap by the frames
//! queued at the kill: at most the granted buffer.

mod common;

use common::alsa_config;
use rtmix_alsa::Alsa;
use rtmix_host_tests::reconnect;

// The name of `backend-alsa/tests/jack_dies.rs`: JACK's registry holds 8 servers, and
// the entry of one killed by SIGKILL is reclaimed only by a server of the same name, so CI's private servers
// share names rather than fill it.
const SERVER: &str = "rtmix-dies";
const PERIODS: u32 = 3;

#[test]
#[ignore = "needs jackd installed (run by .ci/run with --ignored)"]
fn an_engine_handed_back_at_a_device_loss_goes_on_on_the_reopened_device() {
    alsa_config();
    reconnect::engines_go_on_after_a_device_loss::<Alsa>(
        SERVER,
        &reconnect::config().periods(PERIODS),
        |granted| u64::from(granted.buffer.unwrap()),
    );
}
