//! The offline render: a session's plays, cancels and recordings driven through a real
//! `rtmix-core` engine on a simulated device, in blocks of any pattern.
//!
//! # How the session maps onto the engine
//!
//! The engine runs one frame ahead of the session: engine frame `e` is session frame
//! `e - 1`, and the engine's frame 0 (always silent) is dropped. That one frame of
//! pre-roll lets a ramp start one frame before a play that starts at session frame 0.
//!
//! * A play at `at` is a [`Play`] at engine frame `at + 1`, its region and loop as they
//!   are, its gains in the channel map, its fade-in as the play's own fade-in (play frame
//!   `i` gets `i / N`, exactly the session rule).
//! * A fade-out of `N` on a play of `T` frames is a gain ramp from 1 to 0 over `N` frames
//!   starting at session frame `at + T - 1 - N`: the frame `k` frames before the last gets
//!   `1 - (N - k) / N`, which is `k / N` (the last frame is silent).
//! * A cancel at `F` with fade 0 cuts at `F`. With a fade `N >= 1` it is the engine's
//!   faded cancel at session frame `F - 1`: frame `F + N - 1 - k` gets `1 - (N - k) / N`,
//!   again `k / N`, and the play stops after frame `F + N - 2` (frame `F + N - 1` would
//!   be silent).
//! * A recording at `at` records engine input frame `at + 1`; the input stream is the
//!   `--input` file after one frame of silence.
//!
//! Requests are submitted in the order (frame, plays before recordings before cancels,
//! file order), each before the block that contains the frame before its own, so every
//! one is on time whatever the block pattern. Overlapping plays are summed in that order,
//! which makes the output bit-identical for every block pattern.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use rtmix_core::{
    ActionId, ActionKind, At, ChannelMap, Completion, Controller, EndReason, Ending, Engine,
    GainTarget, Late, Payload, Play, PlaySource, Queues, Record, RecordTarget, Repeat,
    StreamConfig,
};

use crate::audio_file::{self, resampled_len, Audio};
use crate::error::{Error, Place};
use crate::session::{plural, Gain, Loop, PlayEntry, RecordEntry, Session};
use crate::wav_out::Sink;

/// Action slots per direction in the render's stream.
pub const ACTIONS: usize = 128;
/// Command queue storage per direction (one less can wait for a block).
pub const COMMANDS: usize = 128;
/// The largest block of `--blocks random:SEED`.
pub const RANDOM_MAX: usize = 4096;

type RenderQueues = Queues<Arc<[f32]>, Vec<f32>, ACTIONS, COMMANDS>;
type RenderCompletion = Completion<Arc<[f32]>, Vec<f32>>;

/// How the simulated device cuts the timeline into blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blocks {
    /// Every block has this many frames (at least 1).
    Fixed(usize),
    /// Sizes drawn uniformly from `1..=max` by a `SplitMix64` generator with this seed.
    Random {
        /// The seed.
        seed: u64,
        /// The largest block.
        max: usize,
    },
}

impl Default for Blocks {
    fn default() -> Self {
        Blocks::Fixed(1024)
    }
}

impl FromStr for Blocks {
    type Err = String;

    /// `random:SEED` or `random:SEED:MAX`.
    ///
    /// ```
    /// use rtmix_cli::render::Blocks;
    /// assert_eq!("random:7".parse(), Ok(Blocks::Random { seed: 7, max: 4096 }));
    /// assert_eq!("random:7:16".parse(), Ok(Blocks::Random { seed: 7, max: 16 }));
    /// assert!("random:x".parse::<Blocks>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("bad block pattern {s:?}: write random:SEED or random:SEED:MAX");
        let rest = s.strip_prefix("random:").ok_or_else(bad)?;
        let (seed, max) = match rest.split_once(':') {
            Some((seed, max)) => (seed, max.parse::<usize>().map_err(|_| bad())?),
            None => (rest, RANDOM_MAX),
        };
        let seed = seed.parse::<u64>().map_err(|_| bad())?;
        if max == 0 {
            return Err(bad());
        }
        Ok(Blocks::Random { seed, max })
    }
}

