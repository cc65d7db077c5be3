//! One generic function, two backends: the program below is written once against
//! rtmix-backend's traits and run with `B = rtmix_alsa::Alsa` and `B = rtmix_cpal::Cpal`,
//! on the same ALSA `file` PCM (backend-cpal/fixtures/cpal.conf: a raw file, unpaced, no
//! sound card). Changing the backend is changing the type; the config, the errors, the
//! granted configuration and the report are the same types.
//!
//! * both backends put the same schedule into the file exactly as the offline render has
//!   it (bit for bit), and report the frames they ran;
//! * an engine whose channel count is not the device's is refused by both with the same
//!   typed error, [`Error::ChannelMismatch`], and the action it held completes with
//!   `StreamStopped`;
//! * an engine handed back at the end of one stream and attached to the next (resumed at
//!   the instant its next frame was due: no frame lost) goes on exactly where it stopped,
//!   on both: the two files end to end hold the offline render bit for bit, nothing
//!   completes at the hand-back, and each play completes exactly once after it;
//! * a whole duplex engine handed back likewise (both halves, each on its own clock) and
//!   attached to a second duplex pair goes on exactly, on both: the two output files end
//!   to end hold the offline render bit for bit, a recording across the hand-back holds
//!   the first input file's samples up to the input clock at the hand-back and the
//!   second's after it, one scheduled while the engine is off any device holds the
//!   second file's samples from its frame, and every action completes exactly once,
//!   `Finished`.
#![cfg(target_os = "linux")]

use std::sync::{Mutex, Once};
use std::time::Duration;

use rtmix_backend::{Backend, Config, Device, Error, ErrorKind, RunControl, SampleFormat, Stream};
use rtmix_core::{
    At, ChannelMap, Controller, EndReason, Engine, Heap, Play, Record, StreamCapacity, StreamConfig,
};

const RATE: u32 = 48_000;
const FRAMES: u64 = 4096;

type Ctl = Controller<Vec<f32>, Vec<f32>, Heap>;

/// The file PCMs take their file from the environment: one test at a time.
static FILE_PCM: Mutex<()> = Mutex::new(());

fn alsa_config() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let dir = env!("CARGO_MANIFEST_DIR");
        std::env::set_var(
            "ALSA_CONFIG_PATH",
            format!("/usr/share/alsa/alsa.conf:{dir}/../backend-cpal/fixtures/cpal.conf"),
        );
    });
}

fn open(channels: u16) -> (Ctl, Engine<Vec<f32>, Vec<f32>, Heap>) {
    rtmix_core::open(StreamConfig::output(channels), StreamCapacity::default()).unwrap()
}

/// Two plays, on either channel, starting inside a period.
fn schedule(ctl: &mut Ctl) {
    let ch = |c: &[u16]| ChannelMap::new(c).unwrap();
    let ramp: Vec<f32> = (0..1000).map(|i| (i as f32 - 500.0) / 512.0).collect();
    ctl.play(Play::new(ramp, ch(&[0])).at(At::Frame(3)))
        .unwrap();
    let tone: Vec<f32> = (0..2000).map(|i| ((i % 50) as f32 - 25.0) / 64.0).collect();
    ctl.play(Play::new(tone, ch(&[1])).at(At::Frame(777)).gain(0.5))
        .unwrap();
}

fn offline() -> Vec<f32> {
    let (mut ctl, engine) = open(2);
    schedule(&mut ctl);
    let (mut output, _) = engine.split();
    let mut out = vec![0.0; FRAMES as usize * 2];
    output.process(&mut out);
    out
}

