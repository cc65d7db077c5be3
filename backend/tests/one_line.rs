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
//!   completes at the hand-back, and each play completes exactly once after it.
#![cfg(target_os = "linux")]

use std::sync::{Mutex, Once};
use std::time::Duration;

use rtmix_backend::{Backend, Config, Device, Error, ErrorKind, RunControl, SampleFormat, Stream};
use rtmix_core::{
    At, ChannelMap, Controller, EndReason, Engine, Heap, Play, StreamCapacity, StreamConfig,
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
        // rtmix-alsa writes exactly the frames asked; cpal's stream writes silence after
        // them until it is torn down.
        let (first, second) = (2 * first as usize, 2 * second as usize);
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
        // Both plays were still in the engine at the hand-back, and complete once after it.
        assert_eq!(done.len(), 2, "{name}: {done:?}");
        for c in &done {
            assert_eq!(c.end, EndReason::Finished, "{name}: {c:?}");
        }
        assert_ne!(done[0].id, done[1].id);
    }
}
