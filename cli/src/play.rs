//! `rtmix play FILE[@AT][:CHANNELS][*GAIN] ...`: mixes files on a device, each starting at
//! its exact frame, with live peak meters; Ctrl-C fades the master out and stops.
//!
//! The files are checked and decoded as a session's plays are, and submitted as the same
//! core requests in the same order as `rtmix render` submits them (so the same files at
//! the same frames give the same samples); every play is on the controller before the
//! device's first frame: device frame `n` is frame `n` of the mix. The stream ends by
//! itself after the mix's last frame.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use rtmix_core::{ActionId, At, Completion, Direction, EndReason, GainTarget, Late, Member};

use crate::backend::{self, Ctl, DeviceArgs, Ready, Request};
use crate::capacity::ACTIONS;
use crate::error::Error;
use crate::meters::Meters;
use crate::plan::{self, Plan};
use crate::request::{self, Entry};
use crate::session::{Gain, Lines, Loop, PlayEntry, Session, MAX_CHANNELS};

/// The Ctrl-C fade-out, in milliseconds.
pub const FADE_MS: u64 = 50;

/// `rtmix play`.
#[derive(Debug, Args)]
pub struct PlayArgs {
    /// The files: `FILE[@AT][:CHANNELS][*GAIN]`. AT is the output frame of the file's first
    /// frame: an integer number of frames, or seconds ("1.5s") or milliseconds ("250ms"),
    /// rounded to the nearest frame (default 0). CHANNELS are the 1-based output channels
    /// of the file's channels, comma-separated (default 1, 2, ... as many as the file has).
    /// GAIN multiplies the file (default 1).
    #[arg(required = true, value_name = "FILE[@AT][:CHANNELS][*GAIN]")]
    pub files: Vec<String>,
    /// The device's rate (default: the first file's); other files are resampled to it.
    #[arg(long, value_name = "HZ")]
    pub rate: Option<u32>,
    /// The device's output channels (default: the highest channel a file plays on).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=i64::from(MAX_CHANNELS)))]
    pub channels: Option<u16>,
    /// Print `ready: output frame N at the converter` on standard error once the device
    /// runs (it has played its first period): a signal for scripts and tests that must
    /// not act before the sound has started.
    #[arg(long)]
    pub ready: bool,
    /// The device.
    #[command(flatten)]
    pub device: DeviceArgs,
}

/// One `FILE[@AT][:CHANNELS][*GAIN]` argument, split.
#[derive(Clone, Debug, PartialEq)]
pub struct PlaySpec {
    /// The argument as given.
    pub text: String,
    /// The file.
    pub file: String,
    /// The start, as written (frames or a time).
    pub at: Option<String>,
    /// 0-based output channels.
    pub channels: Option<Vec<u16>>,
    /// The gain.
    pub gain: f32,
}

fn spec_error(text: &str, field: &str, message: &str) -> Error {
    Error::Usage(format!("play argument `{text}`, {field}: {message}"))
}

/// Parses `CHANNELS`: 1-based, comma-separated, distinct.
fn parse_channels(s: &str) -> Result<Vec<u16>, String> {
    let mut out: Vec<u16> = Vec::new();
    for part in s.split(',') {
        let n: u16 = part
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not a list of channels such as 1,2"))?;
        if n == 0 || n > MAX_CHANNELS {
            return Err(format!("channel {n} is out of range (1 to {MAX_CHANNELS})"));
        }
        if out.contains(&(n - 1)) {
            return Err(format!("channel {n} is listed twice"));
        }
        out.push(n - 1);
    }
    Ok(out)
}

/// Whether `s` is a well-formed time: frames, or a number followed by `s` or `ms`.
fn is_time(s: &str) -> bool {
    !s.is_empty()
        && (s.bytes().all(|b| b.is_ascii_digit()) || crate::time::parse_duration(s, 48_000).is_ok())
}