/// The one program: plays the schedule on `device` through backend `B`, and returns what
/// the device granted and what the stream reported. Nothing in it names a backend.
fn play_schedule<B: Backend>(device: &str) -> Result<(rtmix_backend::Granted, u64), Error> {
    let (mut ctl, engine) = open(2);
    schedule(&mut ctl);
    let (output, _) = engine.split();
    let config = Config::new(device, RATE, 2)
        .host("ALSA")
        .period(256)
        .format(SampleFormat::F32);
    let device = B::open_output(&config)?;
    let granted = device.granted().clone();
    let control = RunControl {
        stop_after: Some(FRAMES),
        ..RunControl::default()
    };
    let report = B::play(device, output, control)?.join()?;
    Ok((granted, report.frames))
}

/// The same program, with an engine of one channel on a device opened with two.
fn mismatched<B: Backend>(device: &str) -> (Error, EndReason) {
    let (mut ctl, engine) = open(1);
    let id = ctl
        .play(Play::new(vec![0.5; 64], ChannelMap::new(&[0]).unwrap()).at(At::Frame(0)))
        .unwrap();
    let (output, _) = engine.split();
    let device = B::open_output(&Config::new(device, RATE, 2).host("ALSA").period(256)).unwrap();
    let Err(e) = B::play(device, output, RunControl::default()) else {
        panic!(
            "{} ran a one-channel engine on a two-channel device",
            B::NAME
        );
    };
    let done = ctl
        .wait_timeout(id, Duration::from_secs(5))
        .unwrap()
        .expect("the action completed");
    (e, done.end)
}

fn file_samples(path: &std::path::Path) -> Vec<f32> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Runs `play_schedule::<B>` into a fresh file; returns the file's samples.
fn run<B: Backend>(name: &str) -> (rtmix_backend::Granted, u64, Vec<f32>) {
    let path = std::env::temp_dir().join(format!("rtmix-backend-{}-{name}", std::process::id()));
    std::env::set_var("RTMIX_CPAL_FILE", &path);
    let (granted, frames) = play_schedule::<B>("rtmix_cpal_file").unwrap();
    let samples = file_samples(&path);
    let _ = std::fs::remove_file(&path);
    (granted, frames, samples)
}

#[test]
fn one_generic_program_runs_on_both_backends_exactly() {
    let _lock = FILE_PCM
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    alsa_config();
    let want = offline();
    let alsa = run::<rtmix_alsa::Alsa>("alsa.raw");
    let cpal = run::<rtmix_cpal::Cpal>("cpal.raw");
    for (name, (granted, frames, got)) in [("ALSA", alsa), ("cpal", cpal)] {
        assert_eq!(
            (
                granted.host.as_str(),
                granted.rate,
                granted.channels,
                granted.format
            ),
            ("ALSA", RATE, 2, SampleFormat::F32),
            "{name}: {granted:?}"
        );
        assert!(frames >= FRAMES, "{name} ran {frames} frames");
        assert!(
            got.len() >= want.len(),
            "{name}: {} samples in the file",
            got.len()
        );
        let first_wrong = got
            .iter()
            .zip(&want)
            .position(|(g, w)| g.to_bits() != w.to_bits());
        assert_eq!(
            first_wrong, None,
            "{name}: the file differs from the offline render"
        );
    }
}

#[test]
fn both_backends_refuse_an_engine_of_another_channel_count_with_one_typed_error() {
    let _lock = FILE_PCM
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    alsa_config();
    std::env::set_var("RTMIX_CPAL_FILE", "/dev/null");
    for (name, (e, end)) in [
        ("ALSA", mismatched::<rtmix_alsa::Alsa>("rtmix_cpal_file")),
        ("cpal", mismatched::<rtmix_cpal::Cpal>("rtmix_cpal_file")),
    ] {
        assert_eq!(
            e,
            Error::ChannelMismatch {
                engine: 1,
                device: 2
            },
            "{name}"
        );
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{name}");
        assert_eq!(end, EndReason::StreamStopped, "{name}");
    }
}

/// Two files' samples, and the completions in order.
type HandedOver = (
    Vec<f32>,
    Vec<f32>,
    Vec<rtmix_core::Completion<Vec<f32>, Vec<f32>>>,
);

