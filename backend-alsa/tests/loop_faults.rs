//! What the transfer loops of rtmix-alsa owe their callers beyond the samples, checked on
//! the PCMs CI has (alsa-lib's `null` and `file` plugins, fixtures/alsa/rtmix.conf) and on
//! hand-made device clocks:
//!
//! * the offset between a duplex stream's clocks, exactly, and whether it is exact;
//! * a duplex run's engine clocks, its offset and its link state;
//! * 24-bit captures, in both containers, decoded exactly (negative samples included);
//! * an offline device (one that plays instantly) ends its run at once, without waiting
//!   for the device timeout.
//!
//! (These came out of cargo-mutants' survivors of the device, duplex and timestamp
//! modules; each test says which.)

mod common;

use std::time::{Duration, Instant};

use common::alsa_config;
use rtmix_alsa::{
    duplex_offset, Config, DuplexDevice, InputDevice, Offset, OutputDevice, RunControl,
    SampleFormat,
};
use rtmix_core::convert::{I24Packed, Sample, I24};
use rtmix_core::{
    Anchor, At, ChannelMap, DeviceClock, Heap, Record, StreamCapacity, StreamConfig, TimeSource,
};

const RATE: u32 = 48_000;

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("rtmix-alsa-faults-{}-{name}", std::process::id()))
}

type Ctl = rtmix_core::Controller<Vec<f32>, Vec<f32>, Heap>;

/// A host stream of `config`.
fn engine(config: StreamConfig) -> (Ctl, rtmix_core::Engine<Vec<f32>, Vec<f32>, Heap>) {
    rtmix_core::open(config, StreamCapacity::default()).unwrap()
}

/// A clock at 48 kHz whose one anchor says `frame` was at the converter at `at`, from
/// `source`.
fn clock_at(frame: u64, at: Instant, source: TimeSource) -> DeviceClock {
    let clock = DeviceClock::new(RATE);
    clock.publish(Anchor {
        frame,
        at,
        next_frame: frame + 256,
        latency_frames: 256,
        source,
    });
    clock
}

/// `duplex_offset` is the input frame at the ADC minus the output frame at the DAC, both
/// at the output's latest anchor: exact only for a linked pair whose two anchors are both
/// the device's own timestamps, an estimate otherwise; `None` until both clocks have an
/// anchor. (Kills the survivors of `duplex_offset`: `None`, each `&&` made `||`, each
/// `==` made `!=`, and the subtraction made `+` or `/`.)
#[test]
fn the_duplex_offset_is_the_input_frame_minus_the_output_frame_at_one_instant() {
    use TimeSource::{Device, Host};
    // The output anchor is 10 ms (480 frames) after the input's: at the output's
    // instant the input is at 5_000 + 480 = 5_480, the output at 1_000.
    let input_at = Instant::now();
    let t = input_at + Duration::from_millis(10);
    for (linked, out_source, in_source, exact) in [
        (true, Device, Device, true),
        (false, Device, Device, false),
        (true, Host, Device, false),
        (true, Device, Host, false),
        (true, Host, Host, false),
        (false, Host, Host, false),
    ] {
        let what = format!("linked {linked}, output {out_source:?}, input {in_source:?}");
        let output = clock_at(1_000, t, out_source);
        let input = clock_at(5_000, input_at, in_source);
        let want = if exact {
            Offset::exact(4_480)
        } else {
            Offset::estimate(4_480)
        };
        assert_eq!(duplex_offset(&output, &input, linked), Some(want), "{what}");
    }
    // The input behind the output: a negative offset, exactly.
    let output = clock_at(9_000, t, Device);
    let input = clock_at(2_000, input_at, Device);
    assert_eq!(
        duplex_offset(&output, &input, true),
        Some(Offset::exact(-6_520))
    );
    // No anchor on either side: no offset.
    let bare = DeviceClock::new(RATE);
    assert_eq!(duplex_offset(&bare, &input, true), None);
    assert_eq!(duplex_offset(&output, &bare, true), None);
}

/// A duplex run on file PCMs (unpaced, never an xrun): each direction's report ends on
/// its engine half's clock, which counts exactly the frames moved; once both sides have
/// run, the device's offset is the one its clocks give, an estimate (file PCMs have no
/// card, so they are never one clock); and PCMs that `snd_pcm_link` cannot join (the
/// `file` plugin over `null`) are not reported as started together. (Kills the
/// `DuplexEngine for Engine` clock survivors (`0`, `1`), `DuplexDevice::offset -> None`
/// and `started_together -> true`.)
#[test]
fn a_duplex_run_reports_its_engine_clocks_and_offset() {
    alsa_config();
    let out_path = temp("duplex-out.raw");
    let in_path = temp("duplex-in.raw");
    let source = vec![0u8; 4 * 2 * 4_000];
    std::fs::write(&in_path, source).unwrap();
    let output = Config::new(&format!("rtmix_file:FILE={}", out_path.display()), RATE, 2)
        .period(64)
        .periods(3);
    let input = Config::new(&format!("rtmix_infile:FILE={}", in_path.display()), RATE, 2)
        .period(64)
        .periods(3);
    let mut device = DuplexDevice::open(&output, &input).unwrap();
    assert!(
        !device.started_together(),
        "file PCMs over null cannot link"
    );
    assert!(!device.linked());
    assert_eq!(device.offset(), None, "no anchor before the run");
    let (_ctl, mut engine) = engine(StreamConfig::duplex(2, 2));
    let control = RunControl {
        stop_after: Some(1_500),
        ..RunControl::default()
    };
    let report = device.run(&mut engine, &control).unwrap();
    assert_eq!(report.output.frames, 1_500);
    assert!(report.input.frames > 0, "{report:?}");
    assert_eq!(report.output.engine_clock, report.output.frames);
    assert_eq!(report.input.engine_clock, report.input.frames);
    assert_eq!(engine.output.clock(), report.output.frames);
    assert_eq!(engine.input.clock(), report.input.frames);
    let (out_clock, in_clock) = device.clocks();
    let offset = device
        .offset()
        .expect("both clocks have anchors after the run");
    assert_eq!(Some(offset), duplex_offset(&out_clock, &in_clock, false));
    assert_eq!(offset.kind, rtmix_alsa::OffsetKind::Estimate);
    drop(device);
    let _ = std::fs::remove_file(out_path);
    let _ = std::fs::remove_file(in_path);
}

