//! rtmix-cpal on cpal's ALSA host against ALSA `file` PCMs (backend-cpal/fixtures/cpal.conf),
//! which write or read raw samples byte for byte, unpaced:
//!
//! * scheduled plays reach the file exactly as the offline render has them, in `f32` and
//!   in integer formats converted by rtmix-core's rules, with no allocation in the real
//!   callback on cpal's audio thread;
//! * a recording from a file holds exactly that file's samples from its frame;
//! * the anchors of a `file` PCM over `null` say `TimeSource::Host`;
//! * enumeration lists the private configuration's PCMs;
//! * a missing host or device, or a refused configuration, is a clear typed error.

mod common;

use std::sync::atomic::Ordering;

use common::{audit, file_pcms, open, temp, Ctl, AUDITED_CALLBACKS, CALLBACK_ALLOCATIONS};
use rtmix_core::{At, ChannelMap, Interval, Play, Record, Repeat, StreamConfig, TimeSource};
use rtmix_cpal::{
    Config, CpalError, CpalStream, InputDevice, OutputDevice, RunControl, SampleFormat,
};
use rtmix_host_tests::alloc_guard::GuardedAlloc;

#[global_allocator]
static ALLOC: GuardedAlloc = GuardedAlloc;

const RATE: u32 = 48_000;

/// A schedule: a looped click grid, a tone with a fade, a play cut short.
fn schedule(ctl: &mut Ctl) {
    let ch = |c: &[u16]| ChannelMap::new(c).unwrap();
    ctl.play(
        Play::new(vec![1.0, 0.5, 0.25, -0.125], ch(&[0]))
            .interval(Interval::new(2_880_000, 119 * 40).unwrap())
            .repeat(Repeat::Times(20))
            .at(At::Frame(3)),
    )
    .unwrap();
    let tone: Vec<f32> = (0..3000).map(|i| ((i % 50) as f32 - 25.0) / 64.0).collect();
    let id = ctl
        .play(Play::new(tone, ch(&[1])).at(At::Frame(777)).fade_in(300))
        .unwrap();
    ctl.cancel_with(
        id,
        At::Frame(2500),
        rtmix_core::Late::Skip,
        rtmix_core::Ending::FadeOut(200),
    )
    .unwrap();
}

/// The same schedule rendered offline in uneven blocks.
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

