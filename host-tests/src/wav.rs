//! Writing rendered audio to WAV files (32-bit float), through hound.

use std::path::Path;

/// Writes interleaved `samples` as a 32-bit float WAV file.
pub fn write_f32(
    path: &Path,
    channels: u16,
    rate: u32,
    samples: &[f32],
) -> Result<(), hound::Error> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(path, spec)?;
    for &s in samples {
        writer.write_sample(s)?;
    }
    writer.finalize()
}
