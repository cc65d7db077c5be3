//! Every action completes, whatever happens to the audio thread (issue 16, item 3).
//!
//! * A `SampleSource` (or `SampleSink`) that panics on the audio thread: the playback, the
//!   capture and the duplex stream each end with `AlsaError::Panicked` carrying the
//!   panic's message, every action still held completes with `StreamStopped` (waited for
//!   with a bound, never forever), and a recording hands back exactly what it captured
//!   (the input file's samples from its frame, silence after its last frame). On ALSA
//!   `file` PCMs (fixtures/alsa/rtmix.conf): no device or server needed.
//! * A thread that cannot be started: the test runs itself again in a child process that
//!   drops root (to `nobody`, which `RLIMIT_NPROC` binds; root is exempt from it) under
//!   `RLIMIT_NPROC` 0, so that the kernel refuses every new thread (`clone` fails with
//!   `EAGAIN`: the child checks that a plain `std::thread::spawn` is refused first).
//!   `AlsaStream::play`, `record` and `duplex` (on alsa-lib's `null` PCM, opened before
//!   the privileges are dropped) each return `AlsaError::Spawn { errno: EAGAIN }`, and by
//!   then every action submitted to the engine has completed with `StreamStopped`, the
//!   recording with its buffer.

#![allow(unsafe_code)] // FFI: libc rlimit and setuid calls, to make a thread spawn fail for real

#[path = "common/child.rs"]
mod child;
mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::alsa_config;
use rtmix_alsa::{AlsaError, AlsaStream, Config, DuplexDevice, InputDevice, OutputDevice};
use rtmix_alsa::{DuplexReport, RunControl, RunReport};
use rtmix_core::{
    ActionId, At, ChannelMap, Controller, Direction, EndReason, Feed, Heap, Play, PlaySource,
    Record, RecordTarget, SampleSink, SampleSource, StreamCapacity, StreamConfig,
};

use Direction::{Input, Output};

const RATE: u32 = 48_000;
const PERIOD: u32 = 64;
/// How long anything is waited for before it is taken for hung.
const HANG: Duration = Duration::from_secs(30);
/// The source or sink panics once it has moved this many frames.
const PANIC_AT: u64 = 2_048;
/// Frames in the input file: far more than the stream reaches before the panic.
const INPUT_FRAMES: usize = 48_000;
/// The recording: from frame 100, long enough to be running when the panic comes.
const RECORD_AT: u64 = 100;
const RECORD_FRAMES: usize = 20_000;
/// The panic's message.
const MESSAGE: &str = "the test's source blew up";

/// A stream play that reads constant samples, and panics once it has read `PANIC_AT`
/// frames (of two channels).
#[derive(Debug, Default)]
struct Bomb {
    frames: u64,
}

impl SampleSource for Bomb {
    fn available(&self) -> usize {
        usize::MAX / 2
    }

    fn read(&mut self, out: &mut [f32]) -> usize {
        assert!(self.frames < PANIC_AT, "{MESSAGE}");
        out.fill(0.125);
        self.frames += out.len() as u64 / 2;
        out.len()
    }
}

impl PlaySource for Bomb {
    fn buffer(&self) -> Option<&[f32]> {
        None
    }

    fn source(&mut self) -> Option<&mut dyn SampleSource> {
        Some(self)
    }
}

/// A stream recording that panics once it has been handed `PANIC_AT` frames.
#[derive(Debug, Default)]
struct BombSink {
    frames: u64,
}

impl SampleSink for BombSink {
    fn room(&self) -> usize {
        usize::MAX / 2
    }

    fn write(&mut self, _frame: u64, samples: &[f32]) -> usize {
        assert!(self.frames < PANIC_AT, "{MESSAGE}");
        self.frames += samples.len() as u64 / 2;
        samples.len()
    }
}

impl RecordTarget for BombSink {
    fn buffer(&self) -> Option<&[f32]> {
        None
    }

    fn buffer_mut(&mut self) -> Option<&mut [f32]> {
        None
    }

