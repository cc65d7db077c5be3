//! Plays a WAV file and records at the same time through one duplex stream, then reports
//! the round trip: the offset the API reports between the two frame clocks (exact or an
//! estimate), and the round trip measured by cross-correlating the recording with the file
//! (meaningful when the output is looped back to the input: a cable, or JACK's loopback
//! ports).
//!
//! ```sh
//! cargo run --release -p rtmix-cpal --example play_record -- [--host ALSA] OUTPUT INPUT file.wav [recording.wav]
//! cargo run --release -p rtmix-cpal --features jack --example play_record -- --host JACK --wait 2 output input file.wav
//! ```

use std::time::Duration;

use rtmix_core::{At, ChannelMap, Play, Queues, Record, StreamConfig};
use rtmix_cpal::{Config, CpalStream, DuplexDevice, RunControl};

type Q = Queues<Vec<f32>, Vec<f32>, 16, 16>;

#[allow(clippy::too_many_lines, clippy::cast_possible_wrap)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let host = match args.iter().position(|a| a == "--host") {
        Some(i) => {
            args.remove(i);
            Some(args.remove(i))
        }
        None => None,
    };
    // Seconds to wait after starting before playing (time to patch JACK ports, say).
    let wait = match args.iter().position(|a| a == "--wait") {
        Some(i) => {
            args.remove(i);
            args.remove(i).parse::<f64>()?
        }
        None => 0.0,
    };
    let [output, input, file, rest @ ..] = &args[..] else {
        eprintln!(
            "usage: play_record [--host NAME] [--wait SECONDS] OUTPUT INPUT file.wav [recording.wav]"
        );
        std::process::exit(2);
    };
    let mut reader = hound::WavReader::open(file)?;
    let spec = reader.spec();
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>()?,
        hound::SampleFormat::Int => {
            let scale = (1u64 << (spec.bits_per_sample - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 / scale))
                .collect::<Result<_, _>>()?
        }
    };
    let channels = spec.channels.min(2);
    let frames = samples.len() / usize::from(spec.channels);
    // The file's first channels, interleaved as the stream's.
    let sound: Vec<f32> = samples
        .chunks_exact(usize::from(spec.channels))
        .flat_map(|f| f[..usize::from(channels)].to_vec())
        .collect();

    let with_host = |c: Config| match &host {
        Some(h) => c.host(h),
        None => c,
    };
    let out_config = with_host(Config::new(output, spec.sample_rate, channels));
    let in_config = with_host(Config::new(input, spec.sample_rate, 1));
    let device = DuplexDevice::open(&out_config, &in_config)?;
    println!("granted: {:?}", device.granted());

    let queues: &'static mut Q = Box::leak(Box::default());
    let (mut ctl, engine) = queues.split(StreamConfig::duplex(channels, 1))?;
    let stream = CpalStream::duplex(device, engine, RunControl::default())?;
    std::thread::sleep(Duration::from_secs_f64(wait));
    while stream.offset().is_none() {
        std::thread::sleep(Duration::from_millis(5));
    }
    // The file half a second ahead of the DAC; the recording from the frame at the ADC
    // now (still ahead of the input engine, which gets frames after the input latency).
    let rate = u64::from(spec.sample_rate);
    let play_at = stream.clock().now().unwrap_or(0) + rate / 2;
    let record_at = stream.input_clock().now().unwrap_or(0);
    let map: Vec<u16> = (0..channels).collect();
    let play = ctl.play(Play::new(sound.clone(), ChannelMap::new(&map)?).at(At::Frame(play_at)))?;
    let listen = frames + 2 * rate as usize;
    let rec = ctl
        .record(Record::new(vec![0.0; listen], ChannelMap::new(&[0])?).at(At::Frame(record_at)))?;
    let recording = ctl.wait(rec)?.into_recording().unwrap_or_default();
    let played = ctl.wait(play)?;
    let report = stream.stop()?;
    println!("played {} frames ({:?})", played.frames, played.end);
    println!("output {:?}", report.output);
    println!("input  {:?}", report.input);
    if let Some(o) = report.offset {
        println!(
            "reported offset: {} frames ({:.2}, {:?}), drift {:?} ppm over {:?}",
            o.frames, o.precise, o.kind, o.drift_ppm, o.span
        );
    }
    // Cross-correlate the file's first channel with the recording.
    let mono: Vec<f32> = sound
        .iter()
        .step_by(usize::from(channels))
        .copied()
        .collect();
    let probe = &mono[..mono.len().min(rate as usize)];
    let mut best = (0.0f32, 0usize);
    for lag in 0..recording.len().saturating_sub(probe.len()) {
        let c: f32 = recording[lag..lag + probe.len()]
            .iter()
            .zip(probe)
            .map(|(a, b)| a * b)
            .sum();
        if c > best.0 {
            best = (c, lag);
        }
    }
    if best.0 > 0.0 {
        let round_trip = (record_at + best.1 as u64) as i64 - play_at as i64;
        println!(
            "measured round trip: {round_trip} frames ({:.2} ms)",
            round_trip as f64 * 1e3 / rate as f64
        );
    } else {
        println!("the file did not come back: is the output looped back to the input?");
    }
    if let Some(path) = rest.first() {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: spec.sample_rate,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut w = hound::WavWriter::create(path, spec)?;
        for s in &recording {
            w.write_sample(*s)?;
        }
        w.finalize()?;
    }
    Ok(())
}
