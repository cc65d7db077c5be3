//! rtmix-alsa against ALSA `file` PCMs (fixtures/alsa/rtmix.conf), which take mmap
//! transfers and write or read raw samples byte for byte, unpaced:
//!
//! * scheduled plays reach the file exactly as the offline render has them, in every
//!   sample format (converted by rtmix-core's rules), with the transfer loop making no
//!   allocation;
//! * a recording from a file's `infile` holds exactly that file's samples from its frame
//!   (float, and 16-bit decoded);
//! * a device that does not exist, or a channel count it refuses, is a typed error;
//! * a stream dropped without `stop` stops its loop and ends its actions.

mod common;

use common::alsa_config;
use rtmix_alsa::{AlsaError, AlsaStream, Config, InputDevice, OutputDevice, RunControl};
use rtmix_core::{
    At, ChannelMap, Controller, Engine, Heap, Interval, Play, Record, Repeat, StreamCapacity,
    StreamConfig,
};
use rtmix_host_tests::alloc_guard::{forbid_alloc, GuardedAlloc};

#[global_allocator]
static ALLOC: GuardedAlloc = GuardedAlloc;

const RATE: u32 = 48_000;

type Ctl = Controller<Vec<f32>, Vec<f32>, Heap>;

/// A host stream of `config` (its storage is freed when both sides are dropped).
fn open(config: StreamConfig) -> (Ctl, Engine<Vec<f32>, Vec<f32>, Heap>) {
    rtmix_core::open(config, StreamCapacity::default()).unwrap()
}

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("rtmix-alsa-{}-{name}", std::process::id()))
}

/// A schedule: a looped click grid, a tone with a gain ramp, a play cut short.
fn schedule(ctl: &mut Ctl) {
    let stereo = |c: &[u16]| ChannelMap::new(c).unwrap();
    let click = vec![1.0, 0.5, 0.25, 0.125];
    ctl.play(
        Play::new(click, stereo(&[0]))
            .interval(Interval::new(2_880_000, 119 * 40).unwrap())
            .repeat(Repeat::Times(20))
            .at(At::Frame(3)),
    )
    .unwrap();
    let tone: Vec<f32> = (0..3000).map(|i| ((i % 50) as f32 - 25.0) / 64.0).collect();
    let id = ctl
        .play(
            Play::new(tone, stereo(&[1]))
                .at(At::Frame(777))
                .fade_in(300),
        )
        .unwrap();
    ctl.cancel_with(
        id,
        At::Frame(2500),
        rtmix_core::Late::Skip,
        rtmix_core::Ending::FadeOut(200),
    )
    .unwrap();
}

/// The same schedule rendered offline in 1-frame-to-4096 blocks.
fn offline(frames: usize) -> Vec<f32> {
    let (mut ctl, mut engine) = open(StreamConfig::output(2));
    schedule(&mut ctl);
    let mut out = vec![0.0f32; frames * 2];
    let mut done = 0;
    for n in [1usize, 7, 4096, 64, 333].iter().cycle() {
        if done == frames {
            break;
        }
        let n = (*n).min(frames - done);
        engine.output.process(&mut out[done * 2..(done + n) * 2]);
        done += n;
    }
    out
}

/// `samples` in `format`, little-endian, by rtmix-core's conversions.
fn encoded(format: rtmix_alsa::SampleFormat, samples: &[f32]) -> Vec<u8> {
    use rtmix_alsa::SampleFormat;
    use rtmix_core::convert::{I24Packed, Sample, I24};
    samples
        .iter()
        .flat_map(|&x| match format {
            SampleFormat::F32 => x.to_le_bytes().to_vec(),
            SampleFormat::I32 => i32::from_f32(x).0.to_le_bytes().to_vec(),
            SampleFormat::I24 => I24::from_f32(x).0 .0.to_le_bytes().to_vec(),
            SampleFormat::I24Packed => I24Packed::from_f32(x).0 .0.to_vec(),
            SampleFormat::I16 => i16::from_f32(x).0.to_le_bytes().to_vec(),
            other => panic!("{other:?} is not among rtmix_alsa::FORMATS"),
        })
        .collect()
}