    fn sink(&mut self) -> Option<&mut dyn SampleSink> {
        Some(self)
    }
}

type Source = Feed<Vec<f32>, Bomb>;
type Target = Feed<Vec<f32>, BombSink>;
type Ctl = Controller<Source, Target, Heap>;

fn both() -> ChannelMap {
    ChannelMap::new(&[0, 1]).unwrap()
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("rtmix-alsa-{}-{name}", std::process::id()))
}

fn device(pcm: &str, file: &Path) -> Config {
    Config::new(&format!("{pcm}:FILE={}", file.display()), RATE, 2)
        .period(PERIOD)
        .periods(2)
}

/// The input file's samples: each distinct, so a recording shows where it came from.
fn input_samples() -> Vec<f32> {
    (0..2 * INPUT_FRAMES)
        .map(|i| (i % 8192) as f32 / 8192.0 + 1.0 / 16_384.0)
        .collect()
}

fn write_input(path: &Path, samples: &[f32]) {
    let bytes: Vec<u8> = samples.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(path, bytes).unwrap();
}

/// The actions each stream gets: what was submitted, to be checked once it ends.
#[derive(Debug, Default)]
struct Submitted {
    /// Plays running when the thread dies: they played something, not all.
    running_plays: Vec<ActionId>,
    /// Actions scheduled far ahead: they never started.
    later: Vec<ActionId>,
    /// The buffer recording running when the thread dies.
    recording: Option<ActionId>,
    /// Stream actions (the bomb and the bomb sink): stopped whatever they did.
    streams: Vec<ActionId>,
}

/// Submits, to each of `directions`: a long buffer play, a play far ahead, and a stream
/// play of the bomb when `bomb` is `Output`; or a buffer recording from `RECORD_AT`, a
/// recording far ahead, and a stream recording into the bomb sink when `bomb` is `Input`.
fn submit(ctl: &mut Ctl, directions: &[Direction], bomb: Option<Direction>) -> Submitted {
    let mut s = Submitted::default();
    if directions.contains(&Direction::Output) {
        let long = Play::new(Feed::Buffer(vec![0.5; 2 * 100_000]), both()).at(At::Frame(0));
        s.running_plays.push(ctl.play(long).unwrap());
        let later = Play::new(Feed::Buffer(vec![0.5; 2 * 10]), both()).at(At::Frame(10_000_000));
        s.later.push(ctl.play(later).unwrap());
        if bomb == Some(Direction::Output) {
            let bomb = Play::new(Feed::Stream(Bomb::default()), both()).at(At::Frame(0));
            s.streams.push(ctl.play(bomb).unwrap());
        }
    }
    if directions.contains(&Direction::Input) {
        let rec = Record::new(Feed::Buffer(vec![0.0; 2 * RECORD_FRAMES]), both())
            .at(At::Frame(RECORD_AT));
        s.recording = Some(ctl.record(rec).unwrap());
        let later = Record::new(Feed::Buffer(vec![0.0; 2 * 10]), both()).at(At::Frame(10_000_000));
        s.later.push(ctl.record(later).unwrap());
        if bomb == Some(Direction::Input) {
            let sink = Record::new(Feed::Stream(BombSink::default()), both()).at(At::Frame(0));
            s.streams.push(ctl.record(sink).unwrap());
        }
    }
    s
}

