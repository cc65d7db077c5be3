//! The session file (TOML): parsed with unknown keys refused, then checked entry by entry,
//! every error naming the file, the line, the entry and the field. The format and its
//! exact semantics are documented in `docs/session-format.md`.
//!
//! What can only be checked against the audio (a play's channel count against its file's,
//! a region against the file's length, a fade against the play's length, a recording's
//! channels against `--input`) is checked when the render is planned
//! ([`crate::plan::plan`]), with the same kind of message.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::{Spanned, Value};

use crate::error::{Error, Place};
use crate::time::parse_duration;

/// The largest output or input channel count a session may ask for (the core's channel
/// map limit).
pub const MAX_CHANNELS: u16 = rtmix_core::MAX_MAP_CHANNELS as u16;

/// The highest sample rate a session may ask for.
pub const MAX_RATE: u32 = 768_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSession {
    sample_rate: Spanned<i64>,
    channels: Spanned<i64>,
    length: Option<Spanned<Value>>,
    #[serde(default)]
    play: Vec<Spanned<RawPlay>>,
    #[serde(default)]
    cancel: Vec<Spanned<RawCancel>>,
    #[serde(default)]
    record: Vec<Spanned<RawRecord>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlay {
    id: Option<Spanned<String>>,
    file: Spanned<String>,
    at: Option<Spanned<Value>>,
    channels: Option<Spanned<Vec<i64>>>,
    gain: Option<Spanned<Value>>,
    region: Option<Spanned<Vec<i64>>>,
    #[serde(rename = "loop")]
    repeat: Option<Spanned<Value>>,
    fade_in: Option<Spanned<Value>>,
    fade_out: Option<Spanned<Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCancel {
    id: Spanned<String>,
    at: Spanned<Value>,
    fade: Option<Spanned<Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecord {
    at: Option<Spanned<Value>>,
    frames: Option<Spanned<i64>>,
    duration: Option<Spanned<Value>>,
    channels: Option<Spanned<Vec<i64>>>,
    file: Spanned<String>,
}

/// A play's gain: one for all its channels, or one per channel.
#[derive(Clone, Debug, PartialEq)]
pub enum Gain {
    /// The same gain on every channel.
    All(f32),
    /// One gain per channel, in the play's channel order.
    PerChannel(Vec<f32>),
}

/// How often a play's region repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loop {
    /// This many times, back to back (at least 1).
    Times(u64),
    /// Until a cancel or the session's length ends it.
    Forever,
}

/// The lines of an entry's fields, for messages about them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lines {
    entry: Option<usize>,
    fields: BTreeMap<&'static str, usize>,
}

impl Lines {
    /// The line of `field`, or else of the entry.
    pub fn of(&self, field: &str) -> Option<usize> {
        self.fields.get(field).copied().or(self.entry)
    }
}

/// One `[[play]]` entry, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct PlayEntry {
    /// 1-based position among the `[[play]]` entries.
    pub index: usize,
    /// Its name, for `[[cancel]]`.
    pub id: Option<String>,
    /// The audio file, as written.
    pub file_text: String,
    /// The audio file, resolved against the session file's folder.
    pub file: PathBuf,
    /// The output frame of its first frame.
    pub at: u64,
    /// 0-based output channels, one per file channel (`None`: 1, 2, ... as many as the
    /// file has).
    pub channels: Option<Vec<u16>>,
    /// Its gain.
    pub gain: Gain,
    /// `[start, end)` in the file's own frames (`None`: the whole file).
    pub region: Option<(u64, u64)>,
    /// Repetitions of the region.
    pub repeat: Loop,
    /// Fade-in frames.
    pub fade_in: u64,
    /// Fade-out frames.
    pub fade_out: u64,
    /// Where its fields are.
    pub lines: Lines,
}

impl PlayEntry {
    /// How messages name it: `[[play]] 2 ("drums")`.
    pub fn label(&self) -> String {
        match &self.id {
            Some(id) => format!("[[play]] {} ({id:?})", self.index),
            None => format!("[[play]] {}", self.index),
        }
    }
}

/// One `[[cancel]]` entry, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CancelEntry {
    /// 1-based position among the `[[cancel]]` entries.
    pub index: usize,
    /// The id it names.
    pub id: String,
    /// Index (0-based) into [`Session::plays`] of the play it stops.
    pub target: usize,
    /// The frame from which the play is silent (with no fade), or the fade's first frame.
    pub at: u64,
    /// Fade-out frames.
    pub fade: u64,
    /// Where its fields are.
    pub lines: Lines,
}