impl PlaySpec {
    /// Splits an argument. Suffixes are taken from the right (`*GAIN`, then `:CHANNELS`,
    /// then `@AT`) when they are well formed; a malformed one is an error when what is left
    /// of it names an existing file, and part of the file name otherwise. An argument that
    /// names an existing file as a whole is that file.
    ///
    /// ```
    /// use rtmix_cli::play::PlaySpec;
    /// let s = PlaySpec::parse("tone.wav@1.5s:2,1*0.5").unwrap();
    /// assert_eq!(s.file, "tone.wav");
    /// assert_eq!(s.at.as_deref(), Some("1.5s"));
    /// assert_eq!(s.channels, Some(vec![1, 0]));
    /// assert_eq!(s.gain, 0.5);
    /// let s = PlaySpec::parse("click.wav@48000").unwrap();
    /// assert_eq!((s.file.as_str(), s.at.as_deref(), s.gain), ("click.wav", Some("48000"), 1.0));
    /// ```
    pub fn parse(text: &str) -> Result<Self, Error> {
        let mut spec = PlaySpec {
            text: text.to_owned(),
            file: text.to_owned(),
            at: None,
            channels: None,
            gain: 1.0,
        };
        if text.is_empty() {
            return Err(spec_error(text, "FILE", "no file named"));
        }
        if Path::new(text).is_file() {
            return Ok(spec);
        }
        let mut rest = text.to_owned();
        if let Some((file, gain)) = rest.rsplit_once('*') {
            match gain.trim().parse::<f32>() {
                Ok(g) if g.is_finite() => {
                    spec.gain = g;
                    let keep = file.len();
                    rest.truncate(keep);
                }
                _ if Path::new(file).is_file() || has_suffixes(file) => {
                    return Err(spec_error(
                        text,
                        "GAIN",
                        &format!("`{gain}` is not a finite number"),
                    ))
                }
                _ => {}
            }
        }
        if let Some((file, channels)) = rest.rsplit_once(':') {
            match parse_channels(channels) {
                Ok(c) => {
                    spec.channels = Some(c);
                    let keep = file.len();
                    rest.truncate(keep);
                }
                Err(message)
                    if channels
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b == b',' || b == b' ')
                        || Path::new(file).is_file()
                        || has_at(file) =>
                {
                    return Err(spec_error(text, "CHANNELS", &message))
                }
                Err(_) => {}
            }
        }
        if let Some((file, at)) = rest.rsplit_once('@') {
            if is_time(at.trim()) {
                spec.at = Some(at.trim().to_owned());
                let keep = file.len();
                rest.truncate(keep);
            } else if Path::new(file).is_file() {
                return Err(spec_error(
                    text,
                    "AT",
                    &format!(
                        "`{at}` is not a time: write frames (48000), seconds (\"1.5s\") or milliseconds (\"250ms\")"
                    ),
                ));
            }
        }
        spec.file = rest;
        Ok(spec)
    }
}

fn has_at(file: &str) -> bool {
    file.rsplit_once('@')
        .is_some_and(|(f, at)| is_time(at) && !f.is_empty())
}

fn has_suffixes(file: &str) -> bool {
    has_at(file)
        || file
            .rsplit_once(':')
            .is_some_and(|(_, c)| parse_channels(c).is_ok())
}

/// The frames of `at` at `rate`.
fn frames_of(spec: &PlaySpec, rate: u32) -> Result<u64, Error> {
    let Some(at) = &spec.at else {
        return Ok(0);
    };
    if at.bytes().all(|b| b.is_ascii_digit()) {
        return at
            .parse()
            .map_err(|_| spec_error(&spec.text, "AT", "too large"));
    }
    crate::time::parse_duration(at, rate).map_err(|m| spec_error(&spec.text, "AT", &m))
}

/// The plays as a session's, planned (decoded, resampled, checked) like a render's.
pub fn plan(specs: &[PlaySpec], rate: u32) -> Result<Plan, Error> {
    let mut plays = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        plays.push(PlayEntry {
            index: i + 1,
            id: Some(s.text.clone()),
            file_text: s.file.clone(),
            file: PathBuf::from(&s.file),
            at: frames_of(s, rate)?,
            channels: s.channels.clone(),
            gain: Gain::All(s.gain),
            region: None,
            repeat: Loop::Times(1),
            fade_in: 0,
            fade_out: 0,
            lines: Lines::default(),
        });
    }
    let session = Session {
        path: PathBuf::from("rtmix play"),
        sample_rate: rate,
        channels: MAX_CHANNELS,
        length: None,
        plays,
        cancels: Vec::new(),
        records: Vec::new(),
        lines: Lines::default(),
    };
    plan::plan(session, None, Path::new("."))
}

