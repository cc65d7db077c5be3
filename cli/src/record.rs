//! `rtmix record OUT.wav --duration D`: records input frames `[at, at + D)` of the listed
//! channels into a 32-bit float WAV file, written atomically, with progress and meters on
//! a terminal. A frame lost to an overrun is counted and reported, and the exit code is 1.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use rtmix_core::{At, ChannelMap, Direction, EndReason, Late, Payload, Record};

use crate::backend::{self, Ctl, DeviceArgs, Ready, Request};
use crate::error::Error;
use crate::meters::Meters;
use crate::session::{plural, MAX_CHANNELS};
use crate::wav_out::{Format, Sink, WavFile};

/// `rtmix record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// The WAV file to write (32-bit float unless --format says otherwise).
    #[arg(value_name = "OUT.wav")]
    pub output: PathBuf,
    /// How long: frames (an integer), or seconds ("1.5s") or milliseconds ("250ms").
    #[arg(long, value_name = "D")]
    pub duration: String,
    /// The 1-based input channels to record, comma-separated, in the file's channel order.
    /// The device is opened with as many channels as the highest one listed.
    #[arg(long, default_value = "1,2", value_name = "1,2")]
    pub channels: String,
    /// The input frame of the recording's first frame, counted from the stream's first
    /// captured frame: frames, or "1.5s" / "250ms" (default 0).
    #[arg(long, default_value = "0", value_name = "T")]
    pub at: String,
    /// The rate to open the device at.
    #[arg(long, default_value_t = 48_000, value_name = "HZ")]
    pub rate: u32,
    /// Sample format of the file: f32, s16 or s24.
    #[arg(long, default_value = "f32", value_name = "f32|s16|s24")]
    pub format: Format,
    /// Print `ready: input frame N at the converter` on standard error once the device
    /// runs (its first period has been captured): a signal for scripts and tests that must
    /// not act before the recording has started.
    #[arg(long)]
    pub ready: bool,
    /// The device.
    #[command(flatten)]
    pub device: DeviceArgs,
}

/// A time option: an integer is frames; `"1.5s"` / `"250ms"` are converted at `rate`.
///
/// ```
/// use rtmix_cli::record::frames;
/// assert_eq!(frames("--duration", "48000", 48_000), Ok(48_000));
/// assert_eq!(frames("--duration", "0.5s", 48_000), Ok(24_000));
/// assert!(frames("--duration", "half", 48_000).is_err());
/// ```
pub fn frames(option: &str, text: &str, rate: u32) -> Result<u64, String> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse().map_err(|_| format!("{option} {text}: too large"));
    }
    crate::time::parse_duration(t, rate).map_err(|m| format!("{option}: {m}"))
}

/// 1-based comma-separated channels, as 0-based.
///
/// ```
/// use rtmix_cli::record::channels;
/// assert_eq!(channels("--channels", "2,1"), Ok(vec![1, 0]));
/// assert!(channels("--channels", "0").is_err());
/// assert!(channels("--channels", "1,1").is_err());
/// ```
pub fn channels(option: &str, text: &str) -> Result<Vec<u16>, String> {
    let mut out: Vec<u16> = Vec::new();
    for part in text.split(',') {
        let n: u16 = part.trim().parse().map_err(|_| {
            format!(
                "{option} {text}: write 1-based channel numbers separated by commas, such as 1,2"
            )
        })?;
        if n == 0 || n > MAX_CHANNELS {
            return Err(format!(
                "{option} {text}: channel {n} is out of range (1 to {MAX_CHANNELS})"
            ));
        }
        if out.contains(&(n - 1)) {
            return Err(format!("{option} {text}: channel {n} is listed twice"));
        }
        out.push(n - 1);
    }
    Ok(out)
}

/// Writes the captured `samples` (of `channels` channels) to the recording's file; when
/// that fails, to a file of the same name in the temporary folder, so that the audio is
/// not lost. Returns the samples clamped.
fn save(file: WavFile, samples: &[f32], channels: u16, args: &RecordArgs) -> Result<u64, Error> {
    fn write_all(mut file: WavFile, samples: &[f32]) -> Result<u64, Error> {
        file.write(samples)?;
        let clamped = file.clamped();
        file.commit()?;
        Ok(clamped)
    }
    write_all(file, samples).map_err(|error| {
        let Error::Output { path, source } = error else {
            return error;
        };
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let rescue =
            std::env::temp_dir().join(format!("rtmix-rescued-{}-{name}", std::process::id()));
        let saved = WavFile::create(&rescue, channels, args.rate, args.format)
            .and_then(|f| write_all(f, samples))
            .map(|_| rescue)
            .map_err(|e| e.to_string());
        Error::RecordingNotSaved {
            path,
            source,
            frames: (samples.len() / usize::from(channels)) as u64,
            saved,
        }
    })
}

