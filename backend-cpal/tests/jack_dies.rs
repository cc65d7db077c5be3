//! A device that disappears mid-stream. Each test starts a JACK server of its own (named
//! `rtmix-cpal-dies`, through `JACK_DEFAULT_SERVER`, so that a server already running under
//! the default name, the CI's, is left alone), runs a duplex that plays and records through
//! the server's loopback ports, and kills the server by its PID while the streams run:
//!
//! * through cpal's ALSA host on the private configuration's `rtmix_jack` PCM;
//! * through cpal's JACK host (feature `jack`).
//!
//! What must hold: the control side gets a typed error within a bounded time (not a hang),
//! the supervising thread ends by itself, every pending action completes with
//! `EndReason::StreamStopped` and what it did, the recording hands back what it captured
//! before the kill (the played constant, back through the loopback) and nothing after.

mod common;

#[cfg(feature = "jack")]
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, Once};
use std::time::{Duration, Instant};

use common::{alsa_config, audit, open, Ctl, CALLBACK_ALLOCATIONS};
use rtmix_core::{At, ChannelMap, Direction, EndReason, Play, Record, StreamConfig};
use rtmix_cpal::{Config, CpalError, CpalStream, DuplexDevice, DuplexStream, RunControl};
use rtmix_host_tests::alloc_guard::GuardedAlloc;
use rtmix_host_tests::jack_server::JackServer;

#[global_allocator]
static ALLOC: GuardedAlloc = GuardedAlloc;

/// The private server's name: unique to this test binary.
const SERVER: &str = "rtmix-cpal-dies";
const RATE: u32 = 48_000;
const PERIOD: u32 = 1024;
/// Ten seconds of stereo: the kill comes long before the end.
const LONG: usize = 10 * RATE as usize;
/// The watchdog's timeout: how long a stream may go without a callback.
const TIMEOUT: Duration = Duration::from_millis(500);
/// When the typed error may come after the kill, through cpal's ALSA host: the watchdog's
/// timeout counts from the last callback, up to a period (21 ms) before the kill; the
/// supervisor looks every 2 ms, then ends the cpal streams. The rest is room for a loaded
/// machine. Measured: 498 to 505 ms.
const ALSA_HOST: std::ops::RangeInclusive<Duration> =
    Duration::from_millis(400)..=Duration::from_millis(1500);
/// Through cpal's JACK host the error is cpal's own report of the server's shutdown, well
/// before the watchdog's timeout. Measured: 16 to 30 ms.
#[cfg(feature = "jack")]
const JACK_HOST: std::ops::RangeInclusive<Duration> = Duration::ZERO..=Duration::from_millis(400);
/// How long anything is waited for before it is taken for hung.
const HANG: Duration = Duration::from_secs(30);

/// One test at a time owns the private server name; `JACK_DEFAULT_SERVER` and the ALSA
/// configuration are set once, before anything in this process touches JACK or ALSA.
fn private_server() -> MutexGuard<'static, ()> {
    static ENV: Once = Once::new();
    static LOCK: Mutex<()> = Mutex::new(());
    ENV.call_once(|| {
        std::env::set_var("JACK_DEFAULT_SERVER", SERVER);
        alsa_config();
    });
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What the test scheduled before the streams started.
struct Pending {
    long: rtmix_core::ActionId,
    later: rtmix_core::ActionId,
    rec: rtmix_core::ActionId,
}

/// A long constant from frame 0 (which the loopback brings back to the recording), a play
/// far beyond the kill, and a recording of both channels from input frame 0.
fn schedule(ctl: &mut Ctl) -> Pending {
    let both = || ChannelMap::new(&[0, 1]).unwrap();
    let long = ctl
        .play(Play::new(vec![0.25; 2 * LONG], both()).at(At::Frame(0)))
        .unwrap();
    let later = ctl
        .play(Play::new(vec![0.25; 2], both()).at(At::Frame(1_000_000)))
        .unwrap();
    let rec = ctl
        .record(Record::new(vec![0.0; 2 * LONG], both()).at(At::Frame(0)))
        .unwrap();
    Pending { long, later, rec }
}