/// What a device in `format` gives for `samples`: each converted and back.
fn quantised(format: rtmix_alsa::SampleFormat, samples: &[f32]) -> Vec<f32> {
    use rtmix_alsa::SampleFormat;
    use rtmix_core::convert::{I24Packed, Sample, I24};
    samples
        .iter()
        .map(|&x| match format {
            SampleFormat::F32 => x,
            SampleFormat::I32 => i32::from_f32(x).0.to_f32(),
            SampleFormat::I24 => I24::from_f32(x).0.to_f32(),
            SampleFormat::I24Packed => I24Packed::from_f32(x).0.to_f32(),
            SampleFormat::I16 => i16::from_f32(x).0.to_f32(),
            other => panic!("{other:?} is not among rtmix_alsa::FORMATS"),
        })
        .collect()
}

fn read_f32(path: &std::path::Path) -> Vec<f32> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

#[test]
fn scheduled_plays_reach_the_file_sample_for_sample_without_allocating() {
    alsa_config();
    let path = temp("out.raw");
    let config = Config::new(&format!("rtmix_file:FILE={}", path.display()), RATE, 2)
        .period(64)
        .periods(4);
    let mut device = OutputDevice::open(&config).unwrap();
    assert_eq!(device.granted().period, Some(64));
    let (mut ctl, engine) = open(StreamConfig::output(2));
    let (mut output, _) = engine.split();
    schedule(&mut ctl);
    let frames = 6000;
    let control = RunControl {
        stop_after: Some(frames),
        ..RunControl::default()
    };
    let (report, allocations) = forbid_alloc(|| device.run(&mut output, &control));
    let report = report.unwrap();
    assert_eq!(
        allocations, 0,
        "the transfer loop allocated {allocations} times"
    );
    assert_eq!(report.frames, frames);
    assert_eq!(report.xruns, 0);
    drop(device); // closes the file
    let written = read_f32(&path);
    let want = offline(frames as usize);
    assert_eq!(written.len(), want.len());
    assert!(
        want.iter().filter(|&&x| x != 0.0).count() > 1500,
        "the schedule plays"
    );
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(
        bits(&written),
        bits(&want),
        "the file differs from the offline render"
    );
    let _ = std::fs::remove_file(path);
}

/// A stream dropped without `stop` does not leave its loop driving a device nobody holds:
/// the drop stops the loop and waits for it, so a play that would go on forever has
/// completed, `StreamStopped`, by the time the drop returns.
#[test]
fn a_stream_dropped_without_stop_ends_its_loop_and_its_actions() {
    alsa_config();
    let config = Config::new("rtmix_file:FILE=/dev/null", RATE, 2)
        .period(64)
        .periods(4);
    let device = OutputDevice::open(&config).unwrap();
    let (mut ctl, engine) = open(StreamConfig::output(2));
    let (output, _) = engine.split();
    let id = ctl
        .play(Play::new(vec![0.5; 64], ChannelMap::new(&[0]).unwrap()).repeat(Repeat::Forever))
        .unwrap();
    let stream = AlsaStream::play(device, output, RunControl::default()).unwrap();
    let clock = stream.clock();
    // Ready when the loop has published a position past the play's first repetition.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while clock.now().is_none_or(|frame| frame < 1_000) {
        assert!(std::time::Instant::now() < deadline, "the loop never ran");
        std::thread::yield_now();
    }
    assert!(
        ctl.take(id).is_none(),
        "a play repeated forever is still playing"
    );
    drop(stream);
    let done = ctl
        .take(id)
        .expect("the drop ended the loop, and the play with it");
    assert_eq!(done.end, rtmix_core::EndReason::StreamStopped);
    assert_eq!(done.actual_start, Some(0));
}

