//! A device that disappears mid-stream: this test starts a JACK server of its own (named
//! `rtmix-dies`, so the CI's server is left alone), plays and records through ALSA's jack
//! PCM, and kills the server by its PID while the streams run.
//!
//! What must hold: the control side gets a typed error (not a hang), every pending action
//! completes with a reason, and what was recorded so far is handed back.

mod common;

use std::time::{Duration, Instant};

use common::alsa_config;
use rtmix_alsa::{AlsaStream, Config, InputDevice, OutputDevice, RunControl};
use rtmix_core::{At, ChannelMap, EndReason, Play, Queues, Record, StreamConfig};
use rtmix_host_tests::jack_server::JackServer;

const SERVER: &str = "rtmix-dies";

type Q = Queues<Vec<f32>, Vec<f32>, 16, 16>;

#[test]
#[ignore = "needs jackd installed (run by .ci/run with --ignored)"]
fn a_server_killed_mid_stream_is_a_typed_error_and_nothing_hangs() {
    alsa_config();
    std::env::set_var("JACK_DEFAULT_SERVER", SERVER);
    let mut server = JackServer::start(SERVER).expect("a private jackd starts");
    let config = Config::new("rtmix_jack", 48_000, 2).period(1024).periods(3);
    let output_device = OutputDevice::open(&config).expect("the jack PCM opens for playback");
    let input_device = InputDevice::open(&config).expect("the jack PCM opens for capture");
    let q: &'static mut Q = Box::leak(Box::default());
    let (mut ctl, engine) = q.split(StreamConfig::duplex(2, 2)).unwrap();
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
        device_timeout: Duration::from_millis(500),
        ..RunControl::default()
    };
    let playing = AlsaStream::play(output_device, output, control.clone()).unwrap();
    let recording = AlsaStream::record(input_device, input, control).unwrap();
    std::thread::sleep(Duration::from_millis(700));
    server.kill();
    let killed = Instant::now();
    while !(playing.is_finished() && recording.is_finished())
        && killed.elapsed() < Duration::from_secs(10)
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    let waited = killed.elapsed();
    assert!(
        playing.is_finished() && recording.is_finished(),
        "the loops still run {waited:?} after the server died"
    );
    for result in [playing.join().map(|_| ()), recording.join().map(|_| ())] {
        let error = result.expect_err("the server's death is an error");
        eprintln!("{error} ({waited:?} after the kill)");
        assert!(error.is_device_gone(), "{error:?}");
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
