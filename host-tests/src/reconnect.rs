//! The device-loss test both backends run (`backend-alsa/tests/reconnect.rs`,
//! `backend-cpal/tests/reconnect.rs`), written once over [`Backend`]: it starts a JACK
//! server of its own, plays and records through ALSA's `rtmix_jack` PCM with streams that
//! hand their engines back, kills the server by its PID, starts it again, and attaches the
//! same controller's engines to the reopened PCM.
//!
//! What must hold:
//!
//! * both loops end with `NotResponding` and hand their engines back, with nothing ended:
//!   no action completes while the engines are off the device;
//! * [`Detached::resume`](rtmix_backend::Detached::resume) moves each engine's clock over
//!   the frames lost in between, measured as the wall time from the instant the engine's
//!   next frame was due on the old device (its clock's last anchor) to the resume, at the
//!   granted rate. The test measures the same gap its own way: from the kill (between the
//!   SIGKILL and the reaping of jackd) to the resume, at 48 kHz. Against it, playback is
//!   short by the frames queued ahead of the converter at the kill (the backend's
//!   `buffer`, given by the caller), capture is over by the frames the device held not yet
//!   read (at most a period), and either may be off by the jack plugin's position step (a
//!   period): allowed, playback `[gap - buffer - period, gap + period]`, capture
//!   `[gap - period, gap + 2 periods]`;
//! * every action accepted before the loss completes exactly once, `Finished`, on the new
//!   device: a play that spans the loss, a play due after it, a recording that spans it;
//! * the recording keeps what it captured before the loss (the played constant, back
//!   through the server's loopback), holds zeros for exactly the frames lost, and the
//!   constant again after the re-attach.
//!
//! Readiness is waited for, never slept for: `jack_wait -w` for the server, the first
//! anchor of each clock and the constant heard back for the streams.

use std::time::{Duration, Instant};

use rtmix_backend::{Backend, Config, Device, Error, Granted, RunControl, RunReport, Stream};
use rtmix_core::{
    At, ChannelMap, Completion, Controller, Direction, EndReason, Heap, Play, Record,
    StreamCapacity, StreamConfig,
};

use crate::jack_server::JackServer;

/// The rate the private server runs at, and the streams ask for.
pub const RATE: u32 = 48_000;
/// The period the streams ask for (the server's own).
pub const PERIOD: u32 = 1024;
/// The loops' `device_timeout`.
const TIMEOUT: Duration = Duration::from_millis(500);
/// How long anything is waited for before it is taken for hung.
const HANG: Duration = Duration::from_secs(30);
/// The long play and the recording, in frames: long enough to span the loss and the
/// restart.
const LONG: u64 = 14 * RATE as u64;
/// The frame of the play due after the loss.
const LATER: u64 = 12 * RATE as u64;

type Ctl = Controller<Vec<f32>, Vec<f32>, Heap>;

/// What both backends ask of the `rtmix_jack` PCM: two channels at [`RATE`], periods of
/// [`PERIOD`]; each backend adds its own settings to it.
pub fn config() -> Config {
    Config::new("rtmix_jack", RATE, 2).period(PERIOD)
}

/// Runs the test (see the module's documentation) through backend `B` on a private JACK
/// server named `server`, both directions opened with `config`. `buffer` gives, from what
/// the playback device granted, the most frames it can have queued ahead of the converter
/// at the kill. Panics where the test fails. ALSA must already see the project's PCMs
/// (`ALSA_CONFIG_PATH`), and no other test in the process may use the server meanwhile:
/// it sets `JACK_DEFAULT_SERVER`.
pub fn engines_go_on_after_a_device_loss<B: Backend>(
    server: &str,
    config: &Config,
    buffer: impl Fn(&Granted) -> u64,
) {
    std::env::set_var("JACK_DEFAULT_SERVER", server);
    let mut jackd = JackServer::start(server).expect("a private jackd starts");
    let (mut ctl, engine) = rtmix_core::open::<Vec<f32>, Vec<f32>>(
        StreamConfig::duplex(2, 2),
        StreamCapacity::default(),
    )
    .unwrap();
    let (output, input) = engine.split();
    let both = || ChannelMap::new(&[0, 1]).unwrap();
    let long = ctl
        .play(Play::new(vec![0.25; 2 * LONG as usize], both()).at(At::Frame(0)))
        .unwrap();
    let later = ctl
        .play(Play::new(vec![0.5; 2 * 64], both()).at(At::Frame(LATER)))
        .unwrap();
    let rec = ctl
        .record(Record::new(vec![9.0; 2 * LONG as usize], both()).at(At::Frame(0)))
        .unwrap();
    let control = RunControl {
        device_timeout: TIMEOUT,
        ..RunControl::default()
    };

    let out_dev = B::open_output(config).expect("the jack PCM opens for playback");
    let in_dev = B::open_input(config).expect("the jack PCM opens for capture");
    let buffer = buffer(out_dev.granted());
    let period = u64::from(out_dev.granted().period.unwrap());
    let (playing, out_back) = B::play_handing_back(out_dev, output, control.clone()).unwrap();
    let (recording, in_back) = B::record_handing_back(in_dev, input, control.clone()).unwrap();
    heard_back(&mut ctl, &playing, &recording);

    let (killing, killed) = kill(&mut jackd, playing, recording);
    let out_detached = out_back.detached().expect("the output engine came back");
    let in_detached = in_back.detached().expect("the input engine came back");
    // Nothing ended while the engines were off the device.
    assert!(ctl.try_next().is_none(), "an action completed at the loss");
    let in_clock_at_loss = in_detached.clock();

    let mut jackd = JackServer::start(server).expect("the server starts again");
    let out_dev = B::open_output(config).expect("the jack PCM opens again for playback");
    let in_dev = B::open_input(config).expect("the jack PCM opens again for capture");
    let resumed = Instant::now();
    let (output, out_lost) = out_detached.resume(resumed);
    let (input, in_lost) = in_detached.resume(resumed);
    check_gap(
        [out_lost, in_lost],
        (killing, killed, resumed),
        buffer,
        period,
    );
    let (playing, _out_back) = B::play_handing_back(out_dev, output, control.clone()).unwrap();
    let (recording, _in_back) = B::record_handing_back(in_dev, input, control).unwrap();

    // Every action accepted before the loss completes on the new device, once.
    let done = completions(&mut ctl, playing, recording);
    assert!(ctl.try_next().is_none(), "an action completed twice");
    let mut ids: Vec<_> = done.iter().map(|c| c.id).collect();
    ids.sort_unstable();
    let mut want = vec![long, later, rec];
    want.sort_unstable();
    assert_eq!(ids, want, "each action completed once");
    for c in &done {
        assert_eq!(c.end, EndReason::Finished, "{c:?}");
    }
    // The long play and the recording covered their whole length on the timeline: the
    // frames they ran, and those lost while the engines were off the device (and in any
    // xrun after).
    for (c, lost) in [(long, out_lost), (rec, in_lost)]
        .map(|(id, lost)| (done.iter().find(|c| c.id == id).unwrap(), lost))
    {
        assert_eq!(c.frames + c.stats.frames_lost, LONG, "{c:?}");
        assert!(
            c.stats.frames_lost >= lost,
            "{c:?}: {lost} lost at the loss"
        );
    }
    let rec = done.into_iter().find(|c| c.id == rec).unwrap();
    let got = rec
        .into_recording()
        .expect("the recording's buffer came back");
    // Every frame was written once: captured, or zeros for the frames lost.
    assert!(
        !got.contains(&9.0),
        "a frame of the recording was never written"
    );
    let (lost_from, lost_to) = (
        2 * in_clock_at_loss as usize,
        2 * (in_clock_at_loss + in_lost) as usize,
    );
    assert!(
        got[..lost_from].contains(&0.25),
        "what was captured before the loss is kept"
    );
    assert!(
        got[lost_from..lost_to].iter().all(|&x| x == 0.0),
        "the frames lost are zeros"
    );
    assert!(
        got[lost_to..].contains(&0.25),
        "the recording heard the play again after the re-attach"
    );
    jackd.kill();
}

