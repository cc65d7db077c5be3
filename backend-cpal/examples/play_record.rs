//! Plays a WAV file (or a generated noise burst) and records at the same time through one
//! duplex stream, then measures the round trip by cross-correlating the recording with
//! what was played, and prints it beside the offset the API reports between the two frame
//! clocks (exact on JACK, an estimate elsewhere). The output must come back to the input:
//! a cable, or JACK's loopback ports (`jackd -L 2 ...`).
//!
//! ```sh
//! # usage
//! play_record [--host NAME] [--period FRAMES] [--channels N] [--jack-loopback] OUTPUT INPUT (FILE.wav | --burst) [RECORDING.wav]
//!
//! # cpal's ALSA host on the private config's `rtmix_jack` PCM (wired to the loopback
//! # ports by the ALSA configuration itself):
//! ALSA_CONFIG_PATH=/usr/share/alsa/alsa.conf:$PWD/fixtures/alsa/rtmix.conf \
//!   cargo run --release -p rtmix-cpal --example play_record -- --host ALSA --period 1024 --channels 2 rtmix_jack rtmix_jack --burst
//!
//! # cpal's JACK host; the example wires its clients to the loopback ports itself:
//! cargo run --release -p rtmix-cpal --features jack --example play_record -- --host JACK --jack-loopback output input --burst
//! ```
//!
//! How to read the two figures: the reported offset says that output frame `f` is at the
//! DAC at the same instant as input frame `f + offset` is at the ADC, as the host's
//! timestamps place the converters. The measured round trip is where output frame `f`
//! really came back: `f + offset + L`, where `L` is what the path between the converters
//! adds (zero for a cable between real converters). On JACK the offset is exact and `L`
//! is fixed: the loopback ports move the signal in one period while declaring
//! hardware-like latencies, so `L = period - (declared playback + capture latency)`. On
//! ALSA the offset is an estimate and `L` varies from run to run by what the estimate
//! misses.

use std::process::Command;
use std::time::{Duration, Instant};

use rtmix_core::{At, ChannelMap, Play, Record, StreamCapacity, StreamConfig};
use rtmix_cpal::{Config, CpalStream, DuplexDevice, RunControl};

type Failure = Box<dyn std::error::Error>;

/// The burst `--burst` plays: half a second of reproducible noise.
const BURST_SECONDS: f64 = 0.5;
/// Frames of the probe cross-correlated with the recording: the loudest stretch of what
/// was played.
const PROBE: usize = 8192;

/// What the command line asks.
struct Args {
    host: Option<String>,
    period: Option<u32>,
    /// Channels to open both devices with (the sound's for the output, one for the input
    /// if not given); the sound plays on the first, the first is recorded.
    channels: Option<u16>,
    jack_loopback: bool,
    output: String,
    input: String,
    /// `None`: the generated burst.
    file: Option<String>,
    recording: Option<String>,
}

fn parse() -> Result<Args, Failure> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut take = |flag: &str| -> Option<String> {
        let i = args.iter().position(|a| a == flag)?;
        args.remove(i);
        (i < args.len()).then(|| args.remove(i))
    };
    let host = take("--host");
    let period = take("--period").map(|p| p.parse()).transpose()?;
    let channels = take("--channels").map(|p| p.parse()).transpose()?;
    let mut flag = |name: &str| {
        let at = args.iter().position(|a| a == name);
        at.map(|i| args.remove(i)).is_some()
    };
    let jack_loopback = flag("--jack-loopback");
    let burst = flag("--burst");
    let usage =
        "usage: play_record [--host NAME] [--period FRAMES] [--channels N] [--jack-loopback] \
                 OUTPUT INPUT (FILE.wav | --burst) [RECORDING.wav]";
    let mut rest = args.into_iter();
    let (Some(output), Some(input)) = (rest.next(), rest.next()) else {
        return Err(usage.into());
    };
    let file = if burst { None } else { rest.next() };
    if file.is_none() && !burst {
        return Err(usage.into());
    }
    Ok(Args {
        host,
        period,
        channels,
        jack_loopback,
        output,
        input,
        file,
        recording: rest.next(),
    })
}