impl CancelEntry {
    /// How messages name it: `[[cancel]] 1 ("drums")`.
    pub fn label(&self) -> String {
        format!("[[cancel]] {} ({:?})", self.index, self.id)
    }
}

/// One `[[record]]` entry, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordEntry {
    /// 1-based position among the `[[record]]` entries.
    pub index: usize,
    /// The input frame of its first frame.
    pub at: u64,
    /// How many frames.
    pub frames: u64,
    /// 0-based input channels (`None`: all of `--input`'s).
    pub channels: Option<Vec<u16>>,
    /// The WAV file to write, as written (resolved against the output file's folder).
    pub file: String,
    /// Where its fields are.
    pub lines: Lines,
}

impl RecordEntry {
    /// How messages name it: `[[record]] 1 ("take1.wav")`.
    pub fn label(&self) -> String {
        format!("[[record]] {} ({:?})", self.index, self.file)
    }
}

/// A checked session.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    /// The session file.
    pub path: PathBuf,
    /// Frames per second of the output (and of the input the recordings read).
    pub sample_rate: u32,
    /// Output channels.
    pub channels: u16,
    /// Output length in frames, if the session fixes it.
    pub length: Option<u64>,
    /// The plays, in file order (which is also their summing order).
    pub plays: Vec<PlayEntry>,
    /// The cancels, in file order.
    pub cancels: Vec<CancelEntry>,
    /// The recordings, in file order.
    pub records: Vec<RecordEntry>,
    /// Where the top-level keys are.
    pub lines: Lines,
}

impl Session {
    /// The place of `field` of the entry `label` (whose lines are `lines`).
    pub fn place(&self, lines: &Lines, label: &str, field: &str) -> Place {
        Place::new(self.path.clone(), lines.of(field), label, field)
    }
}

/// Reads and checks the session file at `path`.
pub fn load(path: &Path) -> Result<Session, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::SessionUnreadable {
        path: path.to_owned(),
        source,
    })?;
    parse(&text, path)
}

/// Checks session `text`, read from `path` (relative audio paths are resolved against its
/// folder).
pub fn parse(text: &str, path: &Path) -> Result<Session, Error> {
    let raw: RawSession = toml::from_str(text).map_err(|e| Error::SessionSyntax {
        path: path.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })?;
    Checker { text, path }.session(raw)
}