/// Plays the schedule for `first` frames into one file and, with the engine handed back
/// and attached again, `second` frames into another, through backend `B`. Returns the two
/// files' samples and the completions, in order.
fn hand_over<B: Backend>(first: u64, second: u64) -> HandedOver {
    let (mut ctl, engine) = open(2);
    schedule(&mut ctl);
    let (output, _) = engine.split();
    let config = Config::new("rtmix_cpal_file", RATE, 2)
        .host("ALSA")
        .period(256)
        .format(SampleFormat::F32);
    let control = |frames| RunControl {
        stop_after: Some(frames),
        ..RunControl::default()
    };
    let paths = [1, 2].map(|n| {
        std::env::temp_dir().join(format!(
            "rtmix-backend-{}-{}-{n}.raw",
            std::process::id(),
            B::NAME
        ))
    });

    std::env::set_var("RTMIX_CPAL_FILE", &paths[0]);
    let device = B::open_output(&config).unwrap();
    let (stream, back) = B::play_handing_back(device, output, control(first)).unwrap();
    stream.join().unwrap();
    let detached = back.detached().expect("the engine came back");
    assert_eq!(detached.clock(), first, "{}", B::NAME);
    assert!(
        ctl.try_next().is_none(),
        "{}: a play completed at the hand-back",
        B::NAME
    );
    let due = detached.due.expect("the file PCM's clock had anchors");
    let (output, lost) = detached.resume(due);
    assert_eq!(lost, 0);

    std::env::set_var("RTMIX_CPAL_FILE", &paths[1]);
    let device = B::open_output(&config).unwrap();
    let (stream, back) = B::play_handing_back(device, output, control(second)).unwrap();
    stream.join().unwrap();
    drop(back);
    let mut done = Vec::new();
    while let Some(c) = ctl.try_next() {
        done.push(c);
    }
    let files = paths.map(|p| {
        let samples = file_samples(&p);
        let _ = std::fs::remove_file(p);
        samples
    });
    let [a, b] = files;
    (a, b, done)
}

/// Asserts that output files `a` and `b`, the first `frames.0` and the next `frames.1`
/// stereo frames of one run, hold `want` end to end bit for bit, and only silence after
/// those frames (rtmix-alsa writes exactly the frames asked; cpal's stream writes silence
/// after them until it is torn down).
fn assert_end_to_end(name: &str, [a, b]: [&[f32]; 2], frames: (u64, u64), want: &[f32]) {
    let (first, second) = (2 * frames.0 as usize, 2 * frames.1 as usize);
    assert!(
        a.len() >= first && b.len() >= second,
        "{name}: {} {}",
        a.len(),
        b.len()
    );
    assert!(
        a[first..].iter().chain(&b[second..]).all(|&x| x == 0.0),
        "{name}: only silence after the frames asked"
    );
    let got: Vec<u32> = a[..first]
        .iter()
        .chain(&b[..second])
        .map(|x| x.to_bits())
        .collect();
    let want: Vec<u32> = want.iter().map(|x| x.to_bits()).collect();
    assert!(
        got == want,
        "{name}: the two files end to end differ from the offline render"
    );
}

#[test]
fn both_backends_hand_the_engine_back_and_it_goes_on_exactly() {
    let _lock = FILE_PCM
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    alsa_config();
    // Both plays (frames 3 to 1003, and 777 to 2777) run across the hand-over.
    let (first, second) = (900, FRAMES - 900);
    let want = offline();
    for (name, (a, b, done)) in [
        ("ALSA", hand_over::<rtmix_alsa::Alsa>(first, second)),
        ("cpal", hand_over::<rtmix_cpal::Cpal>(first, second)),
    ] {
        assert_end_to_end(name, [&a, &b], (first, second), &want);
        // Both plays were still in the engine at the hand-back, and complete once after it.
        assert_eq!(done.len(), 2, "{name}: {done:?}");
        for c in &done {
            assert_eq!(c.end, EndReason::Finished, "{name}: {c:?}");
        }
        assert_ne!(done[0].id, done[1].id);
    }
}