/// `rtmix record`: returns the summary for standard output.
// One sequence, read top to bottom: parse, open, watch, write, report.
#[allow(clippy::too_many_lines)]
pub fn run(args: &RecordArgs, terminal: bool) -> Result<String, Error> {
    let rate = args.rate;
    if rate == 0 || rate > crate::session::MAX_RATE {
        return Err(Error::Usage(format!("--rate {rate}: not a rate")));
    }
    let duration = frames("--duration", &args.duration, rate).map_err(Error::Usage)?;
    if duration == 0 {
        return Err(Error::Usage("--duration: nothing to record".into()));
    }
    let at = frames("--at", &args.at, rate).map_err(Error::Usage)?;
    let list = channels("--channels", &args.channels).map_err(Error::Usage)?;
    let inputs = list.iter().max().map_or(1, |m| m + 1);
    let width = list.len();
    let samples = usize::try_from(duration)
        .ok()
        .and_then(|d| d.checked_mul(width))
        .filter(|&n| n <= (1 << 34))
        .ok_or_else(|| Error::Usage(format!("--duration {}: too long", args.duration)))?;
    // Created first, with the space of the whole recording claimed: an unwritable path or
    // a disk without room fails before the device is touched.
    let file = WavFile::create_for(&args.output, width as u16, rate, args.format, duration)?;

    let stop = Arc::new(AtomicBool::new(false));
    let interrupted = backend::ctrl_c_flag();
    let mut id = None;
    let map = ChannelMap::new(&list).map_err(|e| Error::Usage(format!("--channels: {e}")))?;
    let mut buffer = Some(vec![0.0f32; samples]);
    let request = Request {
        rate,
        outputs: 0,
        inputs,
        stop_after: Some(at + duration),
        meters: terminal,
    };
    let (mut ctl, stream, granted) =
        backend::start(&args.device, request, &stop, &mut |ctl: &mut Ctl| {
            let buf = buffer.take().unwrap_or_default();
            let record = Record::new(buf, map.clone())
                .at(At::Frame(at))
                .late(Late::Skip);
            id = Some(ctl.record(record).map_err(|r| {
                Error::Engine(format!("the engine refused the recording: {}", r.error))
            })?);
            Ok(())
        })?;
    let id = id.ok_or_else(|| Error::Engine("the recording was not submitted".into()))?;

    let mut meters = Meters::new(Direction::Input, inputs, terminal);
    let clock = stream.clock();
    let mut completion = None;
    let total = (at + duration) as f64 / f64::from(rate);
    let mut was_interrupted = false;
    let mut ready = Ready::new(args.ready, "input");
    while !stream.is_finished() {
        std::thread::sleep(Duration::from_millis(40));
        ready.check(&clock);
        if let Some(c) = ctl.take(id) {
            completion = Some(c);
            break;
        }
        meters.read(&mut ctl);
        let now = clock.now().unwrap_or(0);
        meters.draw(&format!(
            "recording {:>7.2} s / {total:.2} s",
            now as f64 / f64::from(rate)
        ));
        if interrupted.load(Ordering::Acquire) {
            was_interrupted = true;
            break;
        }
    }
    // A stream shorter than the first look still says it ran.
    ready.check(&clock);
    let summary = stream.stop();
    meters.finish();
    let Some(completion) = completion.or_else(|| ctl.take(id)) else {
        return Err(summary.err().unwrap_or_else(|| {
            Error::DeviceFailed("the stream ended without handing the recording back".into())
        }));
    };
    let lost = completion.stats.frames_lost;
    let xruns = completion.stats.xruns;
    // The frames of the buffer the recording reached: those skipped at a late start and
    // those lost to overruns hold silence.
    let reached = (completion.skipped + completion.frames + lost).min(duration);
    let whole = completion.end == EndReason::Finished && reached == duration;
    let end = completion.end;
    let Payload::Recorded(recorded) = completion.payload else {
        return Err(Error::Engine("the recording came back empty".into()));
    };
    // Whatever stopped it, what was captured goes to the file.
    let clamped = if reached > 0 {
        save(
            file,
            &recorded[..reached as usize * width],
            width as u16,
            args,
        )?
    } else {
        drop(file);
        0
    };
    let kept = if reached > 0 {
        format!(
            "the {reached} frame{} recorded are in {}",
            plural(reached),
            args.output.display()
        )
    } else {
        format!(
            "nothing was recorded, {} not written",
            args.output.display()
        )
    };
    if was_interrupted {
        return Err(Error::Interrupted(format!("stopped by Ctrl-C; {kept}")));
    }
    let summary = summary.map_err(|e| match e {
        Error::DeviceFailed(why) => Error::DeviceFailed(format!("{why}; {kept}")),
        other => other,
    })?;
    if !whole {
        return Err(Error::DeviceFailed(format!(
            "the stream stopped after {reached} of {duration} frames ({end:?}); {kept}"
        )));
    }
    if lost > 0 {
        return Err(Error::FramesLost {
            path: args.output.clone(),
            frames: lost,
            xruns: xruns.max(1),
        });
    }
    Ok(format!(
        "recorded {duration} frame{} ({:.3} s) of input channel{} {} from frame {} into {} ({}{})\non {}\n{} xrun{} in the stream, {} frame{} lost\n",
        plural(duration),
        duration as f64 / f64::from(rate),
        plural(width as u64),
        args.channels,
        completion.actual_start.unwrap_or(at),
        args.output.display(),
        args.format,
        if clamped > 0 {
            format!(", {clamped} samples clamped")
        } else {
            String::new()
        },
        granted.description,
        summary.xruns,
        plural(summary.xruns),
        lost,
        plural(lost),
    ))
}