/// What became of one play.
#[derive(Debug)]
struct Outcome {
    start: Option<u64>,
    frames: u64,
    end: EndReason,
}

/// `rtmix play`: returns the summary for standard output.
// One sequence, read top to bottom: parse, plan, open, watch, report.
#[allow(clippy::too_many_lines)]
pub fn run(args: &PlayArgs, terminal: bool) -> Result<String, Error> {
    let specs = args
        .files
        .iter()
        .map(|t| PlaySpec::parse(t))
        .collect::<Result<Vec<_>, _>>()?;
    if specs.len() >= ACTIONS - 1 {
        return Err(Error::Usage(format!(
            "{} files: rtmix play mixes at most {}",
            specs.len(),
            ACTIONS - 2
        )));
    }
    let rate = match args.rate {
        Some(r) => r,
        None => crate::audio_file::load(Path::new(&specs[0].file)).map_or(48_000, |a| a.rate),
    };
    if rate == 0 || rate > crate::session::MAX_RATE {
        return Err(Error::Usage(format!("--rate {rate}: not a rate")));
    }
    let mut plan = plan(&specs, rate)?;
    let needed = plan
        .plays
        .iter()
        .flat_map(|p| p.channels.iter().map(|c| c + 1))
        .max()
        .unwrap_or(1);
    let outputs = match args.channels {
        Some(n) if n < needed => {
            return Err(Error::Usage(format!(
                "--channels {n}, but a file plays on channel {needed}"
            )))
        }
        Some(n) => n,
        None => needed,
    };
    plan.session.channels = outputs;

    let stop = Arc::new(AtomicBool::new(false));
    let interrupted = backend::ctrl_c_flag();
    let mut ids: Vec<Option<ActionId>> = Vec::new();
    // The stream runs on in silence to the end of the period after the mix's last frame:
    // a device that moves whole periods (ALSA's jack plugin) then plays the last one too.
    let period = u64::from(args.device.period);
    let request = Request {
        rate,
        outputs,
        inputs: 0,
        stop_after: Some(plan.length.div_ceil(period) * period + period),
        meters: terminal,
    };
    let (mut ctl, stream, granted) =
        backend::start(&args.device, request, &stop, &mut |ctl: &mut Ctl| {
            ids = vec![None; plan.plays.len()];
            for (_, entry) in request::order(&plan) {
                let Entry::Play(i) = entry else { continue };
                let label = &plan.plays[i].label;
                let id = request::submit_play(ctl, &plan, i, Late::Skip)
                    .map_err(|e| Error::Engine(format!("{label}: the engine refused it: {e}")))?;
                ids[i] = Some(id);
            }
            Ok(())
        })?;

    let mut meters = Meters::new(Direction::Output, outputs, terminal);
    let mut done: BTreeMap<ActionId, Completion<Arc<[f32]>, Vec<f32>>> = BTreeMap::new();
    let clock = stream.clock();
    let fade_frames = (u64::from(rate) * FADE_MS).div_ceil(1000);
    let period = u64::from(granted.period.map_or(args.device.period, |p| p.max(1)));
    let mut fade: Option<(Vec<ActionId>, Instant)> = None;
    let mut fade_start: Option<u64> = None;
    let total = plan.length as f64 / f64::from(rate);
    let mut ready = Ready::new(args.ready, "output");
    while !stream.is_finished() {
        std::thread::sleep(Duration::from_millis(40));
        ready.check(&clock);
        while let Some(c) = ctl.try_next() {
            done.insert(c.id, c);
        }
        meters.read(&mut ctl);
        let now = clock.now().unwrap_or(0);
        meters.draw(&format!(
            "{:>7.2} s / {total:.2} s",
            now as f64 / f64::from(rate)
        ));
        if interrupted.load(Ordering::Acquire) && fade.is_none() {
            fade = Some((fade_out(&mut ctl, outputs, fade_frames)?, Instant::now()));
        }
        if let Some((gain_ids, since)) = &fade {
            if fade_start.is_none() {
                fade_start = gain_ids
                    .iter()
                    .find_map(|id| done.get(id).and_then(|c| c.actual_start));
            }
            let heard = fade_start.is_some_and(|f| now >= f + fade_frames + period);
            if heard || since.elapsed() > Duration::from_secs(3) {
                break;
            }
        }
    }
    // A stream shorter than the first look still says it ran.
    ready.check(&clock);
    let summary = if fade.is_some() {
        stream.stop()?
    } else {
        stream.join()?
    };
    meters.finish();
    // The engine has ended everything it held: take the rest.
    while let Some(c) = ctl.try_next() {
        done.insert(c.id, c);
    }
    let outcomes: Vec<Option<Outcome>> = ids
        .iter()
        .map(|id| {
            id.and_then(|id| done.remove(&id)).map(|c| Outcome {
                start: c.actual_start,
                frames: c.frames,
                end: c.end,
            })
        })
        .collect();

    let mut text = format!(
        "played {} file{} on {}\n",
        specs.len(),
        crate::session::plural(specs.len() as u64),
        granted.description
    );
    for ((p, o), spec) in plan.plays.iter().zip(&outcomes).zip(&specs) {
        let src = &plan.sources[p.source];
        let resampled = src.resampled_from.map_or_else(String::new, |from| {
            format!(", resampled from {from} Hz to {rate} Hz before playing")
        });
        let what = match o {
            Some(o) => format!(
                "asked frame {}, started {}, {} frame{} of {}, {}",
                p.at,
                o.start
                    .map_or_else(|| "never".to_owned(), |s| format!("at frame {s}")),
                o.frames,
                crate::session::plural(o.frames),
                p.total.unwrap_or(0),
                end_text(o.end)
            ),
            None => "no completion".to_owned(),
        };
        let _ = writeln!(text, "  {}: {what}{resampled}", spec.text);
    }
    if let Some(f) = fade_start {
        let _ = writeln!(
            text,
            "stopped by Ctrl-C: faded out from frame {f} over {fade_frames} frames ({FADE_MS} ms)"
        );
    } else if fade.is_some() {
        text.push_str("stopped by Ctrl-C\n");
    }
    let _ = writeln!(
        text,
        "{} frames rendered ({:.3} s), {} xrun{}, {} frame{} lost, {} sample{} clamped",
        summary.frames,
        summary.frames as f64 / f64::from(rate),
        summary.xruns,
        crate::session::plural(summary.xruns),
        summary.frames_lost,
        crate::session::plural(summary.frames_lost),
        summary.clipped,
        crate::session::plural(summary.clipped)
    );
    Ok(text)
}

/// Ramps every output channel's master gain to 0 over `frames`, all starting at one frame
/// (an atomic group): the fade that Ctrl-C asks for.
fn fade_out(ctl: &mut Ctl, outputs: u16, frames: u64) -> Result<Vec<ActionId>, Error> {
    let mut members: rtmix_core::heapless::Vec<_, { MAX_CHANNELS as usize }> =
        rtmix_core::heapless::Vec::new();
    for c in 0..outputs {
        let _ = members.push(Member::Gain {
            target: GainTarget::Master(c),
            gain: 0.0,
            ramp: frames,
            at: At::Asap,
            late: Late::StartNow,
        });
    }
    ctl.group_vec(members)
        .map(|ids| ids.into_iter().collect())
        .map_err(|r| Error::Engine(format!("cannot fade out: {}", r.error)))
}

/// How a play ended, in words.
fn end_text(end: EndReason) -> String {
    match end {
        EndReason::Finished => "complete".to_owned(),
        EndReason::StreamStopped => "stopped with the stream".to_owned(),
        other => format!("{other:?}"),
    }
}