type Completions = Vec<rtmix_core::Completion<Vec<f32>, Vec<f32>>>;

/// What a duplex hand-over gave: the two output files' samples, the input clock at the
/// hand-back, the completions at the hand-back and after it (in order), and the
/// recording's id.
struct DuplexHandedOver {
    files: [Vec<f32>; 2],
    input_clock: u64,
    at_handback: Completions,
    after: Completions,
    rec: rtmix_core::ActionId,
    late: rtmix_core::ActionId,
}

/// A recording scheduled while the engine is off any device: from 100 frames after the
/// input clock at the hand-back, for 256 frames.
const LATE_AFTER: usize = 100;
const LATE_FRAMES: usize = 256;

/// An input file of `frames` stereo frames, each sample distinct from those of `seed`'s
/// other files.
fn input_file(seed: u32, frames: usize) -> Vec<f32> {
    (0..2 * frames as u32)
        .map(|i| (i.wrapping_mul(7919).wrapping_add(seed * 104_729) % 4001) as f32 / 2048.0 - 0.95)
        .collect()
}

/// Writes [`input_file`] `seed` to `path`, raw.
fn write_input_file(seed: u32, path: &std::path::Path) {
    let bytes: Vec<u8> = input_file(seed, IN_FRAMES)
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    std::fs::write(path, bytes).unwrap();
}

/// Frames in each input file: more than either stream captures.
const IN_FRAMES: usize = 1 << 17;
/// The recording: both input channels, from frame 300 of the input clock for 1500 frames.
const REC_AT: u64 = 300;
const REC_FRAMES: usize = 1500;

fn drain(ctl: &mut Ctl) -> Completions {
    let mut done = Vec::new();
    while let Some(c) = ctl.try_next() {
        done.push(c);
    }
    done
}

