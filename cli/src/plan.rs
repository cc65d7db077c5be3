//! Planning: a session checked against its audio (files decoded and resampled, channels,
//! regions, fades and lengths checked, the cancels' effect on each play worked out), ready
//! to be mapped one to one onto core requests ([`crate::request`]). `rtmix render` and
//! `rtmix play` both plan this way, so the same files at the same frames give the same
//! samples.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::audio_file::{self, resampled_len, Audio};
use crate::cancels;
use crate::error::{Error, Place};
use crate::session::{plural, Gain, Loop, PlayEntry, RecordEntry, Session};

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
        let Some(e) = cancels::end(p, i, cancels) else {
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
