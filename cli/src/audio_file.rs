//! Reading audio files: WAV through hound (integer samples converted exactly with
//! `rtmix_core::convert`), every other format through symphonia, and resampling to the
//! session's rate through rubato. All of it happens before the render starts, off the
//! audio path.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;

use rtmix_core::convert::{Sample, I24};

use crate::error::AudioProblem;

/// Decoded audio: interleaved `f32` samples.
#[derive(Clone, Debug, PartialEq)]
pub struct Audio {
    /// Channels per frame.
    pub channels: u16,
    /// Frames per second.
    pub rate: u32,
    /// Interleaved samples, `channels` per frame.
    pub samples: Vec<f32>,
    /// What it was decoded from ("WAV, 16-bit integer", "FLAC (symphonia)").
    pub format: String,
    /// The rate it had before [`resample`] changed it.
    pub resampled_from: Option<u32>,
}

impl Audio {
    /// Its length in frames.
    pub fn frames(&self) -> u64 {
        (self.samples.len() / usize::from(self.channels.max(1))) as u64
    }
}

/// Reads the audio file at `path`: WAV (RIFF/WAVE) through hound, anything else through
/// symphonia (FLAC, Ogg Vorbis, MP3, AIFF, and WAV encodings hound does not read).
pub fn load(path: &Path) -> Result<Audio, AudioProblem> {
    let mut file = File::open(path).map_err(|e| match e.kind() {
        ErrorKind::NotFound => AudioProblem::NotFound,
        _ => AudioProblem::Unreadable(e),
    })?;
    if file.metadata().map_err(AudioProblem::Unreadable)?.is_dir() {
        return Err(AudioProblem::Unreadable(std::io::Error::other(
            "it is a folder",
        )));
    }
    let mut head = [0u8; 12];
    let n = read_up_to(&mut file, &mut head).map_err(AudioProblem::Unreadable)?;
    drop(file);
    let audio = if n == 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WAVE" {
        match contained(|| load_wav(path)) {
            // hound reads PCM and float; symphonia also knows ADPCM, A-law, mu-law.
            Err(AudioProblem::Unsupported(_)) => contained(|| load_symphonia(path))?,
            other => other?,
        }
    } else {
        contained(|| load_symphonia(path))?
    };
    if !(MIN_FILE_RATE..=crate::session::MAX_RATE).contains(&audio.rate) {
        // Resampling from an absurd rate plans absurd work (found by fuzzing: a WAV header
        // claiming 3.4 GHz hung the render; a 1 Hz AIFF took 2.9 GB and 5 s).
        return Err(AudioProblem::Unsupported(format!(
            "a sample rate of {} Hz (rtmix takes {MIN_FILE_RATE} to {} Hz)",
            audio.rate,
            crate::session::MAX_RATE
        )));
    }
    if audio.samples.is_empty() {
        return Err(AudioProblem::Empty);
    }
    if let Some(index) = audio.samples.iter().position(|s| !s.is_finite()) {
        return Err(AudioProblem::NonFinite { index });
    }
    Ok(audio)
}

/// The lowest sample rate a file may have: below it no real audio exists, and resampling
/// from it would take gigabytes.
pub const MIN_FILE_RATE: u32 = 1_000;

/// Runs a decoder, turning a panic inside it into a decode error. The decoders are other
/// crates' code, and fuzzing found files that make them panic (symphonia 0.5.5 on a 0 Hz
/// AIFF, an arithmetic overflow on a WAV header): a bad file must be an error, never a
/// crash. The panic's message is kept in the error and not printed by the default hook.
fn contained(decode: impl FnOnce() -> Result<Audio, AudioProblem>) -> Result<Audio, AudioProblem> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode));
    std::panic::set_hook(hook);
    result.unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        Err(AudioProblem::Decode(format!(
            "its decoder failed on it ({message})"
        )))
    })
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn hound_problem(e: hound::Error) -> AudioProblem {
    match e {
        // hound reports a short read as "Failed to read enough bytes".
        hound::Error::IoError(io)
            if io.kind() == ErrorKind::UnexpectedEof || io.to_string().contains("enough bytes") =>
        {
            AudioProblem::Truncated("the file ends inside its header or its samples".into())
        }
        hound::Error::IoError(io) => AudioProblem::Unreadable(io),
        hound::Error::Unsupported => {
            AudioProblem::Unsupported("a WAV encoding hound does not read".into())
        }
        hound::Error::FormatError(m) => AudioProblem::Decode(format!("malformed WAV: {m}")),
        other => AudioProblem::Decode(other.to_string()),
    }
}