/// The loop asks the device for monotonic timestamps, so that its clock's anchors are
/// in the clock `Instant` reads: an anchor taken during the run lies within the run.
/// (Found by cargo-mutants: not setting the software parameters at all survived, and
/// alsa-lib's default timestamps are the time of day.)
#[test]
fn the_clock_is_anchored_in_monotonic_time() {
    alsa_config();
    let config = Config::new("rtmix_file:FILE=/dev/null", RATE, 2)
        .period(64)
        .periods(4);
    let mut device = OutputDevice::open(&config).unwrap();
    assert_eq!(device.granted().time_source, rtmix_core::TimeSource::Device);
    let (_ctl, engine) = open(StreamConfig::output(2));
    let (mut output, _) = engine.split();
    let control = RunControl {
        stop_after: Some(4800),
        ..RunControl::default()
    };
    let before = std::time::Instant::now();
    device.run(&mut output, &control).unwrap();
    let after = std::time::Instant::now();
    let anchor = device
        .clock()
        .anchor()
        .expect("the run published an anchor");
    assert_eq!(anchor.source, rtmix_core::TimeSource::Device);
    assert!(
        before <= anchor.at && anchor.at <= after,
        "the anchor {:?} is outside the run ({before:?} to {after:?})",
        anchor.at
    );
}

/// A device without float (the `linear` plugin takes integers only): rtmix picks the
/// widest integer format, S32, and the file holds the render converted to it.
#[test]
fn an_integer_device_gets_the_widest_integer_format() {
    use rtmix_core::convert::Sample;
    alsa_config();
    let path = temp("int.raw");
    let config = Config::new(&format!("rtmix_int_file:FILE={}", path.display()), RATE, 2)
        .period(100)
        .periods(3);
    let mut device = OutputDevice::open(&config).unwrap();
    assert_eq!(device.granted().format, rtmix_alsa::SampleFormat::I32);
    let (mut ctl, engine) = open(StreamConfig::output(2));
    let (mut output, _) = engine.split();
    schedule(&mut ctl);
    let frames = 4000;
    let control = RunControl {
        stop_after: Some(frames),
        ..RunControl::default()
    };
    let (report, allocations) = forbid_alloc(|| device.run(&mut output, &control));
    assert_eq!(allocations, 0);
    assert_eq!(report.unwrap().frames, frames);
    drop(device);
    let written: Vec<i32> = std::fs::read(&path)
        .unwrap()
        .chunks_exact(4)
        .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let want: Vec<i32> = offline(frames as usize)
        .iter()
        .map(|&x| i32::from_f32(x).0)
        .collect();
    assert_eq!(written, want);
    let _ = std::fs::remove_file(path);
}

/// Every format, insisted on against a file PCM (which takes any): the file holds the
/// offline render converted to that format with rtmix-core's rules, byte for byte.
#[test]
fn every_format_reaches_the_file_converted_exactly() {
    alsa_config();
    let frames = 1500;
    let want = offline(frames);
    for format in rtmix_alsa::FORMATS {
        let path = temp(&format!("{format:?}.raw"));
        let config = Config::new(&format!("rtmix_file:FILE={}", path.display()), RATE, 2)
            .period(64)
            .periods(2)
            .format(format);
        let mut device = OutputDevice::open(&config).unwrap();
        assert_eq!(device.granted().format, format);
        let (mut ctl, engine) = open(StreamConfig::output(2));
        let (mut output, _) = engine.split();
        schedule(&mut ctl);
        let control = RunControl {
            stop_after: Some(frames as u64),
            ..RunControl::default()
        };
        let (report, allocations) = forbid_alloc(|| device.run(&mut output, &control));
        assert_eq!(allocations, 0, "{format:?} allocated");
        assert_eq!(report.unwrap().frames, frames as u64);
        drop(device);
        assert_eq!(
            std::fs::read(&path).unwrap(),
            encoded(format, &want),
            "{format:?}"
        );
        let _ = std::fs::remove_file(path);
    }
}

/// Samples outside [-1, 1] reach an integer device clamped, and the run counts each one
/// (`RunReport::clipped`); a float device takes them as they are and counts none.
#[test]
fn every_clamped_sample_is_counted_in_every_format() {
    alsa_config();
    for format in rtmix_alsa::FORMATS {
        let path = temp(&format!("clip-{format:?}.raw"));
        let config = Config::new(&format!("rtmix_file:FILE={}", path.display()), RATE, 2)
            .period(64)
            .periods(2)
            .format(format);
        let mut device = OutputDevice::open(&config).unwrap();
        let (mut ctl, engine) = open(StreamConfig::output(2));
        let (mut output, _) = engine.split();
        let samples = vec![1.5, -2.0, 0.25, 3.0, -1.0, 1.0, -1.000_001];
        ctl.play(Play::new(samples, ChannelMap::new(&[0]).unwrap()).at(At::Frame(100)))
            .unwrap();
        let control = RunControl {
            stop_after: Some(512),
            ..RunControl::default()
        };
        let report = device.run(&mut output, &control).unwrap();
        let want = if format == rtmix_alsa::SampleFormat::F32 {
            0
        } else {
            4
        };
        assert_eq!(report.clipped, want, "{format:?}");
        drop(device);
        let _ = std::fs::remove_file(path);
    }
}