impl std::fmt::Display for Blocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Blocks::Fixed(n) => write!(f, "{n}-frame blocks"),
            Blocks::Random { seed, max } => {
                write!(f, "random blocks of 1 to {max} frames (seed {seed})")
            }
        }
    }
}

/// The block sizes of a pattern, forever.
#[derive(Clone, Debug)]
struct Sizes {
    blocks: Blocks,
    state: u64,
}

impl Iterator for Sizes {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        Some(match self.blocks {
            Blocks::Fixed(n) => n.max(1),
            Blocks::Random { max, .. } => {
                // SplitMix64, as in rtmix-host-tests.
                self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = self.state;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                z ^= z >> 31;
                1 + (z % max.max(1) as u64) as usize
            }
        })
    }
}

impl Blocks {
    fn sizes(self) -> Sizes {
        let state = match self {
            Blocks::Random { seed, .. } => seed,
            Blocks::Fixed(_) => 0,
        };
        Sizes {
            blocks: self,
            state,
        }
    }
}

/// One decoded audio file, shared by every play that names it.
#[derive(Clone, Debug)]
pub struct Source {
    /// The file.
    pub path: PathBuf,
    /// Its samples at the session's rate.
    pub samples: Arc<[f32]>,
    /// Its channels.
    pub channels: u16,
    /// Its frames at the session's rate.
    pub frames: u64,
    /// What it was decoded from.
    pub format: String,
    /// The rate it was resampled from, if it was.
    pub resampled_from: Option<u32>,
}

/// A play, ready for the engine.
#[derive(Clone, Debug)]
pub struct PlannedPlay {
    /// How the summary names it.
    pub label: String,
    /// Index into [`Plan::sources`].
    pub source: usize,
    /// Session frame of its first frame.
    pub at: u64,
    /// 0-based output channels, one per source channel.
    pub channels: Vec<u16>,
    /// One gain per channel.
    pub gains: Vec<f32>,
    /// `[start, end)` in the source's frames at the session's rate.
    pub region: (u64, u64),
    /// Repetitions (`None`: forever).
    pub times: Option<u64>,
    /// Frames in all (`None`: forever).
    pub total: Option<u64>,
    /// Fade-in frames.
    pub fade_in: u64,
    /// Fade-out frames.
    pub fade_out: u64,
}

/// A cancel, ready for the engine.
#[derive(Clone, Debug)]
pub struct PlannedCancel {
    /// How the summary names it.
    pub label: String,
    /// Index into [`Plan::plays`].
    pub target: usize,
    /// Session frame.
    pub at: u64,
    /// Fade frames.
    pub fade: u64,
}

/// A recording, ready for the engine.
#[derive(Clone, Debug)]
pub struct PlannedRecord {
    /// How the summary names it.
    pub label: String,
    /// Session (input) frame of its first frame.
    pub at: u64,
    /// Frames.
    pub frames: u64,
    /// 0-based input channels.
    pub channels: Vec<u16>,
    /// The WAV file to write.
    pub path: PathBuf,
}

/// The `--input` audio.
#[derive(Clone, Debug)]
pub struct Input {
    /// The file.
    pub path: PathBuf,
    /// Its audio, at the session's rate.
    pub audio: Audio,
}

/// Everything the render needs, checked against the audio.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The session.
    pub session: Session,
    /// Decoded files, in order of first use.
    pub sources: Vec<Source>,
    /// The plays, in file order.
    pub plays: Vec<PlannedPlay>,
    /// The cancels, in file order.
    pub cancels: Vec<PlannedCancel>,
    /// The recordings, in file order.
    pub records: Vec<PlannedRecord>,
    /// The input, if the session records.
    pub input: Option<Input>,
    /// Output frames.
    pub length: u64,
    /// Frames the engine runs (the length, or further for a recording that ends later).
    pub run: u64,
}

