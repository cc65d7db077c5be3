//! No allocation on rtmix-alsa's audio path, on running streams with live traffic: each
//! transfer loop (playback, capture, duplex) runs on a thread of its own under a counting
//! allocator (`rtmix_host_tests::alloc_guard`, armed for the whole of `run`: the pre-fill,
//! the start and every block after it), on alsa-lib's `null` PCM, while the control side
//! submits plays, recordings, cancels and statistics requests as fast as the queues take
//! them and takes their completions. Every buffer moves into the engine with its command
//! and back out with its completion, so nothing is allocated or freed on the audio
//! thread: the count must be 0.
//!
//! The `null` PCM takes mmap transfers and is not paced: the loop runs flat out, so a
//! couple of seconds hold millions of frames and thousands of commands. The counting
//! allocator sees Rust's allocations only (alsa-lib's own, in C, are not counted).
//! `tests/file_pcm.rs` checks the same loops in every sample format with fixed schedules,
//! `tests/jack.rs` on a paced device through an xrun.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::alsa_config;
use rtmix_alsa::{Config, DuplexDevice, InputDevice, OutputDevice, RunControl};
use rtmix_core::{
    At, ChannelMap, Controller, Direction, Engine, Heap, Late, Payload, Play, Record,
    StreamCapacity, StreamConfig,
};
use rtmix_host_tests::alloc_guard::{forbid_alloc, GuardedAlloc};

#[global_allocator]
static ALLOC: GuardedAlloc = GuardedAlloc;

const RATE: u32 = 48_000;
/// Commands each test sends (and sees completed) while the stream runs.
const COMMANDS: u64 = 3_000;
/// How long the traffic may take before the test is taken for hung.
const HANG: Duration = Duration::from_secs(60);
type Ctl = Controller<Vec<f32>, Vec<f32>, Heap>;

/// A host stream of `config`: 32 action slots and 31 waiting commands per direction, so
/// the traffic meets backpressure.
fn open(config: StreamConfig) -> (Ctl, Engine<Vec<f32>, Vec<f32>, Heap>) {
    let capacity = StreamCapacity {
        actions: 32,
        commands: 31,
        completions: 32,
    };
    rtmix_core::open(config, capacity).unwrap()
}

fn config(channels: u16) -> Config {
    Config::new("null", RATE, channels).period(256).periods(3)
}

/// What the control side did.
#[derive(Debug, Default)]
struct Traffic {
    accepted: u64,
    completed: u64,
    refused: u64,
}

/// Sends `COMMANDS` commands to the directions in `directions` (a mix of plays, recordings,
/// cancels and stats requests, each "as soon as possible" or a little ahead), taking
/// completions as they come, until all have completed; then stops the stream.
fn traffic(ctl: &mut Ctl, directions: &[Direction], stop: &AtomicBool) -> Traffic {
    let both = || ChannelMap::new(&[0, 1]).unwrap();
    let mut t = Traffic::default();
    let mut last = None;
    let start = Instant::now();
    let mut n = 0u64;
    while t.completed < COMMANDS {
        assert!(start.elapsed() < HANG, "the traffic hung: {t:?}");
        while let Some(done) = ctl.try_next() {
            t.completed += 1;
            if let Payload::Recorded(r) = &done.payload {
                assert_eq!(r.len(), 2 * 300, "a recording came back whole");
            }
        }
        if t.accepted >= COMMANDS {
            std::thread::yield_now();
            continue;
        }
        n += 1;
        let at = if n.is_multiple_of(3) {
            At::Asap
        } else {
            At::Frame(0)
        };
        let direction = directions[(n % directions.len() as u64) as usize];
        let sent = match (direction, n % 5) {
            (Direction::Output, 0..=2) => ctl
                .play(
                    Play::new(vec![0.25; 2 * 300], both())
                        .at(at)
                        .late(Late::StartNow),
                )
                .map_err(|r| r.error),
            (Direction::Input, 0..=2) => ctl
                .record(
                    Record::new(vec![0.0; 2 * 300], both())
                        .at(at)
                        .late(Late::StartNow),
                )
                .map_err(|r| r.error),
            (_, 3) => match last {
                Some(id) => ctl.cancel(id, At::Asap, Late::StartNow),
                None => ctl.fetch_stats(direction, At::Asap),
            },
            _ => ctl.fetch_stats(direction, At::Asap),
        };
        if let Ok(id) = sent {
            t.accepted += 1;
            last = Some(id);
        } else {
            // Backpressure: the queues are full; take completions and try again.
            t.refused += 1;
            std::thread::yield_now();
        }
    }
    stop.store(true, Ordering::Release);
    t
}

fn control() -> (RunControl, Arc<AtomicBool>) {
    let stop = Arc::new(AtomicBool::new(false));
    let control = RunControl {
        stop: stop.clone(),
        ..RunControl::default()
    };
    (control, stop)
}

#[test]
fn a_running_playback_stream_with_live_commands_does_not_allocate() {
    alsa_config();
    let mut device = OutputDevice::open(&config(2)).expect("alsa-lib's null PCM opens");
    let (mut ctl, engine) = open(StreamConfig::output(2));
    let (mut output, _) = engine.split();
    let (control, stop) = control();
    let audio = std::thread::spawn(move || forbid_alloc(|| device.run(&mut output, &control)));
    let t = traffic(&mut ctl, &[Direction::Output], &stop);
    let (report, allocations) = audio.join().unwrap();
    let report = report.unwrap();
    eprintln!("{t:?}; {report:?}");
    assert_eq!(t.completed, t.accepted);
    assert!(report.frames > 0);
    assert_eq!(
        allocations, 0,
        "the playback loop allocated {allocations} times"
    );
}

#[test]
fn a_running_capture_stream_with_live_commands_does_not_allocate() {
    alsa_config();
    let mut device = InputDevice::open(&config(2)).expect("alsa-lib's null PCM opens");
    let (mut ctl, engine) = open(StreamConfig::input(2));
    let (_, mut input) = engine.split();
    let (control, stop) = control();
    let audio = std::thread::spawn(move || forbid_alloc(|| device.run(&mut input, &control)));
    let t = traffic(&mut ctl, &[Direction::Input], &stop);
    let (report, allocations) = audio.join().unwrap();
    let report = report.unwrap();
    eprintln!("{t:?}; {report:?}");
    assert_eq!(t.completed, t.accepted);
    assert!(report.frames > 0);
    assert_eq!(
        allocations, 0,
        "the capture loop allocated {allocations} times"
    );
}

#[test]
fn a_running_duplex_stream_with_live_commands_does_not_allocate() {
    alsa_config();
    let mut device =
        DuplexDevice::open(&config(2), &config(2)).expect("alsa-lib's null PCM opens both ways");
    let (mut ctl, mut engine) = open(StreamConfig::duplex(2, 2));
    let (control, stop) = control();
    let audio = std::thread::spawn(move || forbid_alloc(|| device.run(&mut engine, &control)));
    let t = traffic(&mut ctl, &[Direction::Output, Direction::Input], &stop);
    let (report, allocations) = audio.join().unwrap();
    let report = report.unwrap();
    eprintln!("{t:?}; {report:?}");
    assert_eq!(t.completed, t.accepted);
    assert!(report.output.frames > 0 && report.input.frames > 0);
    assert_eq!(
        allocations, 0,
        "the duplex loop allocated {allocations} times"
    );
}
