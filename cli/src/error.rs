//! Everything that can go wrong, as one typed error whose message names the file, the
//! line, the session entry and the field at fault.

use std::fmt;
use std::path::PathBuf;

/// Where in a session file something is: the file, a line, an entry and a field.
///
/// ```
/// use rtmix_cli::error::Place;
/// let place = Place::new("s.toml".into(), Some(7), "[[play]] 2 (\"drums\")", "channels");
/// assert_eq!(place.to_string(), "s.toml:7: [[play]] 2 (\"drums\"), field `channels`");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// The session file.
    pub file: PathBuf,
    /// The 1-based line, when known.
    pub line: Option<usize>,
    /// The entry, as a person reads it: `[[play]] 2 ("drums")`, or `top level`.
    pub entry: String,
    /// The field (key) at fault.
    pub field: String,
}

impl Place {
    /// A place in `file`.
    pub fn new(file: PathBuf, line: Option<usize>, entry: &str, field: &str) -> Self {
        Self {
            file,
            line,
            entry: entry.to_owned(),
            field: field.to_owned(),
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}, field `{}`", self.entry, self.field)
    }
}

/// Why an audio file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AudioProblem {
    /// The file does not exist.
    #[error("no such file")]
    NotFound,
    /// The file exists but could not be read.
    #[error("cannot read it: {0}")]
    Unreadable(std::io::Error),
    /// Neither a WAV file nor any format symphonia knows.
    #[error("not an audio file (neither WAV nor a format rtmix can decode)")]
    NotAudio,
    /// A header that announces more audio than the file holds.
    #[error("truncated: {0}")]
    Truncated(String),
    /// A file in a known format that could not be decoded.
    #[error("cannot decode it: {0}")]
    Decode(String),
    /// An encoding rtmix does not read (say, 12-bit integers).
    #[error("unsupported encoding: {0}")]
    Unsupported(String),
    /// No frames at all.
    #[error("it holds no audio frames")]
    Empty,
    /// A NaN or infinite sample (float files only).
    #[error("sample {index} is not a finite number")]
    NonFinite {
        /// Index of the first such sample, interleaved.
        index: usize,
    },
    /// Resampling failed.
    #[error("cannot resample it from {from} Hz to {to} Hz: {message}")]
    Resample {
        /// The file's rate.
        from: u32,
        /// The session's rate.
        to: u32,
        /// rubato's message.
        message: String,
    },
}