/// Lets the duplex run, kills the server, and checks everything the control side sees.
fn kill_mid_stream(
    mut server: JackServer,
    stream: DuplexStream,
    mut ctl: Ctl,
    pending: &Pending,
    expected: fn(&CpalError) -> bool,
    bound: &std::ops::RangeInclusive<Duration>,
) {
    // Both directions run, and the recording has captured two more periods since it first
    // heard the played constant come back through the loopback (the input meter's peak),
    // before the server is killed.
    let t = Instant::now();
    let mut heard_at = None;
    while heard_at.is_none_or(|at| {
        stream
            .input_clock()
            .now()
            .is_none_or(|f| f < at + 2 * u64::from(PERIOD))
    }) {
        assert!(
            t.elapsed() < HANG,
            "the loopback's audio never reached the recording (heard at input frame {heard_at:?})"
        );
        assert!(!stream.is_finished(), "the stream ended before the kill");
        std::thread::sleep(Duration::from_millis(5));
        let peak = ctl.meter(Direction::Input, 0).map_or(0.0, |l| l.peak);
        if heard_at.is_none() && peak >= 0.25 {
            heard_at = Some(stream.input_clock().now().unwrap_or(0));
        }
    }
    let allocations = CALLBACK_ALLOCATIONS.load(std::sync::atomic::Ordering::Relaxed);
    server.kill();
    let killed = Instant::now();
    while !stream.is_finished() && killed.elapsed() < HANG {
        std::thread::sleep(Duration::from_millis(5));
    }
    let waited = killed.elapsed();
    assert!(
        stream.is_finished(),
        "the stream still runs {waited:?} after the server died"
    );
    assert!(
        bound.contains(&waited),
        "the stream ended {waited:?} after the kill, not within {bound:?}"
    );
    let error = stream
        .error()
        .expect("the stream's error is there before join");
    let joined = stream.join();
    eprintln!("{error} ({waited:?} after the kill)");
    assert_eq!(joined.as_ref().err(), Some(&error), "{joined:?}");
    assert!(error.is_device_gone(), "{error:?}");
    assert!(expected(&error), "{error:?}");
    assert_eq!(
        CALLBACK_ALLOCATIONS.load(std::sync::atomic::Ordering::Relaxed) - allocations,
        0,
        "the callbacks allocated while the server died"
    );

    // Everything pending completed, with what it had done.
    let long = ctl.take(pending.long).expect("the long play completed");
    assert_eq!(long.end, EndReason::StreamStopped);
    assert!(
        long.frames > 0 && long.frames < LONG as u64,
        "{}",
        long.frames
    );
    let later = ctl.take(pending.later).expect("the later play completed");
    assert_eq!(
        (later.end, later.frames, later.actual_start),
        (EndReason::StreamStopped, 0, None)
    );
    let rec = ctl.take(pending.rec).expect("the recording completed");
    assert_eq!(rec.end, EndReason::StreamStopped);
    assert_eq!(rec.actual_start, Some(0));
    let frames = usize::try_from(rec.frames).unwrap();
    let got = rec
        .into_recording()
        .expect("the recording's buffer came back");
    assert_eq!(got.len(), 2 * LONG);
    eprintln!(
        "played {} frames, recorded {frames} frames before the stream ended",
        long.frames
    );
    assert!(frames > 0 && frames < LONG, "{frames}");
    // What was captured before the kill is there: the played constant, back through the
    // loopback, on both channels; and nothing past what was recorded.
    let constant = got[..2 * frames].iter().filter(|&&x| x == 0.25).count();
    assert!(
        constant >= 2 * usize::try_from(PERIOD).unwrap(),
        "the loopback's audio is in the recording ({constant} samples)"
    );
    assert!(
        got[..2 * frames].iter().all(|&x| x == 0.0 || x == 0.25),
        "only silence and the constant were recorded"
    );
    assert!(
        got[2 * frames..].iter().all(|&x| x == 0.0),
        "nothing past what was recorded"
    );
    assert!(ctl.try_next().is_none(), "no completion beyond the three");
}