/// Where each play ends (exclusive), by the session's rules: its natural end, or where a
/// cancel stops it (`F + fade`); `None` while it loops forever. A play that a cancel
/// removes before it starts (a cancel at or before its `at`) ends at 0: it adds nothing.
fn play_end(plan_play: &PlannedPlay, cancels: &[PlannedCancel], index: usize) -> Option<u64> {
    let mut end = plan_play.total.map(|t| plan_play.at + t);
    for c in cancels.iter().filter(|c| c.target == index) {
        let stop = if plan_play.at >= c.at {
            0
        } else {
            c.at + c.fade
        };
        end = Some(end.map_or(stop, |e| e.min(stop)));
    }
    end
}

fn value_error(place: Place, message: String) -> Error {
    Error::SessionValue { place, message }
}

/// Far enough from `u64::MAX` that no sum of two session frames overflows.
const FAR: u64 = u64::MAX / 4;

/// The decoded files of a session, each loaded once.
#[derive(Default)]
struct Sources {
    list: Vec<Source>,
    by_path: BTreeMap<PathBuf, usize>,
}

impl Sources {
    /// The index of `path`'s audio, loading and resampling it the first time.
    fn get(&mut self, path: &Path, rate: u32, context: &Place) -> Result<usize, Error> {
        if let Some(&i) = self.by_path.get(path) {
            return Ok(i);
        }
        let audio = audio_file::load(path)
            .and_then(|a| audio_file::resample(a, rate))
            .map_err(|problem| Error::Audio {
                context: context.to_string(),
                path: path.to_owned(),
                problem,
            })?;
        self.list.push(Source {
            path: path.to_owned(),
            channels: audio.channels,
            frames: audio.frames(),
            samples: audio.samples.into(),
            format: audio.format,
            resampled_from: audio.resampled_from,
        });
        self.by_path.insert(path.to_owned(), self.list.len() - 1);
        Ok(self.list.len() - 1)
    }
}

/// A play's output channels, checked against its file's channel count.
fn play_channels(session: &Session, p: &PlayEntry, src: &Source) -> Result<Vec<u16>, Error> {
    let place = session.place(&p.lines, &p.label(), "channels");
    match &p.channels {
        Some(c) if c.len() != usize::from(src.channels) => Err(value_error(
            place,
            format!(
                "{} channel{} listed, but {} has {} channel{}",
                c.len(),
                plural(c.len() as u64),
                p.file_text,
                src.channels,
                plural(src.channels.into())
            ),
        )),
        Some(c) => Ok(c.clone()),
        None if src.channels > session.channels => Err(value_error(
            place,
            format!(
                "{} has {} channels but the session has {} output channel{}: list the output channel of each of its channels",
                p.file_text,
                src.channels,
                session.channels,
                plural(session.channels.into())
            ),
        )),
        None => Ok((0..src.channels).collect()),
    }
}

/// A play's region in the source's frames at the session's rate, checked against the
/// file's own length (a region is written in the file's own frames).
fn play_region(session: &Session, p: &PlayEntry, src: &Source) -> Result<(u64, u64), Error> {
    let rate = session.sample_rate;
    let Some((start, end)) = p.region else {
        return Ok((0, src.frames));
    };
    let own = src.resampled_from.map_or(src.frames, |from| {
        // The file's own frame count (before resampling).
        let n = src.frames;
        let mut own = (u128::from(n) * u128::from(from) / u128::from(rate)) as u64;
        while resampled_len(own + 1, from, rate) <= n {
            own += 1;
        }
        own
    });
    if end > own {
        return Err(value_error(
            session.place(&p.lines, &p.label(), "region"),
            format!(
                "region [{start}, {end}] goes past the end of {} ({own} frames)",
                p.file_text
            ),
        ));
    }
    Ok(match src.resampled_from {
        None => (start, end),
        Some(from) => (
            resampled_len(start, from, rate),
            resampled_len(end, from, rate).min(src.frames),
        ),
    })
}