/// An `rtmix` error. Each ends the program with its [`exit_code`](Error::exit_code). No
/// partial output is left behind, except that `rtmix record` always keeps the audio it
/// captured (see [`Error::DeviceFailed`], [`Error::Interrupted`] and
/// [`Error::RecordingNotSaved`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The session file could not be read.
    #[error("cannot read session file {path}: {source}")]
    SessionUnreadable {
        /// The session file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The session file is not valid TOML, or has a key of the wrong type, a missing key or
    /// an unknown key (toml's message names the line, the column and the key).
    #[error("{path}: {message}")]
    SessionSyntax {
        /// The session file.
        path: PathBuf,
        /// toml's message, with line and column.
        message: String,
    },
    /// A session value that parses but makes no sense: bad time syntax, a channel out of
    /// range, a wrong channel count, an unknown id, a region that is negative or crossed,
    /// a fade longer than its play...
    #[error("{place}: {message}")]
    SessionValue {
        /// Where.
        place: Place,
        /// What is wrong.
        message: String,
    },
    /// An audio file named by a session entry (or by `--input`) cannot be used.
    #[error("{context}: audio file {path}: {problem}")]
    Audio {
        /// Who named it: a place in the session, or `--input`.
        context: String,
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: AudioProblem,
    },
    /// An output file (the mix or a recording) cannot be written.
    #[error("cannot write {path}: {source}")]
    Output {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A bad command-line value (a block pattern, say).
    #[error("{0}")]
    Usage(String),
    /// The engine refused a request the session checks had let through, or too many
    /// actions overlap at one frame for the engine's fixed capacity.
    #[error("{0}")]
    Engine(String),
    /// The audio device (or the cpal host) named does not exist, is busy, or cannot be
    /// opened.
    #[error("{backend} device {device:?}: {message}")]
    NoDevice {
        /// `ALSA` or `cpal`.
        backend: &'static str,
        /// The name asked for.
        device: String,
        /// Why, and what to do.
        message: String,
    },
    /// The device is a client of a sound server (JACK) that is not running.
    #[error("{backend} device {device:?} is a JACK client, and no JACK server is running: start jackd first (for instance `jackd -d dummy -r 48000 -p 1024`)")]
    ServerDown {
        /// `ALSA` or `cpal`.
        backend: &'static str,
        /// The name asked for.
        device: String,
    },
    /// The device does not take the channel count, rate or format asked of it.
    #[error("{backend} device {device:?} does not take {what}: {message}")]
    Unsupported {
        /// `ALSA` or `cpal`.
        backend: &'static str,
        /// The device.
        device: String,
        /// What it refused: `2 channels`, `48000 Hz`, ...
        what: String,
        /// The details.
        message: String,
    },
    /// A running stream failed (the device went away, its server stopped). `rtmix record`
    /// writes the frames captured before it to its file first. Exit code 1.
    #[error("the device failed while running: {0}")]
    DeviceFailed(String),
    /// A recording lost frames to overruns. The file is written, with silence in their
    /// place. Exit code 1.
    #[error("{frames} frame{} lost to {xruns} overrun{} while recording {path}: the file holds silence in their place", crate::session::plural(*frames), crate::session::plural(*xruns))]
    FramesLost {
        /// The recording.
        path: PathBuf,
        /// Frames lost.
        frames: u64,
        /// Overruns (xruns) counted.
        xruns: u64,
    },
    /// A recording's file could not be written once its audio had been captured (a disk
    /// that filled up, a folder that went away). The audio is saved in a file of the
    /// temporary folder instead, when that works. Exit code 1.
    #[error("cannot write {path}: {source}; {}", rescue_note(*frames, saved))]
    RecordingNotSaved {
        /// The file asked for.
        path: PathBuf,
        /// Why it could not be written.
        source: std::io::Error,
        /// Frames recorded.
        frames: u64,
        /// Where they are instead, or why they could not be saved there either.
        saved: Result<PathBuf, String>,
    },
    /// `rtmix latency` did not hear its burst come back. Exit code 1.
    #[error("{0}")]
    NoEcho(String),
    /// Stopped by Ctrl-C before the work was done. Nothing is written, except by `rtmix
    /// record`, which keeps the frames captured until then. Exit code 130.
    #[error("interrupted: {0}")]
    Interrupted(String),
}

impl Error {
    /// The exit code for this error: 2 for bad input (a session, a file, an argument, a
    /// device that is missing or refuses the configuration, a sound server that is not
    /// running), 1 for a failure while running (a device that went away, frames lost, no
    /// echo), 130 after Ctrl-C.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::DeviceFailed(_)
            | Error::FramesLost { .. }
            | Error::RecordingNotSaved { .. }
            | Error::NoEcho(_) => 1,
            Error::Interrupted(_) => 130,
            _ => 2,
        }
    }
}

fn rescue_note(frames: u64, saved: &Result<PathBuf, String>) -> String {
    let what = format!(
        "the {frames} frame{} recorded",
        crate::session::plural(frames)
    );
    match saved {
        Ok(path) => format!("{what} are saved in {} instead", path.display()),
        Err(why) => format!("{what} could not be saved elsewhere either ({why}) and are lost"),
    }
}

/// Turns a hound error on an output file into an [`Error::Output`].
pub(crate) fn output_error(path: &std::path::Path, e: hound::Error) -> Error {
    let source = match e {
        hound::Error::IoError(io) => io,
        other => std::io::Error::other(other.to_string()),
    };
    Error::Output {
        path: path.to_owned(),
        source,
    }
}