/// cpal's ALSA host on the `rtmix_jack` PCM (wired to the loopback ports by the ALSA
/// configuration): the server dies under both ALSA streams.
#[test]
#[ignore = "needs jackd installed; starts a private server (run by .ci/run with --ignored)"]
fn alsa_host_server_killed_mid_stream_is_a_typed_error_and_nothing_hangs() {
    let _private = private_server();
    let server = JackServer::start(SERVER).expect("the private jackd comes up");
    let config = Config::new("rtmix_jack", RATE, 2)
        .host("ALSA")
        .period(PERIOD);
    let device = DuplexDevice::open(&config, &config).expect("the jack PCM opens both ways");
    let (mut ctl, engine) = open(StreamConfig::duplex(2, 2));
    let pending = schedule(&mut ctl);
    let control = RunControl {
        audit: Some(audit),
        device_timeout: TIMEOUT,
        ..RunControl::default()
    };
    let stream = CpalStream::duplex(device, engine, control).expect("the duplex starts");
    // cpal's ALSA host reports nothing when the server dies (its thread waits on the jack
    // plugin forever): rtmix-cpal's watchdog ends the stream after `TIMEOUT`.
    kill_mid_stream(
        server,
        stream,
        ctl,
        &pending,
        |e| matches!(e, CpalError::NotResponding { waited_ms } if *waited_ms >= 500),
        &ALSA_HOST,
    );
}

/// Connects the duplex's JACK clients to the private server's loopback ports (cpal wired
/// them to the system ports), with the JACK tools, on `JACK_DEFAULT_SERVER`.
#[cfg(feature = "jack")]
fn wire_loopback() {
    let pid = std::process::id();
    for ch in 1..=2 {
        let links = [
            (
                format!("cpal_client_{pid}_out:out_{}", ch - 1),
                format!("loopback:playback_{ch}"),
            ),
            (
                format!("loopback:capture_{ch}"),
                format!("cpal_client_{pid}_in:in_{}", ch - 1),
            ),
        ];
        for (from, to) in links {
            let status = Command::new("jack_connect")
                .args([&from, &to])
                .stdout(Stdio::null())
                .status()
                .expect("jack_connect runs");
            assert!(status.success(), "jack_connect {from} {to}");
        }
    }
}

/// cpal's JACK host, wired to the loopback ports: the server dies under both clients.
#[cfg(feature = "jack")]
#[test]
#[ignore = "needs jackd installed; starts a private server (run by .ci/run with --ignored)"]
fn jack_host_server_killed_mid_stream_is_a_typed_error_and_nothing_hangs() {
    let _private = private_server();
    let server = JackServer::start(SERVER).expect("the private jackd comes up");
    let output = Config::new("output", RATE, 2).host("JACK").period(PERIOD);
    let input = Config::new("input", RATE, 2).host("JACK").period(PERIOD);
    let device = DuplexDevice::open(&output, &input).expect("the JACK host opens both ways");
    assert!(device.shared_clock());
    let (mut ctl, engine) = open(StreamConfig::duplex(2, 2));
    let pending = schedule(&mut ctl);
    let control = RunControl {
        audit: Some(audit),
        device_timeout: TIMEOUT,
        ..RunControl::default()
    };
    let stream = CpalStream::duplex(device, engine, control).expect("the duplex starts");
    wire_loopback();
    // cpal's JACK host reports the server's shutdown through the error callback (on
    // JACK's notification thread, under the audit hook like the data callbacks).
    kill_mid_stream(
        server,
        stream,
        ctl,
        &pending,
        |e| {
            matches!(
                e,
                CpalError::Stream {
                    kind: rtmix_cpal::ErrorKind::DeviceGone,
                    ..
                }
            )
        },
        &JACK_HOST,
    );
}