/// Checks one play against its file.
fn plan_play(
    session: &Session,
    p: &PlayEntry,
    sources: &mut Sources,
) -> Result<PlannedPlay, Error> {
    let label = p.label();
    let place = |field: &str| session.place(&p.lines, &label, field);
    let source = sources.get(&p.file, session.sample_rate, &place("file"))?;
    let src = &sources.list[source];
    let channels = play_channels(session, p, src)?;
    let gains = match &p.gain {
        Gain::All(g) => vec![*g; channels.len()],
        Gain::PerChannel(g) if g.len() == channels.len() => g.clone(),
        Gain::PerChannel(g) => {
            return Err(value_error(
                place("gain"),
                format!(
                    "{} gains for {} channels: give one gain, or one per channel",
                    g.len(),
                    channels.len()
                ),
            ))
        }
    };
    let region = play_region(session, p, src)?;
    let times = match p.repeat {
        Loop::Times(n) => Some(n),
        Loop::Forever => None,
    };
    let total = times
        .map(|n| {
            (region.1 - region.0)
                .checked_mul(n)
                .filter(|t| p.at.checked_add(*t).is_some_and(|end| end <= FAR))
                .ok_or_else(|| {
                    value_error(
                        place("loop"),
                        "the play would end past the end of time".into(),
                    )
                })
        })
        .transpose()?;
    if p.at > FAR {
        return Err(value_error(place("at"), "too far in the future".into()));
    }
    for (field, n) in [("fade_in", p.fade_in), ("fade_out", p.fade_out)] {
        if let Some(t) = total.filter(|&t| n > t) {
            return Err(value_error(
                place(field),
                format!("a fade of {n} frames is longer than the play ({t} frames)"),
            ));
        }
    }
    Ok(PlannedPlay {
        label,
        source,
        at: p.at,
        channels,
        gains,
        region,
        times,
        total,
        fade_in: p.fade_in,
        fade_out: p.fade_out,
    })
}

/// Loads `--input` when the session records.
fn plan_input(session: &Session, input: Option<&Path>) -> Result<Option<Input>, Error> {
    match (session.records.first(), input) {
        (None, _) => Ok(None),
        (Some(r), None) => Err(value_error(
            session.place(&r.lines, &r.label(), "file"),
            "the session records, so the render needs an input: pass --input IN.wav".into(),
        )),
        (Some(_), Some(path)) => {
            let audio = audio_file::load(path)
                .and_then(|a| audio_file::resample(a, session.sample_rate))
                .map_err(|problem| Error::Audio {
                    context: "--input".into(),
                    path: path.to_owned(),
                    problem,
                })?;
            Ok(Some(Input {
                path: path.to_owned(),
                audio,
            }))
        }
    }
}

/// Checks one recording against the input.
fn plan_record(
    session: &Session,
    r: &RecordEntry,
    inputs: u16,
    record_dir: &Path,
) -> Result<PlannedRecord, Error> {
    let label = r.label();
    let place = |field: &str| session.place(&r.lines, &label, field);
    let channels = match &r.channels {
        Some(c) => {
            if let Some(&bad) = c.iter().find(|&&c| c >= inputs) {
                return Err(value_error(
                    place("channels"),
                    format!(
                        "channel {} is out of range: --input has {inputs} channel{} (channels are numbered from 1)",
                        bad + 1,
                        plural(inputs.into())
                    ),
                ));
            }
            c.clone()
        }
        None => (0..inputs).collect(),
    };
    if r.at > FAR || r.frames > FAR {
        return Err(value_error(place("at"), "too far in the future".into()));
    }
    let fits = usize::try_from(r.frames)
        .ok()
        .and_then(|f| f.checked_mul(channels.len()))
        .is_some_and(|n| n <= 1 << 31);
    if !fits {
        return Err(value_error(
            place(if r.lines.of("duration").is_some() {
                "duration"
            } else {
                "frames"
            }),
            format!(
                "{} frames is too long a recording to hold in memory",
                r.frames
            ),
        ));
    }
    Ok(PlannedRecord {
        label,
        at: r.at,
        frames: r.frames,
        channels,
        path: record_dir.join(&r.file),
    })
}