/// 24-bit samples captured in `format` from a file holding `values`, recorded from frame
/// 99 for 500 frames, against what rtmix-core decodes them to.
fn capture_24(format: SampleFormat, values: &[i32], bytes: Vec<u8>) {
    alsa_config();
    let path = temp(&format!("in-{format:?}.raw"));
    std::fs::write(&path, bytes).unwrap();
    let config = Config::new(&format!("rtmix_infile:FILE={}", path.display()), RATE, 2)
        .period(64)
        .periods(4)
        .format(format);
    let mut device = InputDevice::open(&config).unwrap();
    assert_eq!(device.granted().format, format);
    let (mut ctl, engine) = engine(StreamConfig::input(2));
    let (_, mut input_engine) = engine.split();
    let rec = ctl
        .record(
            Record::new(vec![0.0; 500 * 2], ChannelMap::new(&[0, 1]).unwrap()).at(At::Frame(99)),
        )
        .unwrap();
    let control = RunControl {
        stop_after: Some(1_000),
        ..RunControl::default()
    };
    let report = device.run(&mut input_engine, &control).unwrap();
    assert_eq!(report.frames, 1_000, "{format:?}");
    let got = ctl.take(rec).unwrap().into_recording().unwrap();
    let want: Vec<f32> = values[99 * 2..599 * 2]
        .iter()
        .map(|&v| I24(v).to_f32())
        .collect();
    assert_eq!(got, want, "{format:?}");
    let _ = std::fs::remove_file(path);
}

/// Every 24-bit value from the most negative to the most positive, in steps, both signs.
fn values_24() -> Vec<i32> {
    (0..4_000)
        .map(|i: i64| i32::try_from((i * 4_194_301) % 16_777_216 - 8_388_608).unwrap())
        .collect()
}

/// A 24-bit capture in a 32-bit container (`S24_LE`: the value in the low three bytes,
/// the high byte unused, here zero even for negative samples) is sign-extended from its
/// 24th bit: every sample, negative ones included, comes to the recording exactly as
/// rtmix-core decodes it. (Kills the survivors of the sign extension `(v << 8) >> 8`.)
#[test]
fn a_24_bit_capture_is_sign_extended_exactly() {
    let values = values_24();
    assert!(values.iter().any(|&v| v < -4_000_000) && values.iter().any(|&v| v > 4_000_000));
    let bytes = values
        .iter()
        .flat_map(|&v| ((v as u32) & 0x00FF_FFFF).to_le_bytes())
        .collect();
    capture_24(SampleFormat::I24, &values, bytes);
}

/// A packed 24-bit capture (`S24_3LE`, three bytes a sample) is decoded three bytes at a
/// time into whole frames: the recording holds exactly the file's samples from its frame.
/// (Kills the survivors of the packed capture's frame size, `ch * 3`, and block length,
/// `buf.len() / 3`.)
#[test]
fn a_packed_24_bit_capture_is_decoded_exactly() {
    let values = values_24();
    let bytes: Vec<u8> = values
        .iter()
        .flat_map(|&v| {
            let b = v.to_le_bytes();
            let packed = [b[0], b[1], b[2]];
            assert_eq!(I24Packed(packed).to_f32(), I24(v).to_f32());
            packed
        })
        .collect();
    capture_24(SampleFormat::I24Packed, &values, bytes);
}

/// An offline device (a file over `null`, which plays what it is given at once and
/// always has its whole buffer free) ends its run at once: the play-out at the end sees
/// nothing queued and stops, rather than sleeping until the device timeout, here 20 s.
/// (Kills the play-out's guard made `true` or `<=`: with nothing queued they sleep a
/// millisecond at a time until the timeout.)
#[test]
fn an_offline_device_ends_its_run_without_waiting_for_the_timeout() {
    alsa_config();
    let config = Config::new("rtmix_file:FILE=/dev/null", RATE, 2)
        .period(64)
        .periods(4);
    let mut device = OutputDevice::open(&config).unwrap();
    let (_ctl, engine) = engine(StreamConfig::output(2));
    let (mut output, _) = engine.split();
    let control = RunControl {
        stop_after: Some(4_800),
        device_timeout: Duration::from_secs(20),
        ..RunControl::default()
    };
    let begun = Instant::now();
    let report = device.run(&mut output, &control).unwrap();
    let took = begun.elapsed();
    assert_eq!(report.frames, 4_800);
    assert!(
        took < Duration::from_secs(10),
        "the run took {took:?}: it waited for the timeout"
    );
}
