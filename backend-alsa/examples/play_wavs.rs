//! Plays WAV files at exact frames on a named ALSA device.
//!
//! ```sh
//! cargo run --release -p rtmix-alsa --example play_wavs -- hw:0,0 intro.wav@0 click.wav@48000
//! ```
//!
//! Each argument after the device is `FILE@FRAME`: the file starts at exactly that frame of
//! the device's playback (48 kHz, stereo; a mono file plays on the left channel). The
//! program ends when every file has played.

use std::error::Error;

use rtmix_alsa::{AlsaStream, Config, OutputDevice, RunControl};
use rtmix_core::{At, ChannelMap, Play, StreamCapacity, StreamConfig};

const RATE: u32 = 48_000;
const CHANNELS: u16 = 2;

/// The samples of a WAV file as interleaved `f32`, and its channel count.
fn load(path: &str) -> Result<(Vec<f32>, u16), Box<dyn Error>> {
    let mut reader = hound::WavReader::open(path)?;
    let spec = reader.spec();
    if spec.sample_rate != RATE {
        return Err(format!("{path}: {} Hz, not {RATE} Hz", spec.sample_rate).into());
    }
    let samples = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>()?,
        hound::SampleFormat::Int => {
            let scale = 2f32.powi(i32::from(spec.bits_per_sample) - 1);
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 / scale))
                .collect::<Result<_, _>>()?
        }
    };
    Ok((samples, spec.channels))
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let device = args
        .next()
        .ok_or("usage: play_wavs DEVICE FILE@FRAME ...")?;
    // Storage for the stream, freed when `ctl` and the stream's thread are both done.
    let (mut ctl, engine) = rtmix_core::open::<Vec<f32>, Vec<f32>>(
        StreamConfig::output(CHANNELS),
        StreamCapacity::default(),
    )?;
    let (output, _) = engine.split();
    let mut ids = Vec::new();
    for arg in args {
        let (path, frame) = arg.rsplit_once('@').ok_or("arguments are FILE@FRAME")?;
        let (samples, channels) = load(path)?;
        let map = ChannelMap::contiguous(0, channels.min(CHANNELS))?;
        let play = Play::new(samples, map).at(At::Frame(frame.parse()?));
        ids.push(ctl.play(play).map_err(|r| r.error)?);
    }
    let device = OutputDevice::open(&Config::new(&device, RATE, CHANNELS).period(256).periods(3))?;
    println!("granted: {:?}", device.granted());
    let stream = AlsaStream::play(device, output, RunControl::default())?;
    let realtime = stream.wait_realtime(std::time::Duration::from_secs(1));
    println!("scheduling: {realtime:?}");
    for id in ids {
        let done = ctl.wait(id)?;
        println!(
            "{id:?}: asked {:?}, started {:?}, {} frames, {:?}",
            done.requested, done.actual_start, done.frames, done.end
        );
    }
    let report = stream.stop()?;
    println!("{report:?}");
    Ok(())
}
