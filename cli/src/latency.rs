//! `rtmix latency`: the round trip of a loopback (output cabled or routed back to input),
//! measured on a duplex stream. Each run opens the device, plays a 4095-frame MLS burst on
//! one output channel at a known output frame, records one input channel from input frame
//! 0, and finds the burst by cross-correlation: the round trip is the input frame where it
//! arrived minus the output frame it was played at. The backend's own account of the
//! offset between its input and output clocks is printed beside it, marked exact or
//! estimate.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use rtmix_core::{At, ChannelMap, Late, Payload, Play, Record};

use crate::backend::{self, Ctl, DeviceArgs, ReportedOffset, Request};
use crate::correlate::{self, median};
use crate::error::Error;
use crate::session::{plural, MAX_CHANNELS};

/// The burst's amplitude.
pub const AMPLITUDE: f32 = 0.5;

/// `rtmix latency`.
#[derive(Debug, Args)]
pub struct LatencyArgs {
    /// How many runs (each opens the device anew).
    #[arg(long, default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub repeat: u32,
    /// The rate.
    #[arg(long, default_value_t = 48_000, value_name = "HZ")]
    pub rate: u32,
    /// Channels opened each way.
    #[arg(long, default_value_t = 2, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=i64::from(MAX_CHANNELS)))]
    pub channels: u16,
    /// The 1-based output channel that plays the burst.
    #[arg(long = "out", default_value_t = 1, value_name = "CH")]
    pub out_channel: u16,
    /// The 1-based input channel that hears it.
    #[arg(long = "in", default_value_t = 1, value_name = "CH")]
    pub in_channel: u16,
    /// The device (both directions).
    #[command(flatten)]
    pub device: DeviceArgs,
}

/// One run's result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measurement {
    /// Input frame of the echo minus output frame of the burst.
    pub round_trip: i64,
    /// The echo's gain.
    pub gain: f64,
    /// The backend's offset between its clocks.
    pub offset: Option<ReportedOffset>,
}

fn ms(frames: i64, rate: u32) -> f64 {
    frames as f64 * 1000.0 / f64::from(rate)
}

fn offset_text(o: Option<ReportedOffset>) -> String {
    match o {
        Some(o) => format!(
            "{} frames ({})",
            o.frames,
            if o.exact { "exact" } else { "estimate" }
        ),
        None => "not reported".to_owned(),
    }
}