/// Reads a WAV file with hound. Integer samples become `v / 2^(bits-1)`, exactly as the
/// core's device conversion does.
fn load_wav(path: &Path) -> Result<Audio, AudioProblem> {
    let mut reader = hound::WavReader::open(path).map_err(hound_problem)?;
    let spec = reader.spec();
    let announced = u64::from(reader.len());
    let samples: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => reader
            .samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(hound_problem)?,
        (hound::SampleFormat::Int, 8) => convert(reader.samples::<i8>())?,
        (hound::SampleFormat::Int, 16) => convert(reader.samples::<i16>())?,
        (hound::SampleFormat::Int, 24) => reader
            .samples::<i32>()
            .map(|s| s.map(|v| I24(v).to_f32()))
            .collect::<Result<_, _>>()
            .map_err(hound_problem)?,
        (hound::SampleFormat::Int, 32) => convert(reader.samples::<i32>())?,
        (format, bits) => {
            return Err(AudioProblem::Unsupported(format!(
                "{bits}-bit {}",
                match format {
                    hound::SampleFormat::Float => "float",
                    hound::SampleFormat::Int => "integer",
                }
            )))
        }
    };
    if (samples.len() as u64) < announced {
        return Err(AudioProblem::Truncated(format!(
            "its header announces {announced} samples, it holds {}",
            samples.len()
        )));
    }
    let kind = match spec.sample_format {
        hound::SampleFormat::Float => "float",
        hound::SampleFormat::Int => "integer",
    };
    Ok(Audio {
        channels: spec.channels,
        rate: spec.sample_rate,
        samples,
        format: format!("WAV, {}-bit {kind}", spec.bits_per_sample),
        resampled_from: None,
    })
}

fn convert<S: Sample>(
    samples: impl Iterator<Item = Result<S, hound::Error>>,
) -> Result<Vec<f32>, AudioProblem> {
    samples
        .map(|s| s.map(Sample::to_f32))
        .collect::<Result<_, _>>()
        .map_err(hound_problem)
}

/// Decodes any format symphonia knows.
fn load_symphonia(path: &Path) -> Result<Audio, AudioProblem> {
    use symphonia::core::audio::SampleBuffer;
    use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
    use symphonia::core::errors::Error as SymError;
    use symphonia::core::formats::FormatOptions;
    use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
    use symphonia::core::meta::MetadataOptions;
    use symphonia::core::probe::Hint;

    let file = File::open(path).map_err(AudioProblem::Unreadable)?;
    let stream = MediaSourceStream::new(Box::new(file), MediaSourceStreamOptions::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            stream,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|e| match e {
            SymError::Unsupported(_) => AudioProblem::NotAudio,
            SymError::IoError(io) if io.kind() == ErrorKind::UnexpectedEof => {
                AudioProblem::NotAudio
            }
            other => AudioProblem::Decode(other.to_string()),
        })?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or(AudioProblem::NotAudio)?;
    let track_id = track.id;
    let params = track.codec_params.clone();
    let rate = params
        .sample_rate
        .ok_or_else(|| AudioProblem::Decode("no sample rate".into()))?;
    let announced = params.n_frames;
    let codec = symphonia::default::get_codecs()
        .get_codec(params.codec)
        .map_or_else(
            || "unknown codec".to_owned(),
            |c| c.short_name.to_uppercase(),
        );
    let mut decoder = symphonia::default::get_codecs()
        .make(&params, &DecoderOptions::default())
        .map_err(|e| AudioProblem::Unsupported(e.to_string()))?;
    let mut channels = params.channels.map(|c| c.count() as u16);
    let mut samples: Vec<f32> = Vec::new();
    let mut buffer: Option<SampleBuffer<f32>> = None;
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(SymError::IoError(e)) if e.kind() == ErrorKind::UnexpectedEof => break,
            Err(SymError::ResetRequired) => break,
            Err(e) => return Err(AudioProblem::Decode(e.to_string())),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(d) => d,
            Err(SymError::DecodeError(m)) => {
                return Err(AudioProblem::Decode(format!("corrupt audio: {m}")))
            }
            Err(SymError::IoError(e)) if e.kind() == ErrorKind::UnexpectedEof => {
                return Err(AudioProblem::Truncated("it ends inside a packet".into()))
            }
            Err(e) => return Err(AudioProblem::Decode(e.to_string())),
        };
        let spec = *decoded.spec();
        channels.get_or_insert(spec.channels.count() as u16);
        let buf = match &mut buffer {
            Some(b) if b.capacity() >= decoded.capacity() * spec.channels.count() => b,
            _ => buffer.insert(SampleBuffer::new(decoded.capacity() as u64, spec)),
        };
        buf.copy_interleaved_ref(decoded);
        samples.extend_from_slice(buf.samples());
    }
    let channels = channels.filter(|&c| c > 0).ok_or(AudioProblem::NotAudio)?;
    let frames = samples.len() as u64 / u64::from(channels);
    // symphonia's AIFF reader counts the 8-byte header of the sound chunk as audio, so a
    // few frames' shortfall is not taken for a truncation.
    if let Some(n) = announced {
        if frames + 8 < n {
            return Err(AudioProblem::Truncated(format!(
                "its header announces {n} frames, it holds {frames}"
            )));
        }
    }
    Ok(Audio {
        channels,
        rate,
        samples,
        format: format!("{codec} (decoded with symphonia)"),
        resampled_from: None,
    })
}