/// Captured integer samples come to the recording as rtmix-core decodes them.
#[test]
fn an_integer_capture_is_decoded_exactly() {
    use rtmix_alsa::SampleFormat;
    use rtmix_core::convert::Sample;
    alsa_config();
    let path = temp("in16.raw");
    let input: Vec<i16> = (0..6000)
        .map(|i| ((i * 37) % 65_536 - 32_768) as i16)
        .collect();
    let bytes: Vec<u8> = input.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(&path, bytes).unwrap();
    let config = Config::new(&format!("rtmix_infile:FILE={}", path.display()), RATE, 2)
        .period(64)
        .periods(4)
        .format(SampleFormat::I16);
    let mut device = InputDevice::open(&config).unwrap();
    let (mut ctl, engine) = open(StreamConfig::input(2));
    let (_, mut input_engine) = engine.split();
    let rec = ctl
        .record(
            Record::new(vec![0.0; 500 * 2], ChannelMap::new(&[0, 1]).unwrap()).at(At::Frame(99)),
        )
        .unwrap();
    let control = RunControl {
        stop_after: Some(1000),
        ..RunControl::default()
    };
    let (report, allocations) = forbid_alloc(|| device.run(&mut input_engine, &control));
    assert_eq!(allocations, 0);
    assert_eq!(report.unwrap().frames, 1000);
    let got = ctl.take(rec).unwrap().into_recording().unwrap();
    let want: Vec<f32> = input[99 * 2..599 * 2].iter().map(|x| x.to_f32()).collect();
    assert_eq!(got, want);
    let _ = std::fs::remove_file(path);
}

#[test]
fn a_recording_holds_the_infile_from_its_frame() {
    alsa_config();
    let path = temp("in.raw");
    let input: Vec<f32> = (0..8000).map(|i| (i as f32 - 4000.0) / 8192.0).collect();
    let bytes: Vec<u8> = input.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(&path, bytes).unwrap();
    let config = Config::new(&format!("rtmix_infile:FILE={}", path.display()), RATE, 2)
        .period(128)
        .periods(4);
    let device = InputDevice::open(&config).unwrap();
    let (mut ctl, engine) = open(StreamConfig::input(2));
    let (_, input_engine) = engine.split();
    let rec = ctl
        .record(
            Record::new(vec![0.0; 1000 * 2], ChannelMap::new(&[1, 0]).unwrap()).at(At::Frame(1234)),
        )
        .unwrap();
    let control = RunControl {
        stop_after: Some(3000),
        ..RunControl::default()
    };
    let stream = AlsaStream::record(device, input_engine, control).unwrap();
    let realtime = stream.wait_realtime(std::time::Duration::from_secs(30));
    assert!(realtime.is_some(), "the thread reports its scheduling");
    let report = stream.join().unwrap();
    assert_eq!(report.frames, 3000);
    let done = ctl.take(rec).unwrap();
    assert_eq!(done.actual_start, Some(1234));
    let got = done.into_recording().unwrap();
    for (k, frame) in got.chunks_exact(2).enumerate() {
        let f = 1234 + k;
        assert_eq!(frame, [input[f * 2 + 1], input[f * 2]], "frame {f}");
    }
    let _ = std::fs::remove_file(path);
}

