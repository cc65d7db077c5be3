//! The granted configuration says what the device really runs: behind a `plug` that
//! converts, the hardware's own format (fixtures/alsa/rtmix.conf's `rtmix_plug16_file`,
//! a plug over a 16-bit file), and nothing more where no plugin converts.

mod common;

use common::alsa_config;
use rtmix_alsa::{Config, OutputDevice, RunControl, SampleFormat};
use rtmix_core::{ChannelMap, Play, StreamCapacity, StreamConfig};

const RATE: u32 = 48_000;

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rtmix-hwfmt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn a_plug_over_16_bits_is_granted_as_float_on_s16_hardware_and_the_file_holds_s16() {
    alsa_config();
    let path = temp("plug16.raw");
    let config = Config::new(
        &format!("rtmix_plug16_file:FILE={}", path.display()),
        RATE,
        2,
    )
    .period(64)
    .periods(4);
    let mut device = OutputDevice::open(&config).unwrap();
    let granted = device.granted().clone();
    assert_eq!(
        granted.format,
        SampleFormat::F32,
        "rtmix's first choice, through the plug"
    );
    assert_eq!(granted.hardware_format.as_deref(), Some("S16_LE"));

    // Half scale on both channels for the whole run: the file must hold it as 16-bit.
    let (mut ctl, engine) =
        rtmix_core::open::<Vec<f32>, Vec<f32>>(StreamConfig::output(2), StreamCapacity::default())
            .unwrap();
    let (mut output, _) = engine.split();
    let frames = 4096u64;
    ctl.play(Play::new(
        vec![0.5; 2 * frames as usize],
        ChannelMap::new(&[0, 1]).unwrap(),
    ))
    .unwrap();
    let control = RunControl {
        stop_after: Some(frames),
        ..RunControl::default()
    };
    let report = device.run(&mut output, &control).unwrap();
    assert_eq!(report.frames, frames);
    drop(device); // closes the file
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(
        bytes.len() as u64,
        frames * 2 * 2,
        "2 channels of 2-byte samples"
    );
    let samples: Vec<i16> = bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    assert!(
        samples.iter().all(|&s| s == 16_384),
        "0.5 as S16 is 16384; found {:?}",
        samples.iter().find(|&&s| s != 16_384)
    );
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_pcm_that_converts_nothing_reports_no_hardware_format_of_its_own() {
    alsa_config();
    let path = temp("plain.raw");
    let config = Config::new(&format!("rtmix_file:FILE={}", path.display()), RATE, 2).period(64);
    let device = OutputDevice::open(&config).unwrap();
    assert_eq!(device.granted().format, SampleFormat::F32);
    assert_eq!(device.granted().hardware_format, None);
    drop(device);
    let _ = std::fs::remove_file(&path);
}