/// The output length when the session does not fix it: the end of the last play or
/// recording.
fn default_length(
    session: &Session,
    plays: &[PlannedPlay],
    cancels: &[PlannedCancel],
    records: &[PlannedRecord],
) -> Result<u64, Error> {
    let mut end = 0;
    for (i, p) in plays.iter().enumerate() {
        let Some(e) = play_end(p, cancels, i) else {
            return Err(value_error(
                session.place(&session.plays[i].lines, &p.label, "loop"),
                "it loops forever and nothing ends it: give the session a length, or add a [[cancel]]".into(),
            ));
        };
        end = end.max(e);
    }
    for r in records {
        end = end.max(r.at + r.frames);
    }
    if end == 0 {
        return Err(value_error(
            Place::new(session.path.clone(), None, "top level", "length"),
            "nothing to render: the session has no play or recording that lasts, and no length"
                .into(),
        ));
    }
    Ok(end)
}

/// Loads every file the session names (and `input`, the `--input` file, when the session
/// records) and checks the session against them. Recordings are written in `record_dir`.
pub fn plan(session: Session, input: Option<&Path>, record_dir: &Path) -> Result<Plan, Error> {
    let mut sources = Sources::default();
    let plays = session
        .plays
        .iter()
        .map(|p| plan_play(&session, p, &mut sources))
        .collect::<Result<Vec<_>, _>>()?;
    let cancels: Vec<PlannedCancel> = session
        .cancels
        .iter()
        .map(|c| {
            if c.at > FAR || c.fade > FAR {
                return Err(value_error(
                    session.place(&c.lines, &c.label(), "at"),
                    "too far in the future".into(),
                ));
            }
            Ok(PlannedCancel {
                label: c.label(),
                target: c.target,
                at: c.at,
                fade: c.fade,
            })
        })
        .collect::<Result<_, _>>()?;
    let input = plan_input(&session, input)?;
    let inputs = input.as_ref().map_or(0, |i| i.audio.channels);
    let records = session
        .records
        .iter()
        .map(|r| plan_record(&session, r, inputs, record_dir))
        .collect::<Result<Vec<_>, _>>()?;
    let length = match session.length {
        Some(l) => l,
        None => default_length(&session, &plays, &cancels, &records)?,
    };
    let run = records
        .iter()
        .map(|r| r.at + r.frames)
        .fold(length, u64::max);
    Ok(Plan {
        session,
        sources: sources.list,
        plays,
        cancels,
        records,
        input,
        length,
        run,
    })
}

/// What became of one play, recording or cancel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Which entry.
    pub label: String,
    /// What kind of action.
    pub kind: ActionKind,
    /// The session frame it asked for.
    pub requested_at: u64,
    /// The frames it asked for (`None`: forever); 0 for a cancel.
    pub requested_frames: Option<u64>,
    /// The session frame where it took effect (`None`: it never did).
    pub actual_start: Option<u64>,
    /// The frames the engine played or recorded.
    pub frames: u64,
    /// The session frame after its last one.
    pub ended_at: Option<u64>,
    /// How it ended.
    pub end: EndReason,
}

/// The outcome of a render.
#[derive(Debug)]
pub struct Rendered {
    /// Output frames written.
    pub frames: u64,
    /// Output samples beyond [-1, 1].
    pub clipped: u64,
    /// Blocks the engine processed.
    pub blocks: u64,
    /// One report per play, then recording, then cancel, in file order.
    pub reports: Vec<Report>,
    /// The recorded samples of each recording (interleaved), in file order.
    pub recordings: Vec<Vec<f32>>,
}

/// What an id stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Play(usize),
    Record(usize),
    Cancel(usize),
    Gain,
}

/// A request waiting for its turn, in submission order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Event {
    /// Engine frame before whose block it must be submitted.
    submit: u64,
    rank: u8,
    index: usize,
}

const RANK_PLAY: u8 = 0;
const RANK_GAIN: u8 = 1;
const RANK_RECORD: u8 = 2;
const RANK_CANCEL: u8 = 3;

/// The engine frame of a cancel, and how it ends its target.
fn cancel_frame(c: &PlannedCancel) -> (u64, Ending) {
    if c.fade == 0 {
        (c.at + 1, Ending::Cut)
    } else {
        (c.at, Ending::FadeOut(c.fade))
    }
}

