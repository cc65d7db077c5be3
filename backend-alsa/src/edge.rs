//! Conversion at the device's edge for loops that map the buffer as bytes: any
//! [`SampleFormat`] from and to the engine's `f32`, little-endian, with rtmix-core's rules
//! (rounding half away from zero, clamping, NaN to 0).

use rtmix_core::convert::{I24Packed, Sample, I24};

use crate::SampleFormat;

/// Writes `src` into `dst` (`src.len() * format.bytes()` bytes) in `format`; returns the
/// samples clamped.
pub(crate) fn encode_bytes(format: SampleFormat, src: &[f32], dst: &mut [u8]) -> u64 {
    let mut clipped = 0;
    let mut put = |bytes: &[u8], d: &mut [u8], c: bool| {
        d.copy_from_slice(bytes);
        clipped += u64::from(c);
    };
    let width = format.bytes();
    for (&x, d) in src.iter().zip(dst.chunks_exact_mut(width)) {
        match format {
            SampleFormat::F32 => put(&f32::from_f32(x).0.to_le_bytes(), d, false),
            SampleFormat::I32 => {
                let (v, c) = i32::from_f32(x);
                put(&v.to_le_bytes(), d, c);
            }
            SampleFormat::I24 => {
                let (v, c) = I24::from_f32(x);
                put(&v.0.to_le_bytes(), d, c);
            }
            SampleFormat::I24Packed => {
                let (v, c) = I24Packed::from_f32(x);
                put(&v.0, d, c);
            }
            SampleFormat::I16 => {
                let (v, c) = i16::from_f32(x);
                put(&v.to_le_bytes(), d, c);
            }
            // Not among `FORMATS`: no device is ever opened in it (`open` refuses it).
            // Silence, rather than a panic on the audio thread.
            _ => d.fill(0),
        }
    }
    clipped
}

/// Reads `src` (samples in `format`) into `dst`.
pub(crate) fn decode_bytes(format: SampleFormat, src: &[u8], dst: &mut [f32]) {
    let width = format.bytes();
    for (s, d) in src.chunks_exact(width).zip(dst.iter_mut()) {
        *d = match format {
            SampleFormat::F32 => f32::from_le_bytes([s[0], s[1], s[2], s[3]]),
            SampleFormat::I32 => i32::from_le_bytes([s[0], s[1], s[2], s[3]]).to_f32(),
            // The low 24 bits, sign-extended.
            SampleFormat::I24 => {
                I24((i32::from_le_bytes([s[0], s[1], s[2], s[3]]) << 8) >> 8).to_f32()
            }
            SampleFormat::I24Packed => I24Packed([s[0], s[1], s[2]]).to_f32(),
            SampleFormat::I16 => i16::from_le_bytes([s[0], s[1]]).to_f32(),
            // Not among `FORMATS` (see `encode_bytes`).
            _ => 0.0,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every format round-trips through bytes the way the typed conversions do, at the
    /// boundaries and beyond them.
    #[test]
    fn bytes_agree_with_the_typed_conversions() {
        let values = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            1.0 / 65_536.0,
            -1.0 / 8_388_608.0,
            0.999_999_9,
        ];
        for format in crate::FORMATS {
            let mut bytes = vec![0u8; values.len() * format.bytes()];
            let clipped = encode_bytes(format, &values, &mut bytes);
            let mut back = vec![0.0; values.len()];
            decode_bytes(format, &bytes, &mut back);
            for (i, &x) in values.iter().enumerate() {
                let want = match format {
                    SampleFormat::F32 => x,
                    SampleFormat::I32 => i32::from_f32(x).0.to_f32(),
                    SampleFormat::I24 => I24::from_f32(x).0.to_f32(),
                    SampleFormat::I24Packed => I24Packed::from_f32(x).0.to_f32(),
                    SampleFormat::I16 => i16::from_f32(x).0.to_f32(),
                    other => unreachable!("{other:?} is not among FORMATS"),
                };
                assert!(
                    want.to_bits() == back[i].to_bits() || (want.is_nan() && back[i].is_nan()),
                    "{format:?} {x}: {} != {want}",
                    back[i]
                );
            }
            let want_clipped = match format {
                SampleFormat::F32 => 0,
                // 1.5, -1.5, both infinities; 1.0 is clamped to the largest positive code.
                _ => values.iter().filter(|&&x| i16::from_f32(x).1).count() as u64,
            };
            assert_eq!(clipped, want_clipped, "{format:?}");
        }
    }
}
