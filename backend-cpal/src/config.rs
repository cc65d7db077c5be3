//! What rtmix-cpal makes of the shared [`Config`](crate::Config): the sample formats it
//! speaks, under the shared names, and their cpal names.

use crate::SampleFormat;

/// The sample formats rtmix-cpal speaks to a device, in the order they are tried when
/// [`Config::format`](crate::Config::format) is `None`: `f32`, then the widest integer,
/// then the rest. All but `F32` go through a scratch block, converted with rtmix-core's
/// `convert` (rounding half away from zero, clamping, NaN to 0; unsigned formats are
/// offset binary). cpal has no packed 24-bit format: `I24Packed` is not among them.
///
/// ```
/// use rtmix_cpal::{SampleFormat, FORMATS};
/// assert_eq!(FORMATS[0], SampleFormat::F32);
/// assert!(!FORMATS.contains(&SampleFormat::I24Packed));
/// ```
pub const FORMATS: [SampleFormat; 9] = [
    SampleFormat::F32,
    SampleFormat::I32,
    SampleFormat::I24,
    SampleFormat::I16,
    SampleFormat::F64,
    SampleFormat::U32,
    SampleFormat::U16,
    SampleFormat::I8,
    SampleFormat::U8,
];

/// cpal's name for a format, for those of [`FORMATS`].
///
/// ```
/// use rtmix_cpal::{to_cpal, SampleFormat};
/// assert_eq!(to_cpal(SampleFormat::I24), Some(cpal::SampleFormat::I24));
/// assert_eq!(to_cpal(SampleFormat::I24Packed), None);
/// ```
pub fn to_cpal(format: SampleFormat) -> Option<cpal::SampleFormat> {
    Some(match format {
        SampleFormat::F32 => cpal::SampleFormat::F32,
        SampleFormat::F64 => cpal::SampleFormat::F64,
        SampleFormat::I32 => cpal::SampleFormat::I32,
        SampleFormat::I24 => cpal::SampleFormat::I24,
        SampleFormat::I16 => cpal::SampleFormat::I16,
        SampleFormat::U16 => cpal::SampleFormat::U16,
        SampleFormat::U32 => cpal::SampleFormat::U32,
        SampleFormat::I8 => cpal::SampleFormat::I8,
        SampleFormat::U8 => cpal::SampleFormat::U8,
        SampleFormat::I24Packed => return None,
    })
}

/// Ours for a cpal format, or `None` for those rtmix does not convert (64-bit
/// integers, DSD).
///
/// ```
/// use rtmix_cpal::{from_cpal, SampleFormat};
/// assert_eq!(from_cpal(cpal::SampleFormat::U16), Some(SampleFormat::U16));
/// assert_eq!(from_cpal(cpal::SampleFormat::I64), None);
/// ```
pub fn from_cpal(format: cpal::SampleFormat) -> Option<SampleFormat> {
    FORMATS.into_iter().find(|&f| to_cpal(f) == Some(format))
}