/// The sound to play, interleaved, with its rate and channel count.
fn sound(file: Option<&str>) -> Result<(Vec<f32>, u32, u16), Failure> {
    let Some(file) = file else {
        let rate = 48_000;
        let mut x = 0x2545_f491u32;
        let burst = (0..(BURST_SECONDS * f64::from(rate)) as usize)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x as f32 / u32::MAX as f32) - 0.5
            })
            .collect();
        return Ok((burst, rate, 1));
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
    // The file's first two channels at most, interleaved as the stream's.
    let channels = spec.channels.clamp(1, 2);
    let sound = samples
        .chunks_exact(usize::from(spec.channels))
        .flat_map(|f| f[..usize::from(channels)].to_vec())
        .collect();
    Ok((sound, spec.sample_rate, channels))
}

/// Wires the JACK host's clients (cpal names them `cpal_client_PID_out` / `_in`, ports
/// `out_N` / `in_N`) to jackd's loopback ports instead of the system ports.
fn wire_jack_loopback(channels: u16) -> Result<(), Failure> {
    let pid = std::process::id();
    let run = |tool: &str, from: &str, to: &str| {
        Command::new(tool)
            .args([from, to])
            .status()
            .is_ok_and(|s| s.success())
    };
    for ch in 0..channels {
        let (out, inp) = (
            format!("cpal_client_{pid}_out:out_{ch}"),
            format!("cpal_client_{pid}_in:in_0"),
        );
        let n = ch + 1;
        // cpal connected them to the system ports; those may be gone already.
        run("jack_disconnect", &out, &format!("system:playback_{n}"));
        if !run("jack_connect", &out, &format!("loopback:playback_{n}")) {
            return Err(format!("jack_connect {out} loopback:playback_{n} failed").into());
        }
        if ch == 0 {
            run("jack_disconnect", "system:capture_1", &inp);
            if !run("jack_connect", "loopback:capture_1", &inp) {
                return Err(format!("jack_connect loopback:capture_1 {inp} failed").into());
            }
        }
    }
    Ok(())
}

/// A JACK port's declared latency (`jack_lsp -l`; the maximum of its range), in frames;
/// `kind` is `playback` or `capture`.
fn declared_latency(port: &str, kind: &str) -> Option<i64> {
    let out = Command::new("jack_lsp").args(["-l", port]).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "	port playback latency = [ 2048 2048 ] frames"
    let line = text
        .lines()
        .find(|l| l.contains(&format!("port {kind} latency")))?;
    line.split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .next_back()
}

/// The start of the loudest `len`-frame stretch of `mono`.
fn loudest(mono: &[f32], len: usize) -> usize {
    let len = len.min(mono.len());
    let mut energy: f64 = mono[..len].iter().map(|&x| f64::from(x * x)).sum();
    let mut best = (energy, 0);
    for start in 1..=mono.len() - len {
        energy += f64::from(mono[start + len - 1].powi(2)) - f64::from(mono[start - 1].powi(2));
        if energy > best.0 {
            best = (energy, start);
        }
    }
    best.1
}

/// The lag at which `probe` best matches `recording`, with the normalised correlation
/// there (1 for an exact copy, whatever its gain).
fn correlate(recording: &[f32], probe: &[f32]) -> Option<(usize, f64)> {
    let probe_energy: f64 = probe.iter().map(|&x| f64::from(x * x)).sum();
    let mut best: Option<(usize, f64)> = None;
    for lag in 0..=recording.len().checked_sub(probe.len())? {
        let window = &recording[lag..lag + probe.len()];
        let c: f64 = window
            .iter()
            .zip(probe)
            .map(|(&a, &b)| f64::from(a * b))
            .sum();
        if best.is_none_or(|(_, b)| c > b) {
            best = Some((lag, c));
        }
    }
    let (lag, c) = best?;
    let window_energy: f64 = recording[lag..lag + probe.len()]
        .iter()
        .map(|&x| f64::from(x * x))
        .sum();
    let norm = (probe_energy * window_energy).sqrt();
    Some((lag, if norm > 0.0 { c / norm } else { 0.0 }))
}