/// Every request of the plan, in submission order.
fn events(plan: &Plan) -> Vec<Event> {
    let mut events = Vec::new();
    for (index, p) in plan.plays.iter().enumerate() {
        let submit = p.at;
        events.push(Event {
            submit,
            rank: RANK_PLAY,
            index,
        });
        if p.fade_out > 0 {
            events.push(Event {
                submit,
                rank: RANK_GAIN,
                index,
            });
        }
    }
    for (index, r) in plan.records.iter().enumerate() {
        events.push(Event {
            submit: r.at,
            rank: RANK_RECORD,
            index,
        });
    }
    for (index, c) in plan.cancels.iter().enumerate() {
        events.push(Event {
            submit: cancel_frame(c).0.saturating_sub(1),
            rank: RANK_CANCEL,
            index,
        });
    }
    events.sort_unstable();
    events
}

type Ctl<'q> = Controller<'q, Arc<[f32]>, Vec<f32>, ACTIONS>;

/// The control side of a render: submits the plan's requests on time and collects the
/// completions.
struct Driver<'p, 'q> {
    plan: &'p Plan,
    ctl: Ctl<'q>,
    events: Vec<Event>,
    next: usize,
    play_ids: Vec<Option<ActionId>>,
    /// Plays submitted early because a cancel before their start removes them.
    removed: Vec<bool>,
    who: BTreeMap<ActionId, Who>,
    done: BTreeMap<ActionId, RenderCompletion>,
}

fn refused(what: &str, e: &rtmix_core::Error) -> Error {
    Error::Engine(format!("the engine refused {what}: {e}"))
}

impl Driver<'_, '_> {
    /// Submits every request due before the block `[clock, end)`; returns the block's end,
    /// brought forward if the engine's queues are full.
    fn submit_due(&mut self, clock: u64, mut end: u64) -> Result<u64, Error> {
        while let Some(&ev) = self.events.get(self.next) {
            if ev.submit >= end {
                break;
            }
            match self.submit(ev) {
                Ok(()) => self.next += 1,
                Err(rtmix_core::Error::QueueFull | rtmix_core::Error::Capacity { .. })
                    if ev.submit + 1 > clock && ev.submit + 1 < end =>
                {
                    // Run up to the frame after it, take completions, then try again: it
                    // is still on time.
                    end = ev.submit + 1;
                    break;
                }
                Err(e) => {
                    let label = match ev.rank {
                        RANK_PLAY | RANK_GAIN => &self.plan.plays[ev.index].label,
                        RANK_RECORD => &self.plan.records[ev.index].label,
                        _ => &self.plan.cancels[ev.index].label,
                    };
                    if let rtmix_core::Error::Capacity { .. } = e {
                        return Err(Error::Engine(format!(
                            "{label}: more than {} plays, recordings and fade-outs would be under way at once around frame {}, more than the render holds",
                            ACTIONS - 1,
                            ev.submit
                        )));
                    }
                    return Err(refused(label, &e));
                }
            }
        }
        Ok(end)
    }