/// Turns raw entries into checked ones.
struct Checker<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Checker<'_> {
    /// The 1-based line of a byte offset.
    fn line(&self, offset: usize) -> usize {
        self.text
            .get(..offset)
            .unwrap_or(self.text)
            .matches('\n')
            .count()
            + 1
    }

    fn err(&self, line: Option<usize>, entry: &str, field: &str, message: String) -> Error {
        Error::SessionValue {
            place: Place::new(self.path.to_owned(), line, entry, field),
            message,
        }
    }

    fn lines(
        entry: Option<usize>,
        fields: impl IntoIterator<Item = (&'static str, Option<usize>)>,
    ) -> Lines {
        Lines {
            entry,
            fields: fields
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k, v)))
                .collect(),
        }
    }

    fn span_line<T>(&self, s: Option<&Spanned<T>>) -> Option<usize> {
        s.map(|s| self.line(s.span().start))
    }

    /// A time value: integer frames, or a "1.5s" / "250ms" string.
    fn time(
        &self,
        value: &Spanned<Value>,
        rate: u32,
        entry: &str,
        field: &str,
    ) -> Result<u64, Error> {
        let line = Some(self.line(value.span().start));
        match value.get_ref() {
            Value::Integer(n) => u64::try_from(*n)
                .map_err(|_| self.err(line, entry, field, format!("{n} is negative: a time is 0 or more frames"))),
            Value::String(s) => parse_duration(s, rate).map_err(|m| self.err(line, entry, field, m)),
            other => Err(self.err(
                line,
                entry,
                field,
                format!(
                    "expected an integer number of frames or a string such as \"1.5s\" or \"250ms\", found {}",
                    describe(other)
                ),
            )),
        }
    }

    /// An optional time field, 0 when absent.
    fn opt_time(
        &self,
        value: Option<&Spanned<Value>>,
        rate: u32,
        entry: &str,
        field: &str,
    ) -> Result<u64, Error> {
        value.map_or(Ok(0), |v| self.time(v, rate, entry, field))
    }

    /// 1-based channel numbers, checked against `limit` when it is known; returned 0-based.
    fn channels(
        &self,
        list: &Spanned<Vec<i64>>,
        limit: Option<(u16, &str)>,
        entry: &str,
    ) -> Result<Vec<u16>, Error> {
        let line = Some(self.line(list.span().start));
        let err = |m: String| self.err(line, entry, "channels", m);
        if list.get_ref().is_empty() {
            return Err(err("the channel list is empty".into()));
        }
        if list.get_ref().len() > usize::from(MAX_CHANNELS) {
            return Err(err(format!("more than {MAX_CHANNELS} channels")));
        }
        list.get_ref()
            .iter()
            .map(|&c| {
                let max = limit.map_or(i64::from(MAX_CHANNELS), |(n, _)| i64::from(n));
                if c < 1 || c > max {
                    let what = limit.map_or(String::new(), |(n, what)| {
                        format!(": the session has {n} {what} channel{}", plural(n.into()))
                    });
                    Err(err(format!(
                        "channel {c} is out of range (channels are numbered from 1){what}"
                    )))
                } else {
                    Ok((c - 1) as u16)
                }
            })
            .collect()
    }

    fn session(&self, raw: RawSession) -> Result<Session, Error> {
        let top = "top level";
        let rate_line = Some(self.line(raw.sample_rate.span().start));
        let rate = *raw.sample_rate.get_ref();
        let rate = u32::try_from(rate)
            .ok()
            .filter(|r| (1..=MAX_RATE).contains(r))
            .ok_or_else(|| {
                self.err(
                    rate_line,
                    top,
                    "sample_rate",
                    format!("{rate} is not a sample rate (1 to {MAX_RATE} Hz)"),
                )
            })?;
        let ch_line = Some(self.line(raw.channels.span().start));
        let channels = *raw.channels.get_ref();
        let channels = u16::try_from(channels)
            .ok()
            .filter(|c| (1..=MAX_CHANNELS).contains(c))
            .ok_or_else(|| {
                self.err(
                    ch_line,
                    top,
                    "channels",
                    format!("{channels} output channels: a session has 1 to {MAX_CHANNELS}"),
                )
            })?;
        let length = match &raw.length {
            Some(l) => Some(self.time(l, rate, top, "length")?),
            None => None,
        };
        let lines = Self::lines(
            None,
            [
                ("sample_rate", rate_line),
                ("channels", ch_line),
                ("length", self.span_line(raw.length.as_ref())),
            ],
        );

        let mut plays = Vec::with_capacity(raw.play.len());
        for (i, p) in raw.play.into_iter().enumerate() {
            plays.push(self.play(i + 1, p, rate, channels)?);
        }
        let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, p) in plays.iter().enumerate() {
            if let Some(id) = &p.id {
                if let Some(&first) = ids.get(id.as_str()) {
                    return Err(self.err(
                        p.lines.of("id"),
                        &p.label(),
                        "id",
                        format!("id {id:?} is already used by [[play]] {}", first + 1),
                    ));
                }
                ids.insert(id, i);
            }
        }
        let cancels = raw
            .cancel
            .into_iter()
            .enumerate()
            .map(|(i, c)| self.cancel(i + 1, c, rate, &ids))
            .collect::<Result<Vec<_>, _>>()?;
        let mut records = Vec::with_capacity(raw.record.len());
        for (i, r) in raw.record.into_iter().enumerate() {
            records.push(self.record(i + 1, r, rate)?);
        }
        Ok(Session {
            path: self.path.to_owned(),
            sample_rate: rate,
            channels,
            length,
            plays,
            cancels,
            records,
            lines,
        })
    }

    fn cancel(
        &self,
        index: usize,
        raw: Spanned<RawCancel>,
        rate: u32,
        ids: &BTreeMap<&str, usize>,
    ) -> Result<CancelEntry, Error> {
        let entry_line = Some(self.line(raw.span().start));
        let c = raw.into_inner();
        let id = c.id.get_ref().clone();
        let label = format!("[[cancel]] {index} ({id:?})");
        let id_line = Some(self.line(c.id.span().start));
        let &target = ids.get(id.as_str()).ok_or_else(|| {
            self.err(
                id_line,
                &label,
                "id",
                format!("no [[play]] has the id {id:?}"),
            )
        })?;
        let at = self.time(&c.at, rate, &label, "at")?;
        let fade = self.opt_time(c.fade.as_ref(), rate, &label, "fade")?;
        let lines = Self::lines(
            entry_line,
            [
                ("id", id_line),
                ("at", Some(self.line(c.at.span().start))),
                ("fade", self.span_line(c.fade.as_ref())),
            ],
        );
        Ok(CancelEntry {
            index,
            id,
            target,
            at,
            fade,
            lines,
        })
    }

    /// `[start, end]`, checked.
    fn region(&self, r: &Spanned<Vec<i64>>, label: &str) -> Result<(u64, u64), Error> {
        let err = |m: String| self.err(self.span_line(Some(r)), label, "region", m);
        match *r.get_ref().as_slice() {
            [start, end] if start < 0 || end < 0 => Err(err(format!(
                "region [{start}, {end}] is negative: frames count from 0"
            ))),
            [start, end] if end <= start => Err(err(format!(
                "region [{start}, {end}] ends before it starts (or is empty): write [start, end) with start < end"
            ))),
            [start, end] => Ok((start as u64, end as u64)),
            ref other => Err(err(format!(
                "a region is two frames [start, end], found {} value{}",
                other.len(),
                plural(other.len() as u64)
            ))),
        }
    }

    /// `loop`: a count of 1 or more, or "forever".
    fn repeat(&self, l: Option<&Spanned<Value>>, label: &str) -> Result<Loop, Error> {
        let Some(l) = l else {
            return Ok(Loop::Times(1));
        };
        match l.get_ref() {
            Value::Integer(n) if *n >= 1 => Ok(Loop::Times(*n as u64)),
            Value::String(s) if s == "forever" => Ok(Loop::Forever),
            other => Err(self.err(
                self.span_line(Some(l)),
                label,
                "loop",
                format!(
                    "expected a number of repetitions (1 or more) or \"forever\", found {}",
                    describe(other)
                ),
            )),
        }
    }

    fn play(
        &self,
        index: usize,
        raw: Spanned<RawPlay>,
        rate: u32,
        outputs: u16,
    ) -> Result<PlayEntry, Error> {
        let entry_line = Some(self.line(raw.span().start));
        let p = raw.into_inner();
        let id = p.id.as_ref().map(|s| s.get_ref().clone());
        let label = match &id {
            Some(id) => format!("[[play]] {index} ({id:?})"),
            None => format!("[[play]] {index}"),
        };
        if let Some(s) = &p.id {
            if s.get_ref().trim().is_empty() {
                return Err(self.err(
                    self.span_line(Some(s)),
                    &label,
                    "id",
                    "an id must not be empty".into(),
                ));
            }
        }
        let file_text = p.file.get_ref().clone();
        if file_text.trim().is_empty() {
            return Err(self.err(
                self.span_line(Some(&p.file)),
                &label,
                "file",
                "the file name is empty".into(),
            ));
        }
        let file = resolve(self.path, &file_text);
        let at =
            p.at.as_ref()
                .map(|a| self.time(a, rate, &label, "at"))
                .transpose()?
                .unwrap_or(0);
        let channels = p
            .channels
            .as_ref()
            .map(|c| self.channels(c, Some((outputs, "output")), &label))
            .transpose()?;
        let gain = match &p.gain {
            None => Gain::All(1.0),
            Some(g) => self.gain(g, &label)?,
        };
        if let (Gain::PerChannel(gains), Some(channels)) = (&gain, &channels) {
            if gains.len() != channels.len() {
                return Err(self.err(
                    self.span_line(p.gain.as_ref()),
                    &label,
                    "gain",
                    format!(
                        "{} gains for {} channels: give one gain, or one per channel",
                        gains.len(),
                        channels.len()
                    ),
                ));
            }
        }
        let region = p
            .region
            .as_ref()
            .map(|r| self.region(r, &label))
            .transpose()?;
        let repeat = self.repeat(p.repeat.as_ref(), &label)?;
        let fade_in = self.opt_time(p.fade_in.as_ref(), rate, &label, "fade_in")?;
        let fade_out = self.opt_time(p.fade_out.as_ref(), rate, &label, "fade_out")?;
        if fade_out > 0 && repeat == Loop::Forever {
            return Err(self.err(
                self.span_line(p.fade_out.as_ref()),
                &label,
                "fade_out",
                "a play that loops forever has no end to fade out to: give a [[cancel]] a fade instead".into(),
            ));
        }
        let lines = Self::lines(
            entry_line,
            [
                ("id", self.span_line(p.id.as_ref())),
                ("file", self.span_line(Some(&p.file))),
                ("at", self.span_line(p.at.as_ref())),
                ("channels", self.span_line(p.channels.as_ref())),
                ("gain", self.span_line(p.gain.as_ref())),
                ("region", self.span_line(p.region.as_ref())),
                ("loop", self.span_line(p.repeat.as_ref())),
                ("fade_in", self.span_line(p.fade_in.as_ref())),
                ("fade_out", self.span_line(p.fade_out.as_ref())),
            ],
        );
        Ok(PlayEntry {
            index,
            id,
            file_text,
            file,
            at,
            channels,
            gain,
            region,
            repeat,
            fade_in,
            fade_out,
            lines,
        })
    }

    fn gain(&self, g: &Spanned<Value>, label: &str) -> Result<Gain, Error> {
        let line = self.span_line(Some(g));
        let err = |m: String| self.err(line, label, "gain", m);
        let number = |v: &Value| -> Result<f32, Error> {
            let x = match v {
                Value::Float(x) => *x as f32,
                Value::Integer(n) => *n as f32,
                other => {
                    return Err(err(format!(
                        "expected a number or a list of numbers, found {}",
                        describe(other)
                    )))
                }
            };
            if x.is_finite() {
                Ok(x)
            } else {
                Err(err(format!("{v} is not a finite gain")))
            }
        };
        match g.get_ref() {
            Value::Array(items) => {
                if items.is_empty() {
                    return Err(err("the gain list is empty".into()));
                }
                Ok(Gain::PerChannel(
                    items.iter().map(number).collect::<Result<_, _>>()?,
                ))
            }
            other => Ok(Gain::All(number(other)?)),
        }
    }

    fn record(
        &self,
        index: usize,
        raw: Spanned<RawRecord>,
        rate: u32,
    ) -> Result<RecordEntry, Error> {
        let entry_line = Some(self.line(raw.span().start));
        let r = raw.into_inner();
        let file = r.file.get_ref().clone();
        let label = format!("[[record]] {index} ({file:?})");
        if file.trim().is_empty() {
            return Err(self.err(
                self.span_line(Some(&r.file)),
                &label,
                "file",
                "the file name is empty".into(),
            ));
        }
        let at =
            r.at.as_ref()
                .map(|a| self.time(a, rate, &label, "at"))
                .transpose()?
                .unwrap_or(0);
        let frames = match (&r.frames, &r.duration) {
            (Some(f), None) => u64::try_from(*f.get_ref()).map_err(|_| {
                self.err(
                    self.span_line(Some(f)),
                    &label,
                    "frames",
                    format!("{} is negative", f.get_ref()),
                )
            })?,
            (None, Some(d)) => self.time(d, rate, &label, "duration")?,
            (Some(_), Some(d)) => {
                return Err(self.err(
                    self.span_line(Some(d)),
                    &label,
                    "duration",
                    "give either frames or duration, not both".into(),
                ))
            }
            (None, None) => {
                return Err(self.err(
                    entry_line,
                    &label,
                    "frames",
                    "a recording needs its length: frames = N or duration = \"2s\"".into(),
                ))
            }
        };
        let length_field = if r.frames.is_some() {
            "frames"
        } else {
            "duration"
        };
        if frames == 0 {
            return Err(self.err(
                self.span_line(r.frames.as_ref())
                    .or(self.span_line(r.duration.as_ref())),
                &label,
                length_field,
                "a recording must be at least 1 frame long".into(),
            ));
        }
        if at.checked_add(frames).is_none() {
            return Err(self.err(
                entry_line,
                &label,
                length_field,
                "it ends past the end of time".into(),
            ));
        }
        let channels = r
            .channels
            .as_ref()
            .map(|c| self.channels(c, None, &label))
            .transpose()?;
        let lines = Self::lines(
            entry_line,
            [
                ("at", self.span_line(r.at.as_ref())),
                ("frames", self.span_line(r.frames.as_ref())),
                ("duration", self.span_line(r.duration.as_ref())),
                ("channels", self.span_line(r.channels.as_ref())),
                ("file", self.span_line(Some(&r.file))),
            ],
        );
        Ok(RecordEntry {
            index,
            at,
            frames,
            channels,
            file,
            lines,
        })
    }
}

/// `file` relative to the folder of `session` (absolute paths stay as they are).
fn resolve(session: &Path, file: &str) -> PathBuf {
    let file = Path::new(file);
    if file.is_absolute() {
        file.to_owned()
    } else {
        session
            .parent()
            .map_or_else(|| file.to_owned(), |dir| dir.join(file))
    }
}

/// "s" for counts other than 1.
pub(crate) fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A TOML value's kind and text, for messages.
fn describe(v: &Value) -> String {
    let kind = match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "a list",
        Value::Table(_) => "a table",
    };
    format!("{kind} ({v})")
}
