//! Writing WAV files: 32-bit float by default, or 16- or 24-bit integers converted with
//! `rtmix_core::convert` (round half away from zero, clamped, counted). A file is written
//! under a temporary name in its folder and renamed into place only when everything has
//! succeeded: a failed or interrupted render leaves no partial output behind.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rtmix_core::convert::{encode, I24};

use crate::error::{output_error, Error};

/// A sample format for output files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// 32-bit IEEE float, the engine's own samples, unchanged.
    #[default]
    F32,
    /// 16-bit signed integers.
    S16,
    /// 24-bit signed integers (packed, 3 bytes).
    S24,
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "f32" => Ok(Format::F32),
            "s16" => Ok(Format::S16),
            "s24" => Ok(Format::S24),
            other => Err(format!(
                "unknown sample format {other:?}: use f32, s16 or s24"
            )),
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::F32 => "32-bit float",
            Format::S16 => "16-bit integer",
            Format::S24 => "24-bit integer",
        })
    }
}

impl Format {
    fn spec(self, channels: u16, rate: u32) -> hound::WavSpec {
        let (bits_per_sample, sample_format) = match self {
            Format::F32 => (32, hound::SampleFormat::Float),
            Format::S16 => (16, hound::SampleFormat::Int),
            Format::S24 => (24, hound::SampleFormat::Int),
        };
        hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample,
            sample_format,
        }
    }
}

/// Where rendered samples go, block by block.
pub trait Sink {
    /// Appends interleaved samples.
    fn write(&mut self, samples: &[f32]) -> Result<(), Error>;
}

impl Sink for Vec<f32> {
    fn write(&mut self, samples: &[f32]) -> Result<(), Error> {
        self.extend_from_slice(samples);
        Ok(())
    }
}

/// A WAV file being written under a temporary name; [`commit`](Self::commit) renames it
/// into place, and dropping it uncommitted removes it.
pub struct WavFile {
    path: PathBuf,
    temp: PathBuf,
    writer: Option<hound::WavWriter<BufWriter<File>>>,
    format: Format,
    /// Samples that had to be clamped by the integer conversion.
    clamped: u64,
    scratch16: Vec<i16>,
    scratch24: Vec<I24>,
}

impl std::fmt::Debug for WavFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavFile")
            .field("path", &self.path)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl WavFile {
    /// Creates the temporary file for `path` at once, so that an unwritable path fails
    /// before any work is done.
    pub fn create(path: &Path, channels: u16, rate: u32, format: Format) -> Result<Self, Error> {
        Self::open(path, format, format.spec(channels, rate), 0)
    }

    /// Like [`create`](Self::create), and also claims the disk space of `frames` frames
    /// at once, so that a disk without room for a whole recording says so before the
    /// recording starts, not after it (where the file system can claim space ahead;
    /// elsewhere a full disk is found when the file is written).
    pub fn create_for(
        path: &Path,
        channels: u16,
        rate: u32,
        format: Format,
        frames: u64,
    ) -> Result<Self, Error> {
        let spec = format.spec(channels, rate);
        let bytes = frames
            .saturating_mul(u64::from(channels) * u64::from(spec.bits_per_sample / 8))
            .saturating_add(HEADER_ROOM);
        Self::open(path, format, spec, bytes)
    }

    fn open(
        path: &Path,
        format: Format,
        spec: hound::WavSpec,
        reserve: u64,
    ) -> Result<Self, Error> {
        let name = path
            .file_name()
            .ok_or_else(|| Error::Output {
                path: path.to_owned(),
                source: std::io::Error::other("not a file name"),
            })?
            .to_string_lossy()
            .into_owned();
        let temp = path.with_file_name(format!(".{name}.rtmix-partial-{}", std::process::id()));
        if path.is_dir() {
            return Err(Error::Output {
                path: path.to_owned(),
                source: std::io::Error::other("it is a folder"),
            });
        }
        let fail = |source| Error::Output {
            path: path.to_owned(),
            source,
        };
        let file = File::create(&temp).map_err(fail)?;
        if let Err(e) = claim_space(&file, reserve) {
            drop(file);
            let _ = std::fs::remove_file(&temp);
            return Err(fail(std::io::Error::new(
                e.kind(),
                format!("the disk has no room for the {reserve} bytes it needs ({e})"),
            )));
        }
        let writer = hound::WavWriter::new(BufWriter::new(file), spec).map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            output_error(path, e)
        })?;
        Ok(Self {
            path: path.to_owned(),
            temp,
            writer: Some(writer),
            format,
            clamped: 0,
            scratch16: Vec::new(),
            scratch24: Vec::new(),
        })
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Samples clamped so far by the conversion to integers (always 0 for float).
    pub fn clamped(&self) -> u64 {
        self.clamped
    }

    /// Finishes the file and renames it into place; on failure, removes it.
    pub fn commit(mut self) -> Result<(), Error> {
        let writer = self.writer.take().expect("written once");
        let fail = |source| Error::Output {
            path: self.path.clone(),
            source,
        };
        let done = writer
            .finalize()
            .map_err(|e| output_error(&self.path, e))
            .and_then(|()| cut_to_riff(&self.temp).map_err(fail))
            .and_then(|()| std::fs::rename(&self.temp, &self.path).map_err(fail));
        if done.is_err() {
            let _ = std::fs::remove_file(&self.temp);
        }
        done
    }
}