/// The schedule and a recording, run as one duplex engine for `first` output frames on
/// a pair of file PCMs and, handed back and attached again, `second` on another pair,
/// through backend `B`.
fn duplex_hand_over<B: Backend>(first: u64, second: u64) -> DuplexHandedOver {
    let (mut ctl, engine) =
        rtmix_core::open(StreamConfig::duplex(2, 2), StreamCapacity::default()).unwrap();
    schedule(&mut ctl);
    let rec = ctl
        .record(
            Record::new(vec![0.0; 2 * REC_FRAMES], ChannelMap::new(&[0, 1]).unwrap())
                .at(At::Frame(REC_AT)),
        )
        .unwrap();
    let config = |device| {
        Config::new(device, RATE, 2)
            .host("ALSA")
            .period(256)
            .format(SampleFormat::F32)
    };
    let (output, input) = (config("rtmix_cpal_file"), config("rtmix_cpal_infile"));
    let control = |frames| RunControl {
        stop_after: Some(frames),
        ..RunControl::default()
    };
    let path = |what: &str, n: u32| {
        std::env::temp_dir().join(format!(
            "rtmix-backend-duplex-{}-{}-{what}{n}.raw",
            std::process::id(),
            B::NAME
        ))
    };
    let outs = [1, 2].map(|n| path("out", n));
    let ins = [1, 2].map(|n| path("in", n));
    for (n, p) in (1..).zip(&ins) {
        write_input_file(n, p);
    }

    std::env::set_var("RTMIX_CPAL_FILE", &outs[0]);
    std::env::set_var("RTMIX_CPAL_INFILE", &ins[0]);
    let device = B::open_duplex(&output, &input).unwrap();
    let (stream, back) = B::duplex_handing_back(device, engine, control(first)).unwrap();
    stream.join().unwrap();
    let detached = back.detached().expect("the engine came back");
    let (output_clock, input_clock) = detached.clocks();
    assert_eq!(output_clock, first, "{}", B::NAME);
    let at_handback = drain(&mut ctl);
    // Scheduled while the engine is off any device, on the input clock it left with.
    let late = ctl
        .record(
            Record::new(
                vec![0.0; 2 * LATE_FRAMES],
                ChannelMap::new(&[0, 1]).unwrap(),
            )
            .at(At::Frame(input_clock + LATE_AFTER as u64)),
        )
        .unwrap();
    // Resumed no later than either half's next frame was due: no frame lost on either.
    // (cpal's input on an unpaced file PCM runs far ahead of real time, and its anchor
    // may name an instant before its clock's epoch: a half with no instant due loses
    // nothing.)
    let now = [detached.output.due, detached.input.due]
        .into_iter()
        .flatten()
        .min()
        .expect("the file PCMs' clocks had anchors");
    let (engine, lost) = detached.resume(now);
    assert_eq!(lost, (0, 0), "{}", B::NAME);
    assert_eq!(
        (engine.output.clock(), engine.input.clock()),
        (first, input_clock)
    );

    // Silence at the last frame asked: once it has played, the output is past the
    // frames asked.
    let marker = ctl
        .play(Play::new(vec![0.0], ChannelMap::new(&[0]).unwrap()).at(At::Frame(first + second)))
        .unwrap();

    std::env::set_var("RTMIX_CPAL_FILE", &outs[1]);
    std::env::set_var("RTMIX_CPAL_INFILE", &ins[1]);
    let device = B::open_duplex(&output, &input).unwrap();
    // Stopped once the output is past the frames asked and the input past the late
    // recording, not by `stop_after`: cpal's unpaced output can reach its `stop_after`
    // before its input's first callback. (The output file holds silence after the
    // frames asked.)
    let (stream, back) = B::duplex_handing_back(device, engine, RunControl::default()).unwrap();
    let mut after = Vec::new();
    for id in [marker, late] {
        let done = ctl
            .wait_timeout(id, Duration::from_secs(10))
            .unwrap()
            .unwrap_or_else(|| panic!("{}: {id:?} did not complete", B::NAME));
        after.push(done);
    }
    stream.stop().unwrap();
    after.extend(drain(&mut ctl));
    drop(back); // ends nothing more: everything completed
    let late_ones = drain(&mut ctl);
    assert!(
        late_ones.is_empty(),
        "{}: completed after the second stream (input clock at the hand-back {input_clock}): {late_ones:?}; before: {at_handback:?} {after:?}",
        B::NAME
    );
    let files = [file_samples(&outs[0]), file_samples(&outs[1])];
    for p in outs.iter().chain(&ins) {
        let _ = std::fs::remove_file(p);
    }
    DuplexHandedOver {
        files,
        input_clock,
        at_handback,
        after,
        rec,
        late,
    }
}