#[test]
fn missing_devices_and_refused_configurations_are_typed_errors() {
    alsa_config();
    let missing = OutputDevice::open(&Config::new("rtmix_no_such_pcm", RATE, 2));
    assert!(
        matches!(missing, Err(AlsaError::Open { .. })),
        "{missing:?}"
    );
    // rtmix-alsa has one host, ALSA, named in any case; any other is refused by name.
    let elsewhere = OutputDevice::open(&Config::new("null", RATE, 2).host("JACK"));
    assert!(
        matches!(&elsewhere, Err(AlsaError::NoSuchHost { host, available }) if host == "JACK" && available == &["ALSA"]),
        "{elsewhere:?}"
    );
    let alsa = OutputDevice::open(&Config::new("null", RATE, 2).host("alsa"));
    assert!(alsa.is_ok(), "{alsa:?}");
    drop(alsa);
    let path = temp("refused.raw");
    let wide = Config::new(&format!("rtmix_file:FILE={}", path.display()), RATE, 0);
    let refused = OutputDevice::open(&wide);
    assert!(
        matches!(
            refused,
            Err(AlsaError::Unsupported {
                what: "channel count",
                ..
            })
        ),
        "{refused:?}"
    );
    // A float format insisted on where the PCM takes integers only.
    let ints = Config::new(&format!("rtmix_int_file:FILE={}", path.display()), RATE, 2)
        .format(rtmix_alsa::SampleFormat::F32);
    let refused = OutputDevice::open(&ints);
    assert!(
        matches!(
            refused,
            Err(AlsaError::Unsupported {
                what: "sample format",
                ..
            })
        ),
        "{refused:?}"
    );
    let _ = std::fs::remove_file(path);
}

/// Duplex in any pair of formats (every format on each side): the output file holds the
/// offline render converted to its format, byte for byte, and a recording holds the input
/// file's samples from its frame, decoded; the loop allocates nothing.
#[test]
fn duplex_converts_every_format_on_both_sides_exactly() {
    use rtmix_alsa::{DuplexDevice, SampleFormat::*};
    alsa_config();
    let frames = 1500;
    let want = offline(frames);
    let source: Vec<f32> = (0..2 * 3000)
        .map(|i| ((i * 7919) % 2001) as f32 / 1000.0 - 1.0)
        .collect();
    for (out_format, in_format) in [
        (F32, F32),
        (I16, I32),
        (I24, I24Packed),
        (I24Packed, I16),
        (I32, F32),
        (F32, I24),
    ] {
        let out_path = temp(&format!("duplex-out-{out_format:?}.raw"));
        let in_path = temp(&format!("duplex-in-{in_format:?}.raw"));
        std::fs::write(&in_path, encoded(in_format, &source)).unwrap();
        let output = Config::new(&format!("rtmix_file:FILE={}", out_path.display()), RATE, 2)
            .period(64)
            .periods(2)
            .format(out_format);
        let input = Config::new(&format!("rtmix_infile:FILE={}", in_path.display()), RATE, 2)
            .period(64)
            .periods(2)
            .format(in_format);
        let mut device = DuplexDevice::open(&output, &input).unwrap();
        assert_eq!(
            (device.granted().0.format, device.granted().1.format),
            (out_format, in_format)
        );
        let (mut ctl, mut engine) = open(StreamConfig::duplex(2, 2));
        schedule(&mut ctl);
        let rec = ctl
            .record(
                Record::new(vec![0.0; 2 * 500], ChannelMap::new(&[0, 1]).unwrap())
                    .at(At::Frame(99)),
            )
            .unwrap();
        let control = RunControl {
            stop_after: Some(frames as u64),
            ..RunControl::default()
        };
        let (report, allocations) = forbid_alloc(|| device.run(&mut engine, &control));
        let report = report.unwrap();
        assert_eq!(allocations, 0, "{out_format:?}/{in_format:?} allocated");
        assert_eq!(report.output.frames, frames as u64);
        drop(device);
        let pair = format!("{out_format:?} out, {in_format:?} in");
        assert_eq!(
            std::fs::read(&out_path).unwrap(),
            encoded(out_format, &want),
            "{pair}"
        );
        let got = ctl.take(rec).unwrap().into_recording().unwrap();
        assert_eq!(
            got,
            quantised(in_format, &source[99 * 2..599 * 2]),
            "{pair}"
        );
        let _ = std::fs::remove_file(out_path);
        let _ = std::fs::remove_file(in_path);
    }
}