/// One run on a fresh duplex stream.
fn measure_once(
    args: &LatencyArgs,
    burst: &Arc<[f32]>,
    interrupted: &Arc<AtomicBool>,
) -> Result<(Measurement, backend::Granted), Error> {
    let rate = args.rate;
    let period = u64::from(args.device.period);
    // Played after the stream has settled, and listened to for half a second after it, or
    // eight periods if that is longer.
    let start = 4 * period;
    let listen = start + burst.len() as u64 + (u64::from(rate) / 2).max(8 * period);
    let stop = Arc::new(AtomicBool::new(false));
    let out = args.out_channel - 1;
    let inp = args.in_channel - 1;
    let mut rec_id = None;
    let request = Request {
        rate,
        outputs: args.channels,
        inputs: args.channels,
        stop_after: Some(listen + period),
        meters: false,
    };
    let (mut ctl, stream, granted) =
        backend::start(&args.device, request, &stop, &mut |ctl: &mut Ctl| {
            let map = |c: u16| ChannelMap::new(&[c]).map_err(|e| Error::Usage(e.to_string()));
            ctl.play(
                Play::new(Arc::clone(burst), map(out)?)
                    .gain(AMPLITUDE)
                    .at(At::Frame(start))
                    .late(Late::Skip),
            )
            .map_err(|r| Error::Engine(format!("the engine refused the burst: {}", r.error)))?;
            let record = Record::new(vec![0.0; listen as usize], map(inp)?)
                .at(At::Frame(0))
                .late(Late::Skip);
            rec_id = Some(ctl.record(record).map_err(|r| {
                Error::Engine(format!("the engine refused the recording: {}", r.error))
            })?);
            Ok(())
        })?;
    let rec_id = rec_id.ok_or_else(|| Error::Engine("no recording".into()))?;
    while !stream.is_finished() {
        if interrupted.load(Ordering::Acquire) {
            let _ = stream.stop();
            return Err(Error::Interrupted("stopped by Ctrl-C".into()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let offset = stream.offset();
    let summary = stream.join()?;
    let done = ctl
        .take(rec_id)
        .ok_or_else(|| Error::DeviceFailed("the recording did not come back".into()))?;
    let Payload::Recorded(recording) = done.payload else {
        return Err(Error::Engine("the recording came back empty".into()));
    };
    if done.stats.frames_lost > 0 || summary.xruns > 0 {
        return Err(Error::DeviceFailed(format!(
            "{} xrun{} during the measurement ({} frames lost): try a longer --period",
            summary.xruns,
            plural(summary.xruns),
            summary.frames_lost.max(done.stats.frames_lost)
        )));
    }
    let peak = correlate::find(burst, &recording)
        .ok_or_else(|| Error::NoEcho("the recording is shorter than the burst".into()))?;
    if peak.gain < 0.01 || peak.clarity < 3.0 {
        return Err(Error::NoEcho(format!(
            "the burst played on output channel {} did not come back on input channel {} (best match: gain {:.4}, {:.1} times the next): is the output looped back to the input?",
            args.out_channel, args.in_channel, peak.gain / f64::from(AMPLITUDE), peak.clarity
        )));
    }
    Ok((
        Measurement {
            round_trip: i64::try_from(peak.position).unwrap_or(i64::MAX)
                - i64::try_from(start).unwrap_or(i64::MAX),
            gain: peak.gain / f64::from(AMPLITUDE),
            offset,
        },
        granted,
    ))
}

/// `rtmix latency`: returns the report for standard output.
pub fn run(args: &LatencyArgs) -> Result<String, Error> {
    let rate = args.rate;
    if rate == 0 || rate > crate::session::MAX_RATE {
        return Err(Error::Usage(format!("--rate {rate}: not a rate")));
    }
    for (name, c) in [("--out", args.out_channel), ("--in", args.in_channel)] {
        if c == 0 || c > args.channels {
            return Err(Error::Usage(format!(
                "{name} {c}: the stream has channels 1 to {}",
                args.channels
            )));
        }
    }
    let burst: Arc<[f32]> = correlate::mls().into();
    let interrupted = backend::ctrl_c_flag();
    let mut text = String::new();
    let mut runs = Vec::new();
    for i in 0..args.repeat {
        let (m, granted) = measure_once(args, &burst, &interrupted)?;
        if i == 0 {
            let _ = writeln!(
            text,
            "loopback round trip on {}\nburst: MLS, {} frames, amplitude {AMPLITUDE}, output channel {} -> input channel {}",
                granted.description,
                burst.len(),
                args.out_channel,
                args.in_channel
            );
        }
        let _ = writeln!(
            text,
            "run {}: {} frames ({:.3} ms), echo gain {:.3}; the backend's offset: {}",
            i + 1,
            m.round_trip,
            ms(m.round_trip, rate),
            m.gain,
            offset_text(m.offset)
        );
        runs.push(m);
    }
    let trips: Vec<i64> = runs.iter().map(|m| m.round_trip).collect();
    let (min, max) = (
        trips.iter().copied().min().unwrap_or(0),
        trips.iter().copied().max().unwrap_or(0),
    );
    let med = median(&trips).unwrap_or(0);
    let _ = writeln!(
            text,
            "round trip: {med} frames ({:.3} ms), median of {} run{}; min {min}, max {max} (spread {} frame{}, {:.3} ms)",
        ms(med, rate),
        runs.len(),
        plural(runs.len() as u64),
        max - min,
        plural((max - min).unsigned_abs()),
        ms(max - min, rate)
    );
    let offsets: Vec<i64> = runs
        .iter()
        .filter_map(|m| m.offset.map(|o| o.frames))
        .collect();
    let exact = runs.iter().all(|m| m.offset.is_some_and(|o| o.exact));
    match median(&offsets) {
        Some(o) => drop(writeln!(
            text,
            "reported offset: {o} frames ({:.3} ms, {}), median of {} run{}; min {}, max {}; measured minus reported: {} frames",
            ms(o, rate),
            if exact { "exact" } else { "estimate" },
            offsets.len(),
            plural(offsets.len() as u64),
            offsets.iter().min().unwrap_or(&o),
            offsets.iter().max().unwrap_or(&o),
            med - o
        )),
        None => text.push_str("reported offset: none (the backend did not report one)\n"),
    }
    Ok(text)
}