#[test]
fn both_backends_hand_a_duplex_engine_back_and_it_goes_on_exactly() {
    let _lock = FILE_PCM
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    alsa_config();
    let (first, second) = (900, FRAMES - 900);
    let want = offline();
    for (name, got) in [
        ("ALSA", duplex_hand_over::<rtmix_alsa::Alsa>(first, second)),
        ("cpal", duplex_hand_over::<rtmix_cpal::Cpal>(first, second)),
    ] {
        let [a, b] = &got.files;
        assert_end_to_end(name, [a, b], (first, second), &want);
        // Nothing ended at the hand-back: what completed there had finished.
        for c in &got.at_handback {
            assert_eq!(c.end, EndReason::Finished, "{name}: {c:?}");
        }
        let mut all: Vec<_> = got.at_handback.into_iter().chain(got.after).collect();
        assert_eq!(all.len(), 5, "{name}: {all:?}");
        for c in &all {
            assert_eq!(c.end, EndReason::Finished, "{name}: {c:?}");
        }
        let mut ids: Vec<_> = all.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 5, "{name}: an action completed twice");
        // The recording: the first input file's frames up to the input clock at the
        // hand-back, then the second file's from its start.
        let split = usize::try_from(got.input_clock).unwrap();
        eprintln!("{name}: input clock at the hand-back {split}");
        let (one, two) = (input_file(1, IN_FRAMES), input_file(2, IN_FRAMES));
        let start = REC_AT as usize;
        let end = start + REC_FRAMES;
        let expected: Vec<u32> = (start..end)
            .flat_map(|f| {
                let (file, at) = if f < split {
                    (&one, f)
                } else {
                    (&two, f - split)
                };
                [file[2 * at], file[2 * at + 1]]
            })
            .map(f32::to_bits)
            .collect();
        let pos = all
            .iter()
            .position(|c| c.id == got.rec)
            .expect("the recording completed");
        let recording: Vec<u32> = all
            .swap_remove(pos)
            .into_recording()
            .expect("a recording")
            .iter()
            .map(|x| x.to_bits())
            .collect();
        assert!(
            recording == expected,
            "{name}: the recording differs from the two input files at the hand-back"
        );
        // The recording scheduled off the device: the second file from its frame.
        let pos = all
            .iter()
            .position(|c| c.id == got.late)
            .expect("the late recording completed");
        let late: Vec<u32> = all
            .swap_remove(pos)
            .into_recording()
            .expect("a recording")
            .iter()
            .map(|x| x.to_bits())
            .collect();
        let expected: Vec<u32> = two[2 * LATE_AFTER..2 * (LATE_AFTER + LATE_FRAMES)]
            .iter()
            .map(|x| x.to_bits())
            .collect();
        assert!(
            late == expected,
            "{name}: a recording scheduled at the hand-back differs from the second input file"
        );
    }
}

/// Runs the schedule and a recording due far later as one duplex engine for 512 output
/// frames through backend `B`, then drops the hand-back unattached; returns the
/// completions at the hand-back and after the drop.
fn duplex_dropped<B: Backend>() -> (Completions, Completions) {
    let (mut ctl, engine) =
        rtmix_core::open(StreamConfig::duplex(2, 2), StreamCapacity::default()).unwrap();
    schedule(&mut ctl);
    ctl.record(
        Record::new(vec![0.0; 2 * 64], ChannelMap::new(&[0, 1]).unwrap()).at(At::Frame(1 << 40)),
    )
    .unwrap();
    let config = |device| {
        Config::new(device, RATE, 2)
            .host("ALSA")
            .period(256)
            .format(SampleFormat::F32)
    };
    std::env::set_var("RTMIX_CPAL_FILE", "/dev/null");
    std::env::set_var("RTMIX_CPAL_INFILE", "/dev/zero");
    let device = B::open_duplex(&config("rtmix_cpal_file"), &config("rtmix_cpal_infile")).unwrap();
    let control = RunControl {
        stop_after: Some(512),
        ..RunControl::default()
    };
    let (stream, back) = B::duplex_handing_back(device, engine, control).unwrap();
    stream.join().unwrap();
    let at_handback = drain(&mut ctl);
    drop(back);
    (at_handback, drain(&mut ctl))
}

#[test]
fn both_backends_end_a_duplex_engine_whose_hand_back_is_dropped() {
    let _lock = FILE_PCM
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    alsa_config();
    for (name, (at_handback, dropped)) in [
        ("ALSA", duplex_dropped::<rtmix_alsa::Alsa>()),
        ("cpal", duplex_dropped::<rtmix_cpal::Cpal>()),
    ] {
        assert!(at_handback.is_empty(), "{name}: {at_handback:?}");
        // Both plays run across frame 512; the recording is due far later.
        assert_eq!(dropped.len(), 3, "{name}: {dropped:?}");
        for c in &dropped {
            assert_eq!(c.end, EndReason::StreamStopped, "{name}: {c:?}");
        }
    }
}