impl Sink for WavFile {
    fn write(&mut self, samples: &[f32]) -> Result<(), Error> {
        let path = self.path.clone();
        let writer = self.writer.as_mut().expect("not committed");
        let fail = |e| output_error(&path, e);
        match self.format {
            Format::F32 => {
                for &s in samples {
                    writer.write_sample(s).map_err(fail)?;
                }
            }
            Format::S16 => {
                self.scratch16.clear();
                self.scratch16.resize(samples.len(), 0);
                self.clamped += encode(samples, &mut self.scratch16) as u64;
                for &s in &self.scratch16 {
                    writer.write_sample(s).map_err(fail)?;
                }
            }
            Format::S24 => {
                self.scratch24.clear();
                self.scratch24.resize(samples.len(), I24(0));
                self.clamped += encode(samples, &mut self.scratch24) as u64;
                for &I24(v) in &self.scratch24 {
                    writer.write_sample(v).map_err(fail)?;
                }
            }
        }
        Ok(())
    }
}

/// More than any header hound writes (44 bytes, or 68 with `WAVE_FORMAT_EXTENSIBLE`).
const HEADER_ROOM: u64 = 128;

/// Claims `bytes` of disk for `file` now: `fallocate`, which makes the file that long.
/// A file system that cannot claim space ahead is left to say so when it is written.
#[cfg(target_os = "linux")]
fn claim_space(file: &File, bytes: u64) -> std::io::Result<()> {
    use rustix::fs::{fallocate, FallocateFlags};
    use rustix::io::Errno;
    if bytes == 0 {
        return Ok(());
    }
    match fallocate(file, FallocateFlags::empty(), 0, bytes) {
        Ok(()) | Err(Errno::OPNOTSUPP | Errno::NOSYS) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(target_os = "linux"))]
fn claim_space(_: &File, _: u64) -> std::io::Result<()> {
    Ok(())
}

/// Cuts a finished WAV file to the length its RIFF header gives, giving back whatever
/// [`claim_space`] claimed beyond the audio.
fn cut_to_riff(path: &Path) -> std::io::Result<()> {
    use std::io::Read;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)?;
    let mut header = [0u8; 8];
    file.read_exact(&mut header)?;
    let riff = u64::from(u32::from_le_bytes([
        header[4], header[5], header[6], header[7],
    ]));
    // A RIFF chunk is padded to an even length.
    let end = 8 + riff + (riff & 1);
    if file.metadata()?.len() > end {
        file.set_len(end)?;
    }
    Ok(())
}

impl Drop for WavFile {
    fn drop(&mut self) {
        if let Some(writer) = self.writer.take() {
            drop(writer);
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}