    fn submit(&mut self, ev: Event) -> Result<(), rtmix_core::Error> {
        match ev.rank {
            RANK_PLAY if self.play_ids[ev.index].is_none() => self.submit_play(ev.index).map(drop),
            RANK_GAIN if !self.removed[ev.index] => {
                let p = &self.plan.plays[ev.index];
                let id = self.play_ids[ev.index].expect("a play is submitted before its fade");
                let total = p.total.expect("a fade-out needs an end");
                // Session frame at + T - 1 - N is engine frame at + T - N.
                let start = p.at + total - p.fade_out;
                let target = GainTarget::Action(id);
                let id =
                    self.ctl
                        .set_gain(target, 0.0, p.fade_out, At::Frame(start), Late::Skip)?;
                self.who.insert(id, Who::Gain);
                Ok(())
            }
            RANK_RECORD => {
                let r = &self.plan.records[ev.index];
                let map = ChannelMap::new(&r.channels)?;
                let buffer = vec![0.0f32; r.frames as usize * r.channels.len()];
                let record = Record::new(buffer, map)
                    .at(At::Frame(r.at + 1))
                    .late(Late::Drop);
                let id = self.ctl.record(record).map_err(|rejected| rejected.error)?;
                self.who.insert(id, Who::Record(ev.index));
                Ok(())
            }
            RANK_CANCEL => {
                let c = &self.plan.cancels[ev.index];
                let target = if let Some(id) = self.play_ids[c.target] {
                    id
                } else {
                    // The play would start at or after the cancel: submitted now, it
                    // never starts (the engine removes it), as the rules say.
                    let id = self.submit_play(c.target)?;
                    self.removed[c.target] = true;
                    id
                };
                let (frame, ending) = cancel_frame(c);
                let id = self
                    .ctl
                    .cancel_with(target, At::Frame(frame), Late::StartNow, ending)?;
                self.who.insert(id, Who::Cancel(ev.index));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn submit_play(&mut self, index: usize) -> Result<ActionId, rtmix_core::Error> {
        let plan = self.plan;
        let p = &plan.plays[index];
        let map = ChannelMap::new(&p.channels)?.with_gains(&p.gains)?;
        let repeat = p.times.map_or(Repeat::Forever, Repeat::Times);
        let play = Play::new(Arc::clone(&plan.sources[p.source].samples), map)
            .region(p.region.0, p.region.1)
            .repeat(repeat)
            .fade_in(p.fade_in)
            .at(At::Frame(p.at + 1))
            .late(Late::Drop);
        let id = self.ctl.play(play).map_err(|r| r.error)?;
        self.play_ids[index] = Some(id);
        self.who.insert(id, Who::Play(index));
        Ok(id)
    }

    fn collect(&mut self) {
        while let Some(c) = self.ctl.try_next() {
            self.done.insert(c.id, c);
        }
    }

    /// The reports, in the order plays, recordings, cancels, and the recorded samples.
    fn reports(self) -> Result<(Vec<Report>, Vec<Vec<f32>>), Error> {
        let plan = self.plan;
        let mut recordings = vec![Vec::new(); plan.records.len()];
        let mut sorted: BTreeMap<(u8, usize), Report> = BTreeMap::new();
        for (id, c) in self.done {
            let Some(&who) = self.who.get(&id) else {
                continue;
            };
            if c.late_by > 0 && who != Who::Gain {
                return Err(Error::Engine(format!(
                    "internal error: a request reached the engine {} frames late",
                    c.late_by
                )));
            }
            // Engine frame e is session frame e - 1, except that a faded cancel runs one
            // frame early (its session frame F is engine frame F).
            let mut shift = 1;
            let (key, label, requested_at, requested_frames) = match who {
                Who::Gain => continue,
                Who::Play(i) => {
                    let p = &plan.plays[i];
                    ((0, i), p.label.clone(), p.at, p.total)
                }
                Who::Record(i) => {
                    let r = &plan.records[i];
                    ((1, i), r.label.clone(), r.at, Some(r.frames))
                }
                Who::Cancel(i) => {
                    let k = &plan.cancels[i];
                    if k.fade > 0 {
                        shift = 0;
                    }
                    ((2, i), k.label.clone(), k.at, Some(k.fade))
                }
            };
            let session = |f: Option<u64>| f.map(|f| f.saturating_sub(shift));
            let end = match c.end {
                EndReason::Cancelled { at } => EndReason::Cancelled {
                    at: at.saturating_sub(1),
                },
                other => other,
            };
            sorted.insert(
                key,
                Report {
                    label,
                    kind: c.kind,
                    requested_at,
                    requested_frames,
                    actual_start: session(c.actual_start),
                    frames: c.frames,
                    ended_at: session(c.ended_at),
                    end,
                },
            );
            if let (Who::Record(i), Payload::Recorded(samples)) = (who, c.payload) {
                recordings[i] = samples;
            }
        }
        Ok((sorted.into_values().collect(), recordings))
    }
}

/// The device side of a render: the block loop's buffers and counters.
struct Device<'p> {
    plan: &'p Plan,
    out_block: Vec<f32>,
    in_block: Vec<f32>,
    written: u64,
    clipped: u64,
    blocks: u64,
}

impl Device<'_> {
    /// Runs the engine over engine frames `[clock, end)` and writes the session frames
    /// among them that lie in `[0, length)` to `sink`.
    fn block<P: PlaySource, R: RecordTarget, const A: usize>(
        &mut self,
        engine: &mut Engine<'_, P, R, A>,
        clock: u64,
        end: u64,
        sink: &mut dyn Sink,
    ) -> Result<(), Error> {
        let plan = self.plan;
        let ch = usize::from(plan.session.channels);
        let n = (end - clock) as usize;
        self.out_block.clear();
        self.out_block.resize(n * ch, 0.0);
        if let Some(input) = plan.input.as_ref().filter(|_| !plan.records.is_empty()) {
            fill_input(&input.audio, clock, n, &mut self.in_block);
        }
        engine.process(&self.in_block, &mut self.out_block);
        self.blocks += 1;
        // Engine frame e is session frame e - 1; keep session frames [0, length).
        let first = clock.max(1);
        let last = end.min(plan.length + 1);
        if first < last {
            let part = &self.out_block[(first - clock) as usize * ch..(last - clock) as usize * ch];
            self.clipped += part.iter().filter(|s| !(-1.0..=1.0).contains(*s)).count() as u64;
            sink.write(part)?;
            self.written += last - first;
        }
        Ok(())
    }
}

/// Renders `plan` in blocks of `blocks` into `sink` (interleaved, the session's channels,
/// `plan.length` frames). `progress(done, total)` is called as it goes.
pub fn render(
    plan: &Plan,
    blocks: Blocks,
    sink: &mut dyn Sink,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Rendered, Error> {
    let inputs = if plan.records.is_empty() {
        0
    } else {
        plan.input.as_ref().map_or(0, |i| i.audio.channels)
    };
    let config = StreamConfig::duplex(plan.session.channels, inputs);
    let mut queues: Box<RenderQueues> = Box::default();
    let (ctl, mut engine) = queues
        .split(config)
        .map_err(|e| Error::Engine(format!("cannot open the simulated stream: {e}")))?;
    let mut driver = Driver {
        plan,
        ctl,
        events: events(plan),
        next: 0,
        play_ids: vec![None; plan.plays.len()],
        removed: vec![false; plan.plays.len()],
        who: BTreeMap::new(),
        done: BTreeMap::new(),
    };
    let mut device = Device {
        plan,
        out_block: Vec::new(),
        in_block: Vec::new(),
        written: 0,
        clipped: 0,
        blocks: 0,
    };
    // One frame of pre-roll: engine frame 0 is before session frame 0.
    let total = plan.run + 1;
    let mut clock = 0u64;
    let mut sizes = blocks.sizes();
    let mut reported = 0u64;
    while clock < total {
        let want = sizes.next().unwrap_or(1) as u64;
        let end = driver.submit_due(clock, (clock + want).min(total))?;
        device.block(&mut engine, clock, end, sink)?;
        clock = end;
        driver.collect();
        if clock - reported >= 48_000 || clock == total {
            progress(clock, total);
            reported = clock;
        }
    }
    // End what still runs (a play past the length): its completion says StreamStopped.
    loop {
        engine.output.stop();
        engine.input.stop();
        driver.collect();
        if engine.output.is_idle() && engine.input.is_idle() {
            break;
        }
    }
    driver.collect();
    let (reports, recordings) = driver.reports()?;
    Ok(Rendered {
        frames: device.written,
        clipped: device.clipped,
        blocks: device.blocks,
        reports,
        recordings,
    })
}

/// The engine's input for frames `[clock, clock + n)`: engine frame `e` carries input
/// file frame `e - 1`, silence before and after the file.
fn fill_input(input: &Audio, clock: u64, n: usize, block: &mut Vec<f32>) {
    let ch = usize::from(input.channels);
    block.clear();
    block.resize(n * ch, 0.0);
    let frames = input.frames();
    for i in 0..n as u64 {
        let e = clock + i;
        if e == 0 || e > frames {
            continue;
        }
        let src = ((e - 1) as usize) * ch;
        let dst = i as usize * ch;
        block[dst..dst + ch].copy_from_slice(&input.samples[src..src + ch]);
    }
}
