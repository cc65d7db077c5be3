//! A device that disappears mid-stream: this test starts a JACK server of its own (named
//! `rtmix-dies`, so the CI's server is left alone), plays and records through ALSA's jack
//! PCM, and kills the server by its PID while the streams run.
//!
//! What must hold: the control side gets a typed error (not a hang): `NotResponding` from
//! both loops, between 0.4 s and 1.5 s after the kill with a 0.5 s `device_timeout` (the
//! timeout counts from the last period moved, up to a period before the kill, and the loop
//! looks at it after each poll of at most 100 ms; the rest is room for a loaded machine);
//! every pending action completes with a reason, and what was recorded so far is handed
//! back.

mod common;

use std::time::{Duration, Instant};

use common::alsa_config;
use rtmix_alsa::AlsaError;
use rtmix_alsa::{AlsaStream, Config, InputDevice, OutputDevice, RunControl};
use rtmix_core::{
    At, ChannelMap, Direction, EndReason, Play, Record, StreamCapacity, StreamConfig,
};
use rtmix_host_tests::jack_server::JackServer;

const SERVER: &str = "rtmix-dies";
/// The loops' `device_timeout`.
const TIMEOUT: Duration = Duration::from_millis(500);
/// When the error may come after the kill: see the module's documentation.
const EARLIEST: Duration = Duration::from_millis(400);
const LATEST: Duration = Duration::from_millis(1500);
/// How long anything is waited for before it is taken for hung.
const HANG: Duration = Duration::from_secs(30);

#[test]
#[ignore = "needs jackd installed (run by .ci/run with --ignored)"]
fn a_server_killed_mid_stream_is_a_typed_error_and_nothing_hangs() {
    alsa_config();
    std::env::set_var("JACK_DEFAULT_SERVER", SERVER);
    let mut server = JackServer::start(SERVER).expect("a private jackd starts");
    let config = Config::new("rtmix_jack", 48_000, 2).period(1024).periods(3);
    let output_device = OutputDevice::open(&config).expect("the jack PCM opens for playback");
    let input_device = InputDevice::open(&config).expect("the jack PCM opens for capture");
    let (mut ctl, engine) = rtmix_core::open::<Vec<f32>, Vec<f32>>(
        StreamConfig::duplex(2, 2),
        StreamCapacity::default(),
    )
    .unwrap();
    let (output, input) = engine.split();
    let both = || ChannelMap::new(&[0, 1]).unwrap();
    // Ten seconds of a constant, which the loopback brings back to the recording.
    let long = ctl
        .play(Play::new(vec![0.25; 2 * 480_000], both()).at(At::Frame(0)))
        .unwrap();
    let later = ctl
        .play(Play::new(vec![0.25; 2], both()).at(At::Frame(1_000_000)))
        .unwrap();
    let rec = ctl
        .record(Record::new(vec![0.0; 2 * 480_000], both()).at(At::Frame(0)))
        .unwrap();
    let control = RunControl {
        device_timeout: TIMEOUT,
        ..RunControl::default()
    };
    let playing = AlsaStream::play(output_device, output, control.clone()).unwrap();
    let recording = AlsaStream::record(input_device, input, control).unwrap();
    // Both loops run, and the recording has heard the played constant come back through
    // the loopback (the input meter's peak), before the server is killed.
    let waiting = Instant::now();
    let mut heard = 0.0f32;
    while heard < 0.25 || playing.clock().anchor().is_none() {
        assert!(
            waiting.elapsed() < HANG,
            "the loopback's audio never reached the recording (peak {heard})"
        );
        assert!(
            !(playing.is_finished() || recording.is_finished()),
            "a loop ended before the kill"
        );
        std::thread::sleep(Duration::from_millis(5));
        if let Some(level) = ctl.meter(Direction::Input, 0) {
            heard = heard.max(level.peak);
        }
    }
    server.kill();
    let killed = Instant::now();
    let mut ended = [None, None];
    while ended.contains(&None) && killed.elapsed() < HANG {
        for (end, stream) in ended.iter_mut().zip([&playing, &recording]) {
            if end.is_none() && stream.is_finished() {
                *end = Some(killed.elapsed());
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let [Some(played_for), Some(recorded_for)] = ended else {
        panic!("a loop still runs {HANG:?} after the server died: {ended:?}");
    };
    for (what, result, waited) in [
        ("playback", playing.join().map(|_| ()), played_for),
        ("capture", recording.join().map(|_| ()), recorded_for),
    ] {
        let error = result.expect_err("the server's death is an error");
        eprintln!("{what}: {error} ({waited:?} after the kill)");
        assert!(
            matches!(error, AlsaError::NotResponding { waited_ms } if waited_ms >= 500),
            "{what}: {error:?}"
        );
        assert!(error.is_device_gone(), "{error:?}");
        assert!(
            (EARLIEST..=LATEST).contains(&waited),
            "{what}: the error came {waited:?} after the kill"
        );
    }

    // Everything pending completed, with what it had done.
    let long = ctl.take(long).expect("the long play completed");
    assert_eq!(long.end, EndReason::StreamStopped);
    assert!(long.frames > 0 && long.frames < 480_000, "{}", long.frames);
    let later = ctl.take(later).expect("the later play completed");
    assert_eq!(
        (later.end, later.frames, later.actual_start),
        (EndReason::StreamStopped, 0, None)
    );
    let rec = ctl.take(rec).expect("the recording completed");
    assert_eq!(rec.end, EndReason::StreamStopped);
    let frames = usize::try_from(rec.frames).unwrap();
    let got = rec
        .into_recording()
        .expect("the recording's buffer came back");
    assert_eq!(got.len(), 2 * 480_000);
    assert!(frames > 0, "something was recorded before the kill");
    // What was captured before the kill is there: the played constant, back through the
    // loopback.
    assert!(
        got[..2 * frames].contains(&0.25),
        "the loopback's audio is in the recording"
    );
    assert!(
        got[2 * frames..].iter().all(|&x| x == 0.0),
        "nothing past what was recorded"
    );
}