/// The frame count of `frames` frames at `from` Hz once resampled to `to` Hz, rounded to
/// the nearest frame (halves up).
///
/// ```
/// assert_eq!(rtmix_cli::audio_file::resampled_len(44_100, 44_100, 48_000), 48_000);
/// assert_eq!(rtmix_cli::audio_file::resampled_len(1, 44_100, 48_000), 1);
/// ```
pub fn resampled_len(frames: u64, from: u32, to: u32) -> u64 {
    let num = u128::from(frames) * u128::from(to);
    let den = u128::from(from);
    ((2 * num + den) / (2 * den)) as u64
}

/// Resamples `audio` to `to` Hz with rubato's FFT resampler (in `f64`), trimming its
/// delay so that frame 0 stays frame 0; the result has
/// [`resampled_len`]`(frames, from, to)` frames. Audio already at `to` Hz is returned
/// as it is.
pub fn resample(audio: Audio, to: u32) -> Result<Audio, AudioProblem> {
    use rubato::{FftFixedIn, Resampler};

    let from = audio.rate;
    if from == to {
        return Ok(audio);
    }
    let problem = |message: String| AudioProblem::Resample { from, to, message };
    let channels = usize::from(audio.channels);
    let frames = audio.samples.len() / channels;
    let wanted = resampled_len(frames as u64, from, to) as usize;
    let chunk = 1024;
    let mut resampler = FftFixedIn::<f64>::new(from as usize, to as usize, chunk, 2, channels)
        .map_err(|e| problem(e.to_string()))?;
    let delay = resampler.output_delay();
    let planar: Vec<Vec<f64>> = (0..channels)
        .map(|c| {
            audio.samples[c..]
                .iter()
                .step_by(channels)
                .map(|&s| f64::from(s))
                .collect()
        })
        .collect();
    let mut out: Vec<Vec<f64>> = vec![Vec::with_capacity(wanted + delay); channels];
    let mut pos = 0;
    while out[0].len() < wanted + delay {
        let need = resampler.input_frames_next();
        let produced = if pos + need <= frames {
            let slices: Vec<&[f64]> = planar.iter().map(|ch| &ch[pos..pos + need]).collect();
            pos += need;
            resampler.process(&slices, None)
        } else if pos < frames {
            let slices: Vec<&[f64]> = planar.iter().map(|ch| &ch[pos..]).collect();
            pos = frames;
            resampler.process_partial(Some(&slices), None)
        } else {
            resampler.process_partial::<&[f64]>(None, None)
        }
        .map_err(|e| problem(e.to_string()))?;
        for (o, p) in out.iter_mut().zip(produced) {
            o.extend_from_slice(&p);
        }
    }
    let mut samples = Vec::with_capacity(wanted * channels);
    for i in delay..delay + wanted {
        for ch in &out {
            samples.push(ch[i] as f32);
        }
    }
    Ok(Audio {
        samples,
        rate: to,
        resampled_from: Some(from),
        ..audio
    })
}