/// Kills the server under both streams; both end with `NotResponding`. Returns the
/// instants just before the kill and after its reaping: the server died between them.
fn kill<S: Stream<Report = RunReport>>(
    server: &mut JackServer,
    playing: S,
    recording: S,
) -> (Instant, Instant) {
    let killing = Instant::now();
    server.kill();
    let killed = Instant::now();
    for (what, stream) in [("playback", playing), ("capture", recording)] {
        let waiting = Instant::now();
        while !stream.is_finished() {
            assert!(waiting.elapsed() < HANG, "{what} still runs after the kill");
            std::thread::sleep(Duration::from_millis(5));
        }
        let error = stream.join().expect_err("the server's death is an error");
        assert!(
            matches!(error, Error::NotResponding { .. }),
            "{what}: {error:?}"
        );
    }
    (killing, killed)
}

/// The frames lost (`[output, input]`) against the test's own measure of the gap, the
/// wall time from the kill to the resume at the granted rate (see the module's
/// documentation for the bounds).
fn check_gap(
    lost: [u64; 2],
    (killing, killed, resumed): (Instant, Instant, Instant),
    buffer: u64,
    period: u64,
) {
    let [out_lost, in_lost] = lost;
    // The test's own measure of the gap, at the granted rate: the server died between
    // `killing` and `killed`.
    let frames = |d: Duration| d.as_secs_f64() * f64::from(RATE);
    let (gap_low, gap_high) = (frames(resumed - killed), frames(resumed - killing));
    for (what, lost, below, above) in [
        ("output", out_lost, buffer + period, period),
        ("input", in_lost, period, 2 * period),
    ] {
        let low = gap_low - below as f64;
        let high = gap_high + above as f64;
        assert!(
            (low..=high).contains(&(lost as f64)),
            "{what}: {lost} frames lost; the wall time from the kill to the resume says \
             {gap_low:.0}..={gap_high:.0} (allowed {low:.0}..={high:.0})"
        );
        eprintln!(
            "{what}: {lost} frames lost; the kill to the resume: {gap_low:.0}..={gap_high:.0}"
        );
    }
}

/// Takes completions until three have come (the loops must keep running meanwhile), then
/// stops both streams.
fn completions<S: Stream<Report = RunReport>>(
    ctl: &mut Ctl,
    playing: S,
    recording: S,
) -> Vec<Completion<Vec<f32>, Vec<f32>>> {
    let waiting = Instant::now();
    let mut done = Vec::new();
    while done.len() < 3 {
        assert!(
            waiting.elapsed() < HANG,
            "only {done:?} completed after the re-attach"
        );
        assert!(
            !(playing.is_finished() || recording.is_finished()),
            "a loop ended on the new device"
        );
        match ctl.try_next() {
            Some(c) => done.push(c),
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    playing.stop().expect("the playback ran to its stop");
    recording.stop().expect("the capture ran to its stop");
    done
}

/// Waits until both clocks run and the recording hears the played constant come back
/// through the server's loopback (the input meter's peak).
fn heard_back<S: Stream>(ctl: &mut Ctl, playing: &S, recording: &S) {
    let waiting = Instant::now();
    let mut heard = 0.0f32;
    while heard < 0.25 || playing.clock().anchor().is_none() || recording.clock().anchor().is_none()
    {
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
}