/// The configuration the command line asks for `device`.
fn config(args: &Args, device: &str, rate: u32, channels: u16) -> Config {
    let c = Config::new(device, rate, channels);
    let c = match &args.host {
        Some(h) => c.host(h),
        None => c,
    };
    match args.period {
        Some(p) => c.period(p),
        None => c,
    }
}

/// The latencies JACK declares for this program's own ports (cpal's timestamps put the
/// converters there, taking the largest of a client's ports): `(playback, capture)`.
/// Read while the clients still exist.
fn declared_latencies(out_channels: u16, in_channels: u16) -> Option<(i64, i64)> {
    let pid = std::process::id();
    let largest = |client: &str, n: u16, kind: &str| {
        (0..n)
            .map(|ch| declared_latency(&format!("cpal_client_{pid}_{client}:{client}_{ch}"), kind))
            .collect::<Option<Vec<i64>>>()
            .and_then(|v| v.into_iter().max())
    };
    largest("out", out_channels, "playback").zip(largest("in", in_channels, "capture"))
}

/// `frames` at `rate` in milliseconds.
fn ms(frames: i64, rate: u32) -> f64 {
    frames as f64 * 1e3 / f64::from(rate)
}

/// Prints the reported offset beside the measured round trip, and on JACK's loopback
/// ports what the declared latencies predict for their difference.
fn compare(
    offset: Option<rtmix_cpal::Offset>,
    measured: Option<i64>,
    declared: Option<(i64, i64)>,
    period: Option<u32>,
    rate: u32,
) {
    match (offset, measured) {
        (Some(o), Some(round_trip)) => {
            println!(
                "reported offset:     {} frames ({:.3}, {:?}), drift {} over {:.1} s",
                o.frames,
                o.precise,
                o.kind,
                o.drift_ppm
                    .map_or("not yet seen".into(), |d| format!("{d:.1} ppm")),
                o.span.as_secs_f64()
            );
            println!(
                "measured - reported: {} frames ({:.2} ms): what the path between the converters adds",
                round_trip - o.frames,
                ms(round_trip - o.frames, rate)
            );
            if let (Some((playback, capture)), Some(period)) = (declared, period) {
                // What the model predicts for JACK's loopback ports (see the top).
                let expected = i64::from(period) - playback - capture;
                println!(
                    "expected through the loopback ports: period {period} - declared playback \
                     latency {playback} - declared capture latency {capture} = {expected} frames: {}",
                    if expected == round_trip - o.frames {
                        "agrees"
                    } else {
                        "DIFFERS"
                    }
                );
            }
        }
        (None, _) => println!("no offset was measured (a direction never ran)"),
        (_, None) => {
            println!("the sound did not come back: is the output looped back to the input?");
        }
    }
}

/// Writes the recording as a mono 32-bit float WAV file.
fn write_wav(path: &str, recording: &[f32], rate: u32) -> Result<(), Failure> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec)?;
    for s in recording {
        w.write_sample(*s)?;
    }
    w.finalize()?;
    Ok(())
}