/// Every submitted action completed (waited for with a bound) with `StreamStopped`; the
/// running plays played some frames, the later ones none, and the recording holds the
/// input from `RECORD_AT` for the frames it recorded (`input` is `None` for the `null`
/// PCM's silence) and nothing after them. Returns the frames recorded.
fn check_completions(ctl: &mut Ctl, s: Submitted, input: Option<&[f32]>, ran: bool) -> u64 {
    let mut wait = |id: ActionId| {
        ctl.wait_timeout(id, HANG)
            .unwrap()
            .unwrap_or_else(|| panic!("{id:?} did not complete within {HANG:?}"))
    };
    for id in s.running_plays {
        let done = wait(id);
        assert_eq!(done.end, EndReason::StreamStopped, "{done:?}");
        if ran {
            assert!(done.frames > 0 && done.frames < 100_000, "{done:?}");
        } else {
            assert_eq!(done.frames, 0, "{done:?}");
        }
    }
    for id in s.later {
        let done = wait(id);
        assert_eq!(
            (done.end, done.frames, done.actual_start),
            (EndReason::StreamStopped, 0, None),
            "{done:?}"
        );
    }
    for id in s.streams {
        let done = wait(id);
        assert_eq!(done.end, EndReason::StreamStopped, "{done:?}");
    }
    let Some(rec) = s.recording else { return 0 };
    let done = wait(rec);
    assert_eq!(done.end, EndReason::StreamStopped, "{done:?}");
    let frames = done.frames;
    let Some(Feed::Buffer(got)) = done.into_recording() else {
        panic!("the recording's buffer came back");
    };
    assert_eq!(got.len(), 2 * RECORD_FRAMES, "the whole buffer came back");
    let n = 2 * usize::try_from(frames).unwrap();
    if let Some(input) = input {
        let from = 2 * RECORD_AT as usize;
        assert_eq!(
            &got[..n],
            &input[from..from + n],
            "what was captured is there"
        );
    }
    assert!(
        got[n..].iter().all(|&x| x == 0.0),
        "nothing past the frames recorded"
    );
    frames
}

fn open_ctl(config: StreamConfig) -> (Ctl, rtmix_core::Engine<Source, Target, Heap>) {
    rtmix_core::open(config, StreamCapacity::default()).unwrap()
}

/// The stream ended with the panic, as a typed error with its message.
fn assert_panicked<R: std::fmt::Debug>(result: Result<R, AlsaError>) {
    match result {
        Err(AlsaError::Panicked { message }) => assert_eq!(message, MESSAGE),
        other => panic!("expected the panic as AlsaError::Panicked, got {other:?}"),
    }
}

#[test]
fn a_panicking_source_on_the_duplex_thread_completes_every_action_and_keeps_the_recording() {
    alsa_config();
    let (out_path, in_path) = (temp("panic-duplex-out.raw"), temp("panic-duplex-in.raw"));
    let input = input_samples();
    write_input(&in_path, &input);
    let (mut ctl, engine) = open_ctl(StreamConfig::duplex(2, 2));
    let submitted = submit(&mut ctl, &[Output, Input], Some(Output));
    let device = DuplexDevice::open(
        &device("rtmix_file", &out_path),
        &device("rtmix_infile", &in_path),
    )
    .expect("the file PCMs open");
    let stream = AlsaStream::duplex(device, engine, RunControl::default()).unwrap();
    let recorded = check_completions(&mut ctl, submitted, Some(&input), true);
    assert!(
        recorded > 0 && recorded < RECORD_FRAMES as u64,
        "the recording ran until the panic: {recorded} frames"
    );
    assert_panicked::<DuplexReport>(stream.join());
    let _ = std::fs::remove_file(&out_path);
    let _ = std::fs::remove_file(&in_path);
}

#[test]
fn a_panicking_source_on_the_playback_thread_completes_every_play() {
    alsa_config();
    let out_path = temp("panic-play-out.raw");
    let (mut ctl, engine) = open_ctl(StreamConfig::output(2));
    let submitted = submit(&mut ctl, &[Output], Some(Output));
    let device = OutputDevice::open(&device("rtmix_file", &out_path)).unwrap();
    let stream = AlsaStream::play(device, engine.split().0, RunControl::default()).unwrap();
    check_completions(&mut ctl, submitted, None, true);
    assert_panicked::<RunReport>(stream.join());
    let _ = std::fs::remove_file(&out_path);
}