/// Plays the schedule into the file PCM in `format`; returns the file's bytes.
fn play_into_file(format: SampleFormat, frames: u64, name: &str) -> Vec<u8> {
    let path = temp(name);
    std::env::set_var("RTMIX_CPAL_FILE", &path);
    let config = Config::new("rtmix_cpal_file", RATE, 2)
        .host("ALSA")
        .period(256)
        .format(format);
    let device = OutputDevice::open(&config).unwrap();
    assert_eq!(device.granted().format, format);
    // A `file` PCM over `null`: the status's timestamp is the host's clock read when
    // asked, and the anchors say so.
    assert_eq!(device.granted().time_source, TimeSource::Host);
    let (mut ctl, engine) = open(StreamConfig::output(2));
    let (output, _) = engine.split();
    schedule(&mut ctl);
    let control = RunControl {
        stop_after: Some(frames),
        audit: Some(audit),
        ..RunControl::default()
    };
    let stream = CpalStream::play(device, output, control).unwrap();
    assert_eq!(stream.granted().period, Some(256));
    let clock = stream.clock();
    let report = stream.join().unwrap();
    assert_eq!(clock.anchor().unwrap().source, TimeSource::Host);
    assert_eq!(report.frames, frames, "{report:?}");
    assert_eq!(report.engine_clock, frames);
    let bytes = std::fs::read(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    bytes
}

#[test]
fn scheduled_plays_reach_the_file_sample_for_sample_without_allocating() {
    let _files = file_pcms();
    let frames = 6000;
    let before = AUDITED_CALLBACKS.load(Ordering::Relaxed);
    let allocations = CALLBACK_ALLOCATIONS.load(Ordering::Relaxed);
    let bytes = play_into_file(SampleFormat::F32, frames, "f32.raw");
    let audited = AUDITED_CALLBACKS.load(Ordering::Relaxed) - before;
    assert!(audited >= 6000 / 256, "only {audited} callbacks audited");
    assert_eq!(
        CALLBACK_ALLOCATIONS.load(Ordering::Relaxed) - allocations,
        0,
        "the real callback allocated or freed"
    );
    let written: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let want = offline(frames as usize);
    // cpal keeps writing (silence) until the stream is torn down: the played part leads.
    assert!(written.len() >= want.len(), "{} samples", written.len());
    assert!(
        want.iter().filter(|&&x| x != 0.0).count() > 1500,
        "the schedule plays"
    );
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(
        bits(&written[..want.len()]),
        bits(&want),
        "the file differs from the offline render"
    );
    assert!(
        written[want.len()..].iter().all(|&x| x == 0.0),
        "silence after stop_after"
    );
}

/// Integer formats, insisted on against the file PCM: the file holds the offline render
/// converted with rtmix-core's rules, byte for byte.
#[test]
fn integer_formats_reach_the_file_converted_exactly() {
    use rtmix_core::convert::{Sample, I24};
    let _files = file_pcms();
    let frames = 1500;
    let want = offline(frames);
    for format in [
        SampleFormat::I16,
        SampleFormat::I32,
        SampleFormat::U8,
        SampleFormat::F64,
    ] {
        let bytes = play_into_file(format, frames as u64, &format!("{format:?}.raw"));
        let expect: Vec<u8> = want
            .iter()
            .flat_map(|&x| match format {
                SampleFormat::I16 => i16::from_f32(x).0.to_le_bytes().to_vec(),
                SampleFormat::I32 => i32::from_f32(x).0.to_le_bytes().to_vec(),
                SampleFormat::I24 => I24::from_f32(x).0 .0.to_le_bytes().to_vec(),
                SampleFormat::U8 => vec![u8::from_f32(x).0],
                SampleFormat::F64 => f64::from(x).to_le_bytes().to_vec(),
                _ => unreachable!(),
            })
            .collect();
        assert!(bytes.len() >= expect.len(), "{format:?}");
        assert_eq!(&bytes[..expect.len()], &expect[..], "{format:?}");
    }
}

fn record_from_file(input: &[u8], format: SampleFormat, at: u64, frames: usize) -> Vec<f32> {
    let path = temp(&format!("in-{format:?}.raw"));
    std::fs::write(&path, input).unwrap();
    std::env::set_var("RTMIX_CPAL_INFILE", &path);
    let config = Config::new("rtmix_cpal_infile", RATE, 2)
        .host("ALSA")
        .period(128)
        .format(format);
    let device = InputDevice::open(&config).unwrap();
    let (mut ctl, engine) = open(StreamConfig::input(2));
    let (_, input_engine) = engine.split();
    let rec = ctl
        .record(
            Record::new(vec![0.0; frames * 2], ChannelMap::new(&[1, 0]).unwrap()).at(At::Frame(at)),
        )
        .unwrap();
    let control = RunControl {
        stop_after: Some(at + frames as u64 + 500),
        audit: Some(audit),
        ..RunControl::default()
    };
    let report = CpalStream::record(device, input_engine, control)
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(report.frames, at + frames as u64 + 500);
    let done = ctl.take(rec).unwrap();
    assert_eq!(done.actual_start, Some(at));
    let _ = std::fs::remove_file(path);
    done.into_recording().unwrap()
}

#[test]
fn a_recording_holds_the_infile_from_its_frame() {
    use rtmix_core::convert::Sample;
    let _files = file_pcms();
    let allocations = CALLBACK_ALLOCATIONS.load(Ordering::Relaxed);
    let input: Vec<f32> = (0..16_000).map(|i| (i as f32 - 8000.0) / 8192.0).collect();
    let bytes: Vec<u8> = input.iter().flat_map(|x| x.to_le_bytes()).collect();
    let got = record_from_file(&bytes, SampleFormat::F32, 1234, 1000);
    for (k, frame) in got.chunks_exact(2).enumerate() {
        let f = 1234 + k;
        assert_eq!(frame, [input[f * 2 + 1], input[f * 2]], "frame {f}");
    }
    // 16-bit capture, decoded by rtmix-core's rules.
    let input16: Vec<i16> = (0..16_000)
        .map(|i| ((i * 37) % 65_536 - 32_768) as i16)
        .collect();
    let bytes: Vec<u8> = input16.iter().flat_map(|x| x.to_le_bytes()).collect();
    let got = record_from_file(&bytes, SampleFormat::I16, 99, 500);
    for (k, frame) in got.chunks_exact(2).enumerate() {
        let f = 99 + k;
        assert_eq!(
            frame,
            [input16[f * 2 + 1].to_f32(), input16[f * 2].to_f32()],
            "frame {f}"
        );
    }
    assert_eq!(
        CALLBACK_ALLOCATIONS.load(Ordering::Relaxed) - allocations,
        0
    );
}

#[test]
fn enumeration_lists_the_private_pcms() {
    common::alsa_config();
    let hosts = rtmix_cpal::hosts();
    assert!(hosts.iter().any(|h| h.name == "ALSA"), "{hosts:?}");
    let devices = rtmix_cpal::devices(Some("alsa")).unwrap();
    let names: Vec<&str> = devices.iter().map(|d| d.name.as_str()).collect();
    for pcm in [
        "rtmix_jack",
        "rtmix_cpal_file",
        "rtmix_cpal_infile",
        "null",
        "default",
    ] {
        assert!(names.contains(&pcm), "{pcm} missing from {names:?}");
    }
    let file = devices
        .iter()
        .find(|d| d.name == "rtmix_cpal_file")
        .unwrap();
    assert!(
        file.output.iter().any(|r| r.channels == 2
            && r.format == rtmix_cpal::cpal::SampleFormat::F32
            && (r.min_rate..=r.max_rate).contains(&RATE)),
        "{:?}",
        file.output
    );
    assert!(
        file.output.iter().any(|r| r.period.is_some()),
        "buffer-size ranges listed"
    );
    assert_eq!(file.id.as_deref(), Some("alsa:rtmix_cpal_file"));
    assert!(
        devices.iter().any(|d| d.is_default_output),
        "a default output is marked"
    );
}

#[test]
fn missing_hosts_and_devices_and_refused_configurations_are_clear_errors() {
    common::alsa_config();
    let missing = OutputDevice::open(&Config::new("rtmix_no_such_pcm", RATE, 2).host("ALSA"));
    match missing {
        Err(CpalError::NoSuchDevice {
            ref device,
            ref available,
            ..
        }) => {
            assert_eq!(device, "rtmix_no_such_pcm");
            assert!(
                available.iter().any(|d| d == "rtmix_cpal_file"),
                "{available:?}"
            );
            let text = missing.as_ref().unwrap_err().to_string();
            assert!(
                text.contains("rtmix_no_such_pcm") && text.contains("rtmix_cpal_file"),
                "{text}"
            );
        }
        other => panic!("{other:?}"),
    }
    let host = OutputDevice::open(&Config::new("default", RATE, 2).host("NoSuchHost"));
    assert!(
        matches!(host, Err(CpalError::NoSuchHost { .. })),
        "{host:?}"
    );
    let _files = file_pcms();
    let wide = OutputDevice::open(&Config::new("rtmix_cpal_file", RATE, 0).host("ALSA"));
    assert!(
        matches!(
            wide,
            Err(CpalError::Unsupported {
                what: "channel count",
                ..
            })
        ),
        "{wide:?}"
    );
    let many = OutputDevice::open(&Config::new("rtmix_cpal_file", RATE, 200).host("ALSA"));
    match many {
        Err(CpalError::Unsupported {
            what: "channel count",
            ref message,
        }) => {
            assert!(message.contains("200 channels"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}