fn main() -> Result<(), Failure> {
    let args = parse().inspect_err(|e| eprintln!("{e}"))?;
    let (sound, rate, channels) = sound(args.file.as_deref())?;
    let frames = sound.len() / usize::from(channels);

    let out_channels = args.channels.map_or(channels, |c| c.max(channels));
    let in_channels = args.channels.unwrap_or(1);
    let device = DuplexDevice::open(
        &config(&args, &args.output, rate, out_channels),
        &config(&args, &args.input, rate, in_channels),
    )?;

    // Storage for one play and one recording is plenty; it is freed when `ctl` and the
    // stream are gone.
    let capacity = StreamCapacity {
        actions: 4,
        commands: 4,
        completions: 4,
    };
    let (mut ctl, engine) = rtmix_core::open::<Vec<f32>, Vec<f32>>(
        StreamConfig::duplex(out_channels, in_channels),
        capacity,
    )?;
    let stream = CpalStream::duplex(device, engine, RunControl::default())?;
    let (out, inp) = (stream.granted(), stream.input_granted());
    let (out, inp) = (out.clone(), inp.clone());
    println!(
        "granted: {} {:?} / {:?}, {} Hz, {:?}, period {:?} / {:?}",
        out.host, out.device, inp.device, out.rate, out.format, out.period, inp.period
    );
    if args.jack_loopback {
        wire_jack_loopback(out_channels)?;
    }
    let t = Instant::now();
    while stream.offset().is_none() {
        if t.elapsed() > Duration::from_secs(10) {
            return Err("no callbacks came in 10 s".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    // The sound half a second after the earliest frame the output engine can still take;
    // the recording from the earliest frame the input engine can still take (a period of
    // margin each, for the commands to reach the engines), long enough for the sound and
    // a second of round trip.
    let rate64 = u64::from(rate);
    let margin = u64::from(out.period.unwrap_or(1024));
    let play_at = stream.clock().earliest(margin).unwrap_or(0) + rate64 / 2;
    let record_at = stream.input_clock().earliest(margin).unwrap_or(0);
    let map: Vec<u16> = (0..channels).collect();
    let play = ctl.play(Play::new(sound.clone(), ChannelMap::new(&map)?).at(At::Frame(play_at)))?;
    let listen = frames + rate as usize * 3 / 2;
    let rec = ctl
        .record(Record::new(vec![0.0; listen], ChannelMap::new(&[0])?).at(At::Frame(record_at)))?;
    let recorded = ctl.wait(rec)?;
    let played = ctl.wait(play)?;
    // The latencies JACK declares for this program's own ports, which cpal's timestamps
    // put the converters at, read while the clients still exist.
    let declared = args
        .jack_loopback
        .then(|| declared_latencies(out_channels, in_channels))
        .flatten();
    let report = stream.stop()?;
    println!(
        "played {} of {frames} frames ({:?}) from output frame {:?}; recorded {} of {listen} frames ({:?}) from input frame {:?}",
        played.frames,
        played.end,
        played.actual_start,
        recorded.frames,
        recorded.end,
        recorded.actual_start,
    );
    let recording = recorded.into_recording().unwrap_or_default();
    println!(
        "output: {} frames, {} xruns; input: {} frames, {} xruns",
        report.output.frames, report.output.xruns, report.input.frames, report.input.xruns
    );

    let mono: Vec<f32> = sound
        .iter()
        .step_by(usize::from(channels))
        .copied()
        .collect();
    let from = loudest(&mono, PROBE);
    let probe = &mono[from..(from + PROBE).min(mono.len())];
    let measured = correlate(&recording, probe).filter(|&(_, score)| score > 0.5);
    let measured = measured.map(|(lag, score)| {
        let round_trip =
            (record_at + lag as u64).cast_signed() - (play_at + from as u64).cast_signed();
        println!(
            "measured round trip: {round_trip} frames ({:.2} ms), correlation {score:.4}",
            ms(round_trip, rate)
        );
        round_trip
    });
    compare(report.offset, measured, declared, out.period, rate);
    if let Some(path) = &args.recording {
        write_wav(path, &recording, rate)?;
    }
    if measured.is_none() {
        std::process::exit(1);
    }
    Ok(())
}