#[test]
fn a_panicking_sink_on_the_capture_thread_completes_every_recording_with_what_it_captured() {
    alsa_config();
    let in_path = temp("panic-record-in.raw");
    let input = input_samples();
    write_input(&in_path, &input);
    let (mut ctl, engine) = open_ctl(StreamConfig::input(2));
    let submitted = submit(&mut ctl, &[Input], Some(Input));
    let device = InputDevice::open(&device("rtmix_infile", &in_path)).unwrap();
    let stream = AlsaStream::record(device, engine.split().1, RunControl::default()).unwrap();
    let recorded = check_completions(&mut ctl, submitted, Some(&input), true);
    assert!(recorded > 0, "the recording ran until the panic");
    assert_panicked::<RunReport>(stream.join());
    let _ = std::fs::remove_file(&in_path);
}

/// Set in the child process of the spawn test.
const CHILD: &str = "RTMIX_ALSA_SPAWN_CHILD";
/// What the child prints when all its checks passed.
const CHILD_PASSED: &str = "spawn-refused child: all checks passed";

/// Drops root for `nobody` (uid and gid 65534) under `RLIMIT_NPROC` 0, so that the kernel
/// refuses every new thread of this process. Not root: the limit alone does it.
fn refuse_new_threads() {
    let none = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a valid `struct rlimit`, read during the call only.
    let status = unsafe { libc::setrlimit(libc::RLIMIT_NPROC, &raw const none) };
    assert_eq!(status, 0, "setrlimit(RLIMIT_NPROC, 0)");
    child::drop_root();
    let refused = std::thread::Builder::new().spawn(|| ());
    let errno = refused
        .as_ref()
        .err()
        .and_then(std::io::Error::raw_os_error);
    assert_eq!(
        errno,
        Some(libc::EAGAIN),
        "the child's new threads are refused (the test's premise)"
    );
}

/// The child's part: three streams whose threads cannot start.
fn spawn_refused_child() {
    alsa_config();
    let null = |channels| Config::new("null", RATE, channels).period(256).periods(2);
    // Everything opened (and submitted) first, as root.
    let (mut play_ctl, play_engine) = open_ctl(StreamConfig::output(2));
    let plays = submit(&mut play_ctl, &[Output], None);
    let playback = OutputDevice::open(&null(2)).expect("the null PCM opens for playback");
    let (mut rec_ctl, rec_engine) = open_ctl(StreamConfig::input(2));
    let recs = submit(&mut rec_ctl, &[Input], None);
    let capture = InputDevice::open(&null(2)).expect("the null PCM opens for capture");
    let (mut duplex_ctl, duplex_engine) = open_ctl(StreamConfig::duplex(2, 2));
    let both = submit(&mut duplex_ctl, &[Output, Input], None);
    let duplex = DuplexDevice::open(&null(2), &null(2)).expect("the null PCMs open");

    refuse_new_threads();
    let refused = |e: &AlsaError| matches!(e, AlsaError::Spawn { errno } if *errno == libc::EAGAIN);
    let e = AlsaStream::play(playback, play_engine.split().0, RunControl::default()).unwrap_err();
    assert!(refused(&e), "playback: {e:?}");
    check_completions(&mut play_ctl, plays, None, false);
    let e = AlsaStream::record(capture, rec_engine.split().1, RunControl::default()).unwrap_err();
    assert!(refused(&e), "capture: {e:?}");
    assert_eq!(check_completions(&mut rec_ctl, recs, None, false), 0);
    let e = AlsaStream::duplex(duplex, duplex_engine, RunControl::default()).unwrap_err();
    assert!(refused(&e), "duplex: {e:?}");
    assert_eq!(check_completions(&mut duplex_ctl, both, None, false), 0);
    println!("{CHILD_PASSED}: {e}");
}

#[test]
fn a_thread_spawn_refused_by_rlimit_nproc_is_a_typed_error_and_every_action_completes() {
    if std::env::var_os(CHILD).is_some() {
        spawn_refused_child();
        return;
    }
    let passed = child::run_as_child(
        "a_thread_spawn_refused_by_rlimit_nproc_is_a_typed_error_and_every_action_completes",
        CHILD,
        CHILD_PASSED,
    );
    eprintln!("{passed}");
}
